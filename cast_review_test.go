package edgeoutbox

import (
	"encoding/json"
	"errors"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestCastIntExactDecimal: an int read from a json.Number with a fraction or exponent
// is decided on the decimal text, never rounded through float64.
func TestCastIntExactDecimal(t *testing.T) {
	runCastCases(t, Int, []castCase{
		{"2^53+1 with fraction", json.Number("9007199254740993.0"), "9007199254740993", ""},
		{"max int64 with fraction", json.Number("9223372036854775807.0"), "9223372036854775807", ""},
		{"min int64 with fraction", json.Number("-9223372036854775808.000"), "-9223372036854775808", ""},
		{"min int64 as exponent", json.Number("-9.223372036854775808e18"), "-9223372036854775808", ""},
		{"shifted fraction", json.Number("0.5e1"), "5", ""},
		{"trailing zeros and negative exponent", json.Number("1200e-2"), "12", ""},
		{"exponent", json.Number("1E3"), "1000", ""},
		{"zero huge exponent", json.Number("0e999"), "0", ""},
		{"zero huge negative exponent", json.Number("-0.000e-99999999999999999999"), "0", ""},
		{"tiny fraction", json.Number("1.0000000000000000001"), "", "not a whole number"},
		{"underflow", json.Number("1e-400"), "", "not a whole number"},
		{"huge negative exponent", json.Number("5e-99999999999999999999999"), "", "not a whole number"},
		{"half", json.Number("2.5"), "", "not a whole number"},
		{"max int64 plus one", json.Number("9223372036854775808.0"), "", "out of range for int64"},
		{"min int64 minus one", json.Number("-9223372036854775809e0"), "", "out of range for int64"},
		{"huge exponent", json.Number("1e400"), "", "out of range for int64"},
		{"enormous exponent", json.Number("1e99999999999999999999999"), "", "out of range for int64"},
		{"numeric string with fraction", "9007199254740993.0", "", "not an integer literal"},
	})
}

// TestCastFloatUnderflow: a non-zero literal that float64 rounds to zero is refused;
// zero literals and overflow behave as before.
func TestCastFloatUnderflow(t *testing.T) {
	runCastCases(t, Float, []castCase{
		{"json.Number underflow", json.Number("1e-400"), "", "too close to zero"},
		{"string underflow", "-2.5e-330", "", "too close to zero"},
		{"smallest denormal", json.Number("5e-324"), "5e-324", ""},
		{"zero with exponent", json.Number("0.000e-999"), "0", ""},
		{"negative zero", json.Number("-0"), "-0", ""},
		{"overflow", json.Number("1e400"), "", "out of float64 range"},
	})
}

// TestCastIntExactDecimalInputError: the refusal reaches the caller as an InputError
// naming the event, the field and the Go type.
func TestCastIntExactDecimalInputError(t *testing.T) {
	s, _, err := NewSchema("").With(Define("e", Input("x"), RequiredPayload("n", From("x"), Int)))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := s.lookup("e", 0)
	_, err = v.build("e", Inputs{"x": map[string]any{"n": json.Number("1.0000000000000000001")}})
	var ie *InputError
	if !errors.As(err, &ie) || ie.Event != "e" || ie.Field != "n" || ie.GoType != "json.Number" ||
		!strings.Contains(ie.Problem, "not a whole number") {
		t.Fatalf("build error %T %+v", err, err)
	}
}

// TestCastRawJSONInvalidUTF8: json.Valid accepts invalid UTF-8 inside strings, so a
// json.RawMessage holding it must be refused explicitly.
func TestCastRawJSONInvalidUTF8(t *testing.T) {
	runCastCases(t, JSON, []castCase{
		{"invalid in string", json.RawMessage("{\"a\":\"\xff\xfe\"}"), "", "not valid UTF-8"},
		{"invalid in key", castPtr(json.RawMessage("{\"\xc3\":1}")), "", "not valid UTF-8"},
		{"surrogate half as bytes", json.RawMessage("\"\xed\xa0\x80\""), "", "not valid UTF-8"},
		{"valid multibyte", json.RawMessage(" {\"ä\" : \"\u2028\"} "), "{\"ä\":\"\u2028\"}", ""},
	})
}

// TestCastFloat32Digits: a float32 is written with the shortest digits that identify
// it, exactly as encoding/json writes it.
func TestCastFloat32Digits(t *testing.T) {
	for _, f := range []float32{0.1, -0.3, 1.1e-7, 3.4028235e38, 1e21, 9.99e20, 1.5, 16777216, 1e-45} {
		want, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []any{f, &f, castNamedFloat(f)} {
			got, err := appendValue(nil, Float, v)
			if err != nil || string(got) != string(want) {
				t.Errorf("float(%T %v) = %s, %v; want %s", v, f, got, err, want)
			}
		}
	}
}

// pointerChain returns v behind n pointers (**...*T).
func pointerChain(v any, n int) any {
	rv := reflect.ValueOf(v)
	for range n {
		p := reflect.New(rv.Type())
		p.Elem().Set(rv)
		rv = p
	}
	return rv.Interface()
}

// returnsSoon runs f and fails the test if it does not return within a few seconds,
// so that a pointer cycle followed forever fails instead of hanging the suite.
func returnsSoon(t *testing.T, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("did not return: a pointer cycle followed forever?")
	}
}

