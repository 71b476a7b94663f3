package edgeoutbox

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

type (
	castNamedString string
	castNamedInt    int16
	castNamedUint   uint32
	castNamedFloat  float32
	castNamedBool   bool
)

type castStringer struct{}

func (castStringer) String() string { return "s" }

func castPtr[T any](v T) *T { return &v }

type castCase struct {
	name string
	in   any
	want string // JSON encoding; "" means an error is expected
	err  string // part of the error text when want == ""
}

func runCastCases(t *testing.T, typ FieldType, cases []castCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := appendValue([]byte("x"), typ, c.in)
			if c.want != "" {
				if err != nil {
					t.Fatalf("appendValue(%#v) error: %v", c.in, err)
				}
				if string(got) != "x"+c.want {
					t.Fatalf("appendValue(%#v) = %s, want %s", c.in, got[1:], c.want)
				}
				if !json.Valid(got[1:]) {
					t.Fatalf("not valid JSON: %s", got[1:])
				}
				return
			}
			if err == nil {
				t.Fatalf("appendValue(%#v) = %s, want an error", c.in, got[1:])
			}
			if string(got) != "x" {
				t.Errorf("buffer changed on error: %q", got)
			}
			if c.err != "" && !strings.Contains(err.Error(), c.err) {
				t.Errorf("error %q, want it to contain %q", err, c.err)
			}
		})
	}
}

func TestCastString(t *testing.T) {
	runCastCases(t, String, []castCase{
		{"string", "hello", `"hello"`, ""},
		{"empty", "", `""`, ""},
		{"named", castNamedString("x"), `"x"`, ""},
		{"pointer", castPtr("p"), `"p"`, ""},
		{"pointer to named", castPtr(castNamedString("n")), `"n"`, ""},
		{"escapes", "a\"b\\c\n\t\r\x01", `"a\"b\\c\n\t\r\u0001"`, ""},
		{"html kept", "<a&b>", `"<a&b>"`, ""},
		{"unicode", "héllo ✓", `"héllo ✓"`, ""},
		{"line separator", "a\u2028b", `"a\u2028b"`, ""},
		{"nil", nil, "", "is required"},
		{"nil pointer", (*string)(nil), "", "is required"},
		{"invalid utf-8", "a\xffb", "", "not valid UTF-8"},
		{"bytes", []byte("x"), "", "cannot be cast to string"},
		{"int", 42, "", "cannot be cast to string"},
		{"bool", true, "", "cannot be cast to string"},
		{"castStringer", castStringer{}, "", "cannot be cast to string"},
		{"time", time.Unix(0, 0), "", "cannot be cast to string"},
	})
}

func TestCastInt(t *testing.T) {
	runCastCases(t, Int, []castCase{
		{"int", 42, "42", ""},
		{"negative", -7, "-7", ""},
		{"int8", int8(-8), "-8", ""},
		{"int16", int16(16), "16", ""},
		{"int32", int32(32), "32", ""},
		{"int64 max", int64(math.MaxInt64), "9223372036854775807", ""},
		{"int64 min", int64(math.MinInt64), "-9223372036854775808", ""},
		{"uint", uint(1), "1", ""},
		{"uint8", uint8(255), "255", ""},
		{"uint64 max int64", uint64(math.MaxInt64), "9223372036854775807", ""},
		{"named int", castNamedInt(3), "3", ""},
		{"named uint", castNamedUint(4), "4", ""},
		{"pointer", castPtr(int64(5)), "5", ""},
		{"pointer int", castPtr(6), "6", ""},
		{"pointer uint16", castPtr(uint16(7)), "7", ""},
		{"integral float", 1.0, "1", ""},
		{"integral float32", float32(2), "2", ""},
		{"negative zero", math.Copysign(0, -1), "0", ""},
		{"float -2^63", -9223372036854775808.0, "-9223372036854775808", ""},
		{"string", "42", "42", ""},
		{"negative string", "-42", "-42", ""},
		{"zero string", "0", "0", ""},
		{"named string", castNamedString("9"), "9", ""},
		{"json.Number", json.Number("12"), "12", ""},
		{"json.Number float form", json.Number("4.0"), "4", ""},
		{"json.Number exponent", json.Number("1e3"), "1000", ""},
		{"nil", nil, "", "is required"},
		{"nil pointer", (*int)(nil), "", "is required"},
		{"uint64 overflow", uint64(math.MaxInt64) + 1, "", "out of int64 range"},
		{"fraction", 1.5, "", "not a whole number"},
		{"NaN", math.NaN(), "", "not a finite number"},
		{"Inf", math.Inf(1), "", "not a finite number"},
		{"float 2^63", 9223372036854775808.0, "", "out of int64 range"},
		{"huge float", 1e300, "", "out of int64 range"},
		{"bool", true, "", "cannot be cast to int"},
		{"string with space", " 42", "", "not an integer literal"},
		{"string trailing space", "42 ", "", "not an integer literal"},
		{"string plus", "+42", "", "not an integer literal"},
		{"string leading zero", "042", "", "not an integer literal"},
		{"string fraction", "4.0", "", "not an integer literal"},
		{"string exponent", "1e3", "", "not an integer literal"},
		{"string hex", "0x10", "", "not an integer literal"},
		{"string underscore", "1_000", "", "not an integer literal"},
		{"empty string", "", "", "not an integer literal"},
		{"string overflow", "9223372036854775808", "", "out of int64 range"},
		{"json.Number fraction", json.Number("1.5"), "", "not a whole number"},
		{"json.Number garbage", json.Number("abc"), "", "is not a number"},
		{"json.Number overflow", json.Number("1e400"), "", "out of range"},
		{"slice", []int{1}, "", "cannot be cast to int"},
		{"time", time.Now(), "", "cannot be cast to int"},
	})
}

