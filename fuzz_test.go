package edgeoutbox

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

// FuzzParseSchema checks that the loader never panics and that whatever it accepts
// re-encodes to bytes it accepts again, unchanged.
func FuzzParseSchema(f *testing.F) {
	f.Add([]byte(`{"format_version":1,"events":{}}`))
	f.Add([]byte(`{"format_version":1,"events":{"a":{"versions":[]}}}`))
	f.Add(mustTestSchema(f, schemaCowFed, schemaCowMilked).Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSchema(data)
		if err != nil {
			return
		}
		out := s.Bytes()
		s2, err := ParseSchema(out)
		if err != nil {
			t.Fatalf("re-parse of canonical bytes: %v\n%s", err, out)
		}
		if !bytes.Equal(s2.Bytes(), out) {
			t.Fatalf("canonical bytes not stable:\n%s\n%s", out, s2.Bytes())
		}
		for _, name := range s.Events() {
			for _, v := range s.Versions(name) {
				// Building from empty inputs must fail or succeed cleanly.
				if b, err := v.build(name, Inputs{}); err == nil && !json.Valid(b.payload) {
					t.Fatalf("invalid payload %s", b.payload)
				}
			}
		}
	})
}

// FuzzCast checks that casting never panics, that accepted values encode as valid
// JSON, and that numeric casts agree with each other.
func FuzzCast(f *testing.F) {
	f.Add("42", int64(42), 42.0, true)
	f.Add("-0.5e3", int64(-1), math.Inf(1), false)
	f.Add("2024-01-02T03:04:05.123+01:00", int64(math.MinInt64), math.NaN(), true)
	f.Add("\"\x00\u2028\xff", int64(math.MaxInt64), 1e300, false)
	f.Fuzz(func(t *testing.T, s string, i int64, fl float64, b bool) {
		for _, typ := range []FieldType{String, Int, Float, Bool, Time, JSON} {
			for _, v := range []any{s, i, fl, b, json.Number(s), json.RawMessage(s), &s, uint64(i)} {
				out, err := appendValue(nil, typ, v)
				if err != nil {
					if len(out) != 0 {
						t.Fatalf("%s(%#v): output %q with error %v", typ, v, out, err)
					}
					continue
				}
				if !json.Valid(out) {
					t.Fatalf("%s(%#v) = %q: not valid JSON", typ, v, out)
				}
			}
		}
		// An integer string accepted as int is accepted as float with the same value
		// when float64 holds it exactly.
		if n, err := castInt(s); err == nil {
			if g, err := castFloat(s); err != nil || (math.Abs(g) < 1<<53 && g != float64(n)) {
				t.Fatalf("int %q = %d, float = %v, %v", s, n, g, err)
			}
		}
		if str, err := castString(s); err == nil {
			var back string
			if err := json.Unmarshal(appendJSONString(nil, str), &back); err != nil || back != s {
				t.Fatalf("string %q round-trips to %q, %v", s, back, err)
			}
		}
	})
}