// TestCastPointerCycle: a self-referencing pointer, or a chain longer than
// maxIndirections, is refused by every field type instead of looping forever.
func TestCastPointerCycle(t *testing.T) {
	var cycle any
	cycle = &cycle
	cases := []struct {
		name string
		v    any
		want string // JSON for int fields; "" means refused
	}{
		{"cycle", cycle, ""},
		{"cycle behind a pointer", &cycle, ""},
		{"33 pointers", pointerChain(7, maxIndirections+1), ""},
		{"32 pointers", pointerChain(7, maxIndirections), "7"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, typ := range []FieldType{String, Int, Float, Bool, Time, JSON} {
				returnsSoon(t, func() {
					out, err := appendValue(nil, typ, c.v)
					switch {
					case c.want == "" && (err == nil || !strings.Contains(err.Error(), "more than 32 pointers")):
						t.Errorf("%s: got %s, %v; want the pointer-chain error", typ, out, err)
					case c.want != "" && typ == Int && (err != nil || string(out) != c.want):
						t.Errorf("%s: got %s, %v; want %s", typ, out, err, c.want)
					}
				})
			}
		})
	}
}

// TestBuildInputPointerCycle: an input that is a pointer cycle is reported as an
// InputError for the field read from it; resolving it must not loop.
func TestBuildInputPointerCycle(t *testing.T) {
	s, _, err := NewSchema("").With(Define("e", Input("x"), RequiredPayload("n", From("x"), Int)))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := s.lookup("e", 0)
	var cycle any
	cycle = &cycle
	for _, in := range []any{cycle, pointerChain(map[string]any{"n": 1}, maxIndirections+1)} {
		returnsSoon(t, func() {
			_, err := v.build("e", Inputs{"x": in})
			var ie *InputError
			if !errors.As(err, &ie) || ie.Field != "n" || ie.GoType == "" || !strings.Contains(ie.Problem, "more than 32 pointers") {
				t.Errorf("build(%T) error %T %v", in, err, err)
			}
		})
	}
	// 32 levels are still followed.
	if b, err := v.build("e", Inputs{"x": pointerChain(map[string]any{"n": 1}, maxIndirections)}); err != nil || string(b.payload) != `{"n":1}` {
		t.Errorf("32 levels: %s, %v", b.payload, err)
	}
}

// TestDefineTypedNilOption: Define never panics; a nil pointer passed as an option is
// a definition problem like a nil option.
func TestDefineTypedNilOption(t *testing.T) {
	var nilDefOpt DefinitionOption = defOption(nil)
	cases := []struct {
		name string
		opts []DefinitionOption
		want string
	}{
		{"nil *Source", []DefinitionOption{Input("a"), RequiredPayload("x", (*Source)(nil), Int)}, `payload field "x": nil option (*edgeoutbox.Source)`},
		{"nil *FieldType", []DefinitionOption{Input("a"), RequiredPayload("x", From("a"), (*FieldType)(nil))}, `payload field "x": nil option (*edgeoutbox.FieldType)`},
		{"nil entity option", []DefinitionOption{Input("a"), EntityID("id", From("a"), String, (*Source)(nil))}, `entity id "id": nil option (*edgeoutbox.Source)`},
		{"untyped nil field option", []DefinitionOption{Input("a"), OptionalPayload("x", From("a"), Int, nil)}, `payload field "x": nil option`},
		{"nil func definition option", []DefinitionOption{Input("a"), nilDefOpt}, "nil option (edgeoutbox.defOption)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("Define panicked: %v", r)
					}
				}()
				err = Define("e", c.opts...).Err()
			}()
			var de *DefinitionError
			if !errors.As(err, &de) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Err() = %v, want a DefinitionError containing %q", err, c.want)
			}
		})
	}
}