func TestCastFloat(t *testing.T) {
	runCastCases(t, Float, []castCase{
		{"float", 1.5, "1.5", ""},
		{"float32", float32(0.5), "0.5", ""},
		{"named float32", castNamedFloat(0.25), "0.25", ""},
		{"zero", 0.0, "0", ""},
		{"integral float", 3.0, "3", ""},
		{"small", 1e-7, "1e-7", ""},
		{"large", 1e21, "1e+21", ""},
		{"ordinary large", 1e20, "100000000000000000000", ""},
		{"int", 2, "2", ""},
		{"int64 2^53", int64(1) << 53, "9007199254740992", ""},
		{"int64 2^60 exact, shortest form", int64(1) << 60, "1152921504606847000", ""},
		{"uint8", uint8(9), "9", ""},
		{"named int", castNamedInt(-3), "-3", ""},
		{"pointer", castPtr(2.5), "2.5", ""},
		{"string", "1.25", "1.25", ""},
		{"string exponent", "-2e3", "-2000", ""},
		{"string int", "7", "7", ""},
		{"json.Number", json.Number("0.1"), "0.1", ""},
		{"nil", nil, "", "is required"},
		{"nil pointer", (*float64)(nil), "", "is required"},
		{"NaN", math.NaN(), "", "not a finite number"},
		{"+Inf", math.Inf(1), "", "not a finite number"},
		{"-Inf float32", float32(math.Inf(-1)), "", "not a finite number"},
		{"inexact int64", int64(1)<<53 + 1, "", "too large to hold exactly"},
		{"max int64", int64(math.MaxInt64), "", "too large to hold exactly"},
		{"inexact uint64", uint64(math.MaxUint64), "", "too large to hold exactly"},
		{"bool", false, "", "cannot be cast to float"},
		{"string NaN", "NaN", "", "not a number literal"},
		{"string Inf", "Inf", "", "not a number literal"},
		{"string space", " 1", "", "not a number literal"},
		{"string hex float", "0x1p3", "", "not a number literal"},
		{"string comma", "1,5", "", "not a number literal"},
		{"string dot only", "1.", "", "not a number literal"},
		{"string overflow", "1e400", "", "out of float64 range"},
		{"json.Number garbage", json.Number("x"), "", "not a number literal"},
		{"map", map[string]any{}, "", "cannot be cast to float"},
	})
}

func TestCastBool(t *testing.T) {
	runCastCases(t, Bool, []castCase{
		{"true", true, "true", ""},
		{"false", false, "false", ""},
		{"named", castNamedBool(true), "true", ""},
		{"pointer", castPtr(false), "false", ""},
		{"string true", "true", "true", ""},
		{"string false", "false", "false", ""},
		{"nil", nil, "", "is required"},
		{"nil pointer", (*bool)(nil), "", "is required"},
		{"string True", "True", "", "not \"true\" or \"false\""},
		{"string 1", "1", "", "not \"true\" or \"false\""},
		{"string yes", "yes", "", "not \"true\" or \"false\""},
		{"int 1", 1, "", "cannot be cast to bool"},
		{"float", 0.0, "", "cannot be cast to bool"},
	})
}

