package edgeoutbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/edgeoutbox/edgeoutbox/internal/jsonenc"
)

// errMissing marks a missing value; callers turn it into "is required" or omit the field.
var errMissing = errors.New("is required")

// castError is a value that cannot be cast; its text completes "value of Go type T ...".
type castError string

func (e castError) Error() string { return string(e) }

func cannot(t FieldType, why string) error {
	if why == "" {
		return castError("cannot be cast to " + string(t))
	}
	return castError("cannot be cast to " + string(t) + ": " + why)
}

// maxIndirections is how many pointers and interfaces deref follows. A value is
// rarely behind more than two; the limit stops a pointer cycle (var x any; x = &x)
// from looping forever.
const maxIndirections = 32

// errTooDeep refuses a value behind more than maxIndirections pointers or interfaces.
var errTooDeep = castError(fmt.Sprintf("is behind more than %d pointers or interfaces (a pointer cycle?)", maxIndirections))

// deref follows pointers and interfaces; the error is errMissing for nil and
// errTooDeep for a chain longer than maxIndirections.
func deref(v any) (reflect.Value, error) {
	return indirect(reflect.ValueOf(v))
}

// indirect is deref for a reflect.Value.
func indirect(rv reflect.Value) (reflect.Value, error) {
	for n := 0; rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface; n++ {
		if rv.IsNil() {
			return rv, errMissing
		}
		if n == maxIndirections {
			return rv, errTooDeep
		}
		rv = rv.Elem()
	}
	if !rv.IsValid() {
		return rv, errMissing
	}
	return rv, nil
}

func castString(v any) (string, error) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case nil:
		return "", errMissing
	case *string:
		if x == nil {
			return "", errMissing
		}
		s = *x
	default:
		rv, err := deref(v)
		if err != nil {
			return "", err
		}
		if rv.Kind() != reflect.String {
			return "", cannot(String, "only strings are accepted")
		}
		s = rv.String()
	}
	if !utf8.ValidString(s) {
		return "", cannot(String, "not valid UTF-8")
	}
	return s, nil
}

const (
	twoTo63 = 9223372036854775808.0 // 2^63, exactly representable
	twoTo64 = 18446744073709551616.0
)

func floatToInt(f float64) (int64, error) {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return 0, cannot(Int, "not a finite number")
	case f != math.Trunc(f):
		return 0, cannot(Int, "not a whole number")
	case f < -twoTo63 || f >= twoTo63:
		return 0, cannot(Int, "out of int64 range")
	}
	return int64(f), nil
}

func castInt(v any) (int64, error) {
	switch x := v.(type) {
	case int:
		return int64(x), nil
	case int64:
		return x, nil
	case int32:
		return int64(x), nil
	case float64:
		return floatToInt(x)
	case string:
		return parseIntString(x)
	case json.Number:
		return parseIntNumber(string(x))
	case nil:
		return 0, errMissing
	case *int64:
		if x == nil {
			return 0, errMissing
		}
		return *x, nil
	case *int:
		if x == nil {
			return 0, errMissing
		}
		return int64(*x), nil
	}
	rv, err := deref(v)
	if err != nil {
		return 0, err
	}
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := rv.Uint()
		if u > math.MaxInt64 {
			return 0, cannot(Int, "out of int64 range")
		}
		return int64(u), nil
	case reflect.Float32, reflect.Float64:
		return floatToInt(rv.Float())
	case reflect.String:
		if rv.Type() == reflect.TypeFor[json.Number]() {
			return parseIntNumber(rv.String())
		}
		return parseIntString(rv.String())
	}
	return 0, cannot(Int, "")
}

// parseIntString accepts a JSON integer literal: -?(0|[1-9][0-9]*).
func parseIntString(s string) (int64, error) {
	if !isJSONNumber(s) || !isJSONInteger(s) {
		return 0, cannot(Int, fmt.Sprintf("string %s is not an integer literal", quoteShort(s)))
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, cannot(Int, "out of int64 range")
	}
	return n, nil
}

// parseIntNumber accepts a json.Number holding a whole number.
func parseIntNumber(s string) (int64, error) {
	if !isJSONNumber(s) {
		return 0, cannot(Int, fmt.Sprintf("json.Number %s is not a number", quoteShort(s)))
	}
	if isJSONInteger(s) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, cannot(Int, "out of int64 range")
		}
		return n, nil
	}
	return decimalToInt(s)
}

