package main

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseInput checks parseInputFlag against encoding/json's own validator: it
// accepts exactly NAME=JSON with a valid input name and a valid JSON object or null,
// and the value it returns is that JSON, numbers and all.
func FuzzParseInput(f *testing.F) {
	for _, s := range []string{
		`cow={"class_name":"Cow","id":7,"version":3,"weight":512.5}`,
		`farmer=null`,
		`cow= {"id": 12345678901234567890} `,
		`cow={"id":7`,
		`=1`,
		`cow=`,
		`_x-1={"a":{"b":[1,2.5e3,"c",true,null]}}`,
		`cow={"a":1}{"b":2}`,
		`cow="Daisy"`,
		`c=o=w={}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, value, err := parseInputFlag(s)
		before, raw, hasEq := strings.Cut(s, "=")
		trimmed := strings.TrimSpace(raw)
		wantOK := hasEq && checkInputName(before) == "" && json.Valid([]byte(raw)) &&
			(strings.HasPrefix(trimmed, "{") || trimmed == "null")
		if (err == nil) != wantOK {
			t.Fatalf("parseInputFlag(%q) err = %v, want ok %v", s, err, wantOK)
		}
		if err != nil {
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatalf("parseInputFlag(%q): empty error", s)
			}
			return
		}
		if name != before {
			t.Fatalf("parseInputFlag(%q) name = %q, want %q", s, name, before)
		}
		// Same value as decoding with UseNumber directly.
		dec := json.NewDecoder(strings.NewReader(raw))
		dec.UseNumber()
		var want any
		if err := dec.Decode(&want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(value, want) {
			t.Fatalf("parseInputFlag(%q) value = %#v, want %#v", s, value, want)
		}
	})
}