func TestCastTime(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	local := time.Date(2024, 5, 6, 8, 9, 10, 123000000, cet)
	runCastCases(t, Time, []castCase{
		{"utc", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), `"2024-01-02T03:04:05Z"`, ""},
		{"zone converted to UTC", local, `"2024-05-06T07:09:10.123Z"`, ""},
		{"nanoseconds", time.Date(2024, 1, 2, 3, 4, 5, 1, time.UTC), `"2024-01-02T03:04:05.000000001Z"`, ""},
		{"monotonic reading dropped", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(0), `"2024-01-01T00:00:00Z"`, ""},
		{"zero time", time.Time{}, `"0001-01-01T00:00:00Z"`, ""},
		{"pointer", castPtr(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)), `"2024-01-02T03:04:05Z"`, ""},
		{"rfc3339 string", "2024-01-02T03:04:05+02:00", `"2024-01-02T01:04:05Z"`, ""},
		{"rfc3339nano string", "2024-01-02T03:04:05.5Z", `"2024-01-02T03:04:05.5Z"`, ""},
		{"named string", castNamedString("2024-01-02T03:04:05Z"), `"2024-01-02T03:04:05Z"`, ""},
		{"nil", nil, "", "is required"},
		{"nil pointer", (*time.Time)(nil), "", "is required"},
		{"date only", "2024-01-02", "", "not an RFC 3339 time"},
		{"no zone", "2024-01-02T03:04:05", "", "not an RFC 3339 time"},
		{"garbage", "yesterday", "", "not an RFC 3339 time"},
		{"unix seconds", int64(1700000000), "", "only time.Time and RFC 3339"},
		{"year 10000", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), "", "year outside 0-9999"},
		{"negative year", time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), "", "year outside 0-9999"},
	})
}

func TestCastJSON(t *testing.T) {
	runCastCases(t, JSON, []castCase{
		{"map", map[string]any{"b": 1, "a": []int{1, 2}}, `{"a":[1,2],"b":1}`, ""},
		{"struct", struct {
			A int    `json:"a"`
			B string `json:"b,omitempty"`
		}{A: 1}, `{"a":1}`, ""},
		{"string", "s", `"s"`, ""},
		{"number", 1.5, `1.5`, ""},
		{"bool", true, `true`, ""},
		{"empty slice", []int{}, `[]`, ""},
		{"raw message compacted", json.RawMessage(`{ "a" : [ 1 , 2 ] }`), `{"a":[1,2]}`, ""},
		{"raw message pointer", castPtr(json.RawMessage(`[1]`)), `[1]`, ""},
		{"nil", nil, "", "is required"},
		{"nil map", map[string]any(nil), "", "is required"},
		{"nil pointer", (*struct{})(nil), "", "is required"},
		{"nil raw message", json.RawMessage(nil), "", "is required"},
		{"null raw message", json.RawMessage("null"), "", "is required"},
		{"invalid raw message", json.RawMessage(`{"a":`), "", "not valid JSON"},
		{"trailing garbage raw message", json.RawMessage(`1 2`), "", "not valid JSON"},
		{"channel", make(chan int), "", "cannot be cast to json"},
		{"NaN", math.NaN(), "", "cannot be cast to json"},
		{"func", func() {}, "", "cannot be cast to json"},
	})
}

func TestCastErrorMessageNamesEverything(t *testing.T) {
	s := NewSchema("")
	s, _, err := s.With(Define("e", Input("x"), RequiredPayload("n", From("x"), Int)))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := s.lookup("e", 0)
	_, err = v.build("e", Inputs{"x": map[string]any{"n": 1.5}})
	var ie *InputError
	if !errors.As(err, &ie) || !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("build error %T %v", err, err)
	}
	if ie.Event != "e" || ie.Field != "n" || ie.GoType != "float64" {
		t.Errorf("InputError = %+v", ie)
	}
	if !strings.Contains(err.Error(), `event "e": field "n": value of Go type float64 cannot be cast to int: not a whole number`) {
		t.Errorf("message: %v", err)
	}
}