// decimalToInt converts a JSON number literal with a fraction or exponent to int64,
// deciding on the decimal text itself: going through float64 would round
// "9007199254740993.0" to ...992 and "1.0000000000000000001" to 1.
func decimalToInt(s string) (int64, error) {
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	mant, exp := s, ""
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant, exp = s[:i], s[i+1:]
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := strings.TrimLeft(intPart+frac, "0")
	if digits == "" {
		return 0, nil // zero, whatever the exponent ("0e999", "-0.0")
	}
	// The value is digits × 10^e. The exponent saturates so that a huge one cannot
	// overflow; no string is ever built from it.
	e := -len(frac)
	if exp != "" {
		expNeg := exp[0] == '-'
		if exp[0] == '-' || exp[0] == '+' {
			exp = exp[1:]
		}
		x := 0
		for i := 0; i < len(exp) && x < 1<<30; i++ {
			x = x*10 + int(exp[i]-'0')
		}
		if expNeg {
			x = -x
		}
		e += x
	}
	trimmed := strings.TrimRight(digits, "0")
	e += len(digits) - len(trimmed)
	digits = trimmed
	switch {
	case e < 0:
		return 0, cannot(Int, "not a whole number")
	case len(digits)+e > 19:
		return 0, cannot(Int, "out of range for int64")
	}
	text := digits + strings.Repeat("0", e)
	if neg {
		text = "-" + text
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, cannot(Int, "out of range for int64")
	}
	return n, nil
}

func castFloat(v any) (float64, error) {
	f, _, err := castFloatBits(v)
	return f, err
}

// castFloatBits is castFloat that also reports 32 for a float32 value, which is then
// written with float32 digits (0.1, not 0.10000000149011612) as encoding/json does.
func castFloatBits(v any) (float64, int, error) {
	f, bits := 0.0, 64
	switch x := v.(type) {
	case float64:
		f = x
	case float32:
		f, bits = float64(x), 32
	case int:
		return with64(intToFloat(int64(x)))
	case int64:
		return with64(intToFloat(x))
	case string:
		return with64(parseFloatString(x, "string"))
	case json.Number:
		return with64(parseFloatString(string(x), "json.Number"))
	case nil:
		return 0, 0, errMissing
	case *float64:
		if x == nil {
			return 0, 0, errMissing
		}
		f = *x
	default:
		rv, err := deref(v)
		if err != nil {
			return 0, 0, err
		}
		switch rv.Kind() {
		case reflect.Float32:
			f, bits = rv.Float(), 32
		case reflect.Float64:
			f = rv.Float()
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			return with64(intToFloat(rv.Int()))
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			u := rv.Uint()
			g := float64(u)
			if g >= twoTo64 || uint64(g) != u {
				return 0, 0, cannot(Float, "integer too large to hold exactly")
			}
			return g, 64, nil
		case reflect.String:
			what := "string"
			if rv.Type() == reflect.TypeFor[json.Number]() {
				what = "json.Number"
			}
			return with64(parseFloatString(rv.String(), what))
		default:
			return 0, 0, cannot(Float, "")
		}
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, 0, cannot(Float, "not a finite number")
	}
	return f, bits, nil
}

// with64 adds the bit size 64 to a float64 cast result.
func with64(f float64, err error) (float64, int, error) { return f, 64, err }

func intToFloat(n int64) (float64, error) {
	f := float64(n)
	if f >= twoTo63 || int64(f) != n {
		return 0, cannot(Float, "integer too large to hold exactly")
	}
	return f, nil
}

func parseFloatString(s, what string) (float64, error) {
	if !isJSONNumber(s) {
		return 0, cannot(Float, fmt.Sprintf("%s %s is not a number literal", what, quoteShort(s)))
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, cannot(Float, "out of float64 range")
	}
	if f == 0 && !isZeroLiteral(s) {
		// "1e-400" rounds to 0: storing 0 would silently change the value.
		return 0, cannot(Float, "too close to zero for float64")
	}
	return f, nil
}

// isZeroLiteral reports whether the JSON number literal s has only zero digits
// before its exponent.
func isZeroLiteral(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == 'e' || c == 'E':
			return true
		case c >= '1' && c <= '9':
			return false
		}
	}
	return true
}

func castBool(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case nil:
		return false, errMissing
	case *bool:
		if x == nil {
			return false, errMissing
		}
		return *x, nil
	}
	rv, err := deref(v)
	if err != nil {
		return false, err
	}
	switch rv.Kind() {
	case reflect.Bool:
		return rv.Bool(), nil
	case reflect.String:
		switch rv.String() {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return false, cannot(Bool, fmt.Sprintf("string %s is not \"true\" or \"false\"", quoteShort(rv.String())))
	}
	return false, cannot(Bool, "")
}