// TestCompareNeverPanics: Compare is exported and takes hand-made versions, so
// duplicate field names and nil versions must not make it panic.
func TestCompareNeverPanics(t *testing.T) {
	fields := func(names ...string) []SchemaField {
		var fs []SchemaField
		for _, n := range names {
			fs = append(fs, SchemaField{Name: n, Type: Int, Required: true})
		}
		return fs
	}
	cases := []struct {
		name     string
		old, new *SchemaVersion
		want     []ChangeKind
	}{
		{"duplicate in new", &SchemaVersion{Version: 1, Payload: fields("a")}, &SchemaVersion{Version: 2, Payload: fields("a", "a")}, nil},
		{"duplicate in old", &SchemaVersion{Version: 1, Payload: fields("a", "a")}, &SchemaVersion{Version: 2, Payload: fields("a")}, nil},
		{"duplicate removed", &SchemaVersion{Version: 1, Payload: fields("b", "a", "b")}, &SchemaVersion{Version: 2, Payload: fields("a")}, []ChangeKind{ChangeFieldRemoved}},
		{"duplicate reordered", &SchemaVersion{Version: 1, Payload: fields("a", "b", "a")}, &SchemaVersion{Version: 2, Payload: fields("b", "a", "b")}, []ChangeKind{ChangePayloadReorder}},
		{"nil old", nil, &SchemaVersion{Version: 1, Payload: fields("a")}, []ChangeKind{ChangeFieldAdded}},
		{"nil new", &SchemaVersion{Version: 1, Payload: fields("a")}, nil, []ChangeKind{ChangeFieldRemoved}},
		{"both nil", nil, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []ChangeKind
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("Compare panicked: %v", r)
					}
				}()
				for _, ch := range Compare(c.old, c.new) {
					got = append(got, ch.Kind)
				}
			}()
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("changes %v, want %v", got, c.want)
			}
		})
	}
	// Every pair of payloads of up to three fields named a or b.
	var lists [][]string
	var gen func(prefix []string)
	gen = func(prefix []string) {
		lists = append(lists, append([]string(nil), prefix...))
		if len(prefix) < 3 {
			gen(append(prefix, "a"))
			gen(append(prefix, "b"))
		}
	}
	gen(nil)
	for _, o := range lists {
		for _, n := range lists {
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("Compare(%v, %v) panicked: %v", o, n, r)
					}
				}()
				Compare(&SchemaVersion{Payload: fields(o...)}, &SchemaVersion{Payload: fields(n...)})
			}()
		}
	}
}

// FuzzCastIntDecimal checks the int cast of a json.Number against exact rational
// arithmetic: it succeeds exactly when the literal is a whole number in int64 range,
// with that value.
func FuzzCastIntDecimal(f *testing.F) {
	for _, s := range []string{"9007199254740993.0", "1.0000000000000000001", "1e-400", "0.5e1", "-9.223372036854775808e18", "0e999", "12e-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !isJSONNumber(s) || len(s) > 100 {
			return
		}
		if i := strings.IndexAny(s, "eE"); i >= 0 && len(strings.TrimLeft(s[i+1:], "+-0")) > 3 {
			return // big.Rat would expand a huge exponent
		}
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("big.Rat rejects %q", s)
		}
		want, exact := int64(0), r.IsInt() && r.Num().IsInt64()
		if exact {
			want = r.Num().Int64()
		}
		got, err := castInt(json.Number(s))
		if (err == nil) != exact || got != want {
			t.Fatalf("int(json.Number %q) = %d, %v; want %d (exact %v)", s, got, err, want, exact)
		}
	})
}