func castTime(v any) (time.Time, error) {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case nil:
		return t, errMissing
	case *time.Time:
		if x == nil {
			return t, errMissing
		}
		t = *x
	case string:
		return parseTimeString(x)
	default:
		rv, err := deref(v)
		if err != nil {
			return t, err
		}
		switch {
		case rv.Type() == reflect.TypeFor[time.Time]():
			t = rv.Interface().(time.Time)
		case rv.Kind() == reflect.String:
			return parseTimeString(rv.String())
		default:
			return t, cannot(Time, "only time.Time and RFC 3339 strings are accepted")
		}
	}
	if y := t.UTC().Year(); y < 0 || y > 9999 {
		return t, cannot(Time, "year outside 0-9999")
	}
	return t.UTC(), nil
}

func parseTimeString(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return t, cannot(Time, fmt.Sprintf("string %s is not an RFC 3339 time", quoteShort(s)))
	}
	if y := t.UTC().Year(); y < 0 || y > 9999 {
		return t, cannot(Time, "year outside 0-9999")
	}
	return t.UTC(), nil
}

// appendJSONValue appends the compact JSON encoding of v, refusing one nested deeper
// than MaxJSONDepth.
func appendJSONValue(buf []byte, v any) ([]byte, error) {
	n := len(buf)
	out, err := appendJSON(buf, v)
	if err == nil && jsonDepth(out[n:]) > MaxJSONDepth {
		return buf[:n], errTooNested
	}
	return out, err
}

func appendJSON(buf []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return buf, errMissing
	case json.RawMessage:
		return appendRawJSON(buf, x)
	case *json.RawMessage:
		if x == nil {
			return buf, errMissing
		}
		return appendRawJSON(buf, *x)
	}
	if _, err := deref(v); err == errTooDeep {
		// encoding/json finds a cycle only after 1000 levels, and none in a long chain.
		return buf, err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return buf, cannot(JSON, err.Error())
	}
	if string(b) == "null" {
		return buf, errMissing
	}
	return append(buf, b...), nil
}

func appendRawJSON(buf []byte, raw json.RawMessage) ([]byte, error) {
	if len(raw) == 0 {
		return buf, errMissing
	}
	if !utf8.Valid(raw) {
		// json.Valid accepts invalid UTF-8 inside strings; encoding/json would have
		// replaced it, and consumers may reject it.
		return buf, cannot(JSON, "json.RawMessage is not valid UTF-8")
	}
	n := len(buf)
	out, err := compactJSON(buf, raw)
	if err != nil {
		return buf, cannot(JSON, "json.RawMessage is not valid JSON")
	}
	if string(out[n:]) == "null" {
		return buf, errMissing
	}
	return out, nil
}

// appendValue casts v to t and appends its JSON encoding to buf. On error buf is
// returned unchanged in length.
func appendValue(buf []byte, t FieldType, v any) ([]byte, error) {
	switch t {
	case String:
		s, err := castString(v)
		if err != nil {
			return buf, err
		}
		return appendJSONString(buf, s), nil
	case Int:
		n, err := castInt(v)
		if err != nil {
			return buf, err
		}
		return strconv.AppendInt(buf, n, 10), nil
	case Float:
		f, bits, err := castFloatBits(v)
		if err != nil {
			return buf, err
		}
		return appendJSONFloat(buf, f, bits), nil
	case Bool:
		b, err := castBool(v)
		if err != nil {
			return buf, err
		}
		return strconv.AppendBool(buf, b), nil
	case Time:
		tm, err := castTime(v)
		if err != nil {
			return buf, err
		}
		buf = append(buf, '"')
		buf = tm.AppendFormat(buf, time.RFC3339Nano)
		return append(buf, '"'), nil
	case JSON:
		return appendJSONValue(buf, v)
	}
	return buf, castError("has unknown field type " + string(t))
}

// appendJSONFloat formats f the way encoding/json does; bits is 32 for a float32,
// which gets the shortest digits that identify the float32.
func appendJSONFloat(b []byte, f float64, bits int) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendJSONString appends s (valid UTF-8) as a JSON string; see jsonenc.AppendString.
func appendJSONString(b []byte, s string) []byte { return jsonenc.AppendString(b, s) }

// isJSONNumber reports whether s is a JSON number literal.
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return false
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return false
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	return i == len(s)
}

// isJSONInteger reports whether a JSON number literal has no fraction or exponent.
func isJSONInteger(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '.' || c == 'e' || c == 'E' {
			return false
		}
	}
	return true
}

// quoteShort quotes s for a message, cutting long values.
func quoteShort(s string) string {
	const max = 40
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}

// compactJSON appends the compact form of the JSON text src to dst.
func compactJSON(dst, src []byte) ([]byte, error) {
	if !json.Valid(src) {
		return dst, errors.New("invalid JSON")
	}
	var b bytes.Buffer
	if err := json.Compact(&b, src); err != nil {
		return dst, err
	}
	return append(dst, b.Bytes()...), nil
}
