package edgeoutbox

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

type schemaBase struct {
	ClassName string
	ID        int64 `json:"id"`
}

type schemaCow struct {
	schemaBase
	Version  int
	WeightKg float64 `json:"weight"`
	Hidden   string  `json:"-"`
	secret   string
}

type schemaFarmer struct {
	Full_Name string
}

type schemaAttrs map[string]any

func (a schemaAttrs) Attribute(name string) (any, bool) { v, ok := a[name]; return v, ok }

type schemaNilAttrs struct{}

func (*schemaNilAttrs) Attribute(string) (any, bool) { panic("called on nil") }

type schemaKey string

func mustTestSchema(t testing.TB, defs ...*Definition) *Schema {
	t.Helper()
	s, _, err := NewSchema("").With(defs...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func buildLatest(t testing.TB, s *Schema, name string, in Inputs) (built, error) {
	t.Helper()
	v, err := s.lookup(name, 0)
	if err != nil {
		t.Fatal(err)
	}
	return v.build(name, in)
}

func TestBuildInputForms(t *testing.T) {
	s := mustTestSchema(t, schemaCowFed)
	want := `{"weight":450.5,"name":"Jo"}`
	cow := schemaCow{schemaBase: schemaBase{ClassName: "schemaCow", ID: 42}, Version: 3, WeightKg: 450.5}
	tests := []struct {
		name string
		in   Inputs
	}{
		{"struct", Inputs{"cow": cow, "farmer": schemaFarmer{Full_Name: "Jo"}}},
		{"pointer to struct", Inputs{"cow": &cow, "farmer": &schemaFarmer{Full_Name: "Jo"}}},
		{"map[string]any", Inputs{
			"cow":    map[string]any{"class_name": "schemaCow", "id": 42, "version": 3, "weight": 450.5},
			"farmer": map[string]any{"full_name": "Jo"},
		}},
		{"map[string]string", Inputs{
			"cow":    map[string]string{"class_name": "schemaCow", "id": "42", "version": "3", "weight": "450.5"},
			"farmer": map[string]string{"full_name": "Jo"},
		}},
		{"map with named keys", Inputs{
			"cow":    map[schemaKey]any{"class_name": "schemaCow", "id": int8(42), "version": uint(3), "weight": float32(450.5)},
			"farmer": map[schemaKey]string{"full_name": "Jo"},
		}},
		{"Attributes", Inputs{
			"cow":    schemaAttrs{"class_name": "schemaCow", "id": 42, "version": 3, "weight": 450.5},
			"farmer": schemaAttrs{"full_name": "Jo"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := buildLatest(t, s, "cow_fed", tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(b.payload) != want {
				t.Errorf("payload = %s, want %s", b.payload, want)
			}
			if b.name != "cow_fed" || b.typ != "domain" || b.version != 1 {
				t.Errorf("built = %+v", b)
			}
			if b.entity.Class != "schemaCow" || b.entity.ID != "42" || b.entity.Version == nil || *b.entity.Version != 3 {
				t.Errorf("entity = %+v", b.entity)
			}
		})
	}
}

func TestBuildOptional(t *testing.T) {
	s := mustTestSchema(t, schemaCowFed)
	cow := map[string]any{"class_name": "schemaCow", "id": 1, "version": 1, "weight": 1}
	for name, in := range map[string]Inputs{
		"absent input":          {"cow": cow},
		"nil input":             {"cow": cow, "farmer": nil},
		"nil pointer input":     {"cow": cow, "farmer": (*schemaFarmer)(nil)},
		"nil map input":         {"cow": cow, "farmer": map[string]any(nil)},
		"nil Attributes":        {"cow": cow, "farmer": (*schemaNilAttrs)(nil)},
		"absent key":            {"cow": cow, "farmer": map[string]any{}},
		"nil value":             {"cow": cow, "farmer": map[string]any{"full_name": nil}},
		"nil pointer value":     {"cow": cow, "farmer": map[string]any{"full_name": (*string)(nil)}},
		"Attributes without it": {"cow": cow, "farmer": schemaAttrs{}},
	} {
		t.Run(name, func(t *testing.T) {
			b, err := buildLatest(t, s, "cow_fed", in)
			if err != nil {
				t.Fatal(err)
			}
			if string(b.payload) != `{"weight":1}` {
				t.Errorf("payload = %s", b.payload)
			}
		})
	}
}

func TestBuildEmptyPayloadAndNoEntity(t *testing.T) {
	s := mustTestSchema(t, Define("ping"), Define("only_optional", OptionalInput("x"), OptionalPayload("a", From("x"), Int), OptionalPayload("b", From("x"), Int)))
	b, err := buildLatest(t, s, "ping", nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(b.payload) != "{}" || b.entity != (Entity{}) {
		t.Errorf("built = %+v", b)
	}
	b, err = buildLatest(t, s, "only_optional", Inputs{"x": map[string]any{"b": 2}})
	if err != nil || string(b.payload) != `{"b":2}` {
		t.Errorf("payload = %s, %v", b.payload, err)
	}
}

func TestBuildStringEntityID(t *testing.T) {
	s := mustTestSchema(t, Define("e", Input("x"), EntityClass("c", From("x"), String), EntityID("id", From("x"), String)))
	b, err := buildLatest(t, s, "e", Inputs{"x": map[string]any{"c": "Order", "id": "A-1"}})
	if err != nil {
		t.Fatal(err)
	}
	if b.entity.Class != "Order" || b.entity.ID != "A-1" || b.entity.Version != nil {
		t.Errorf("entity = %+v", b.entity)
	}
}

func TestBuildErrors(t *testing.T) {
	s := mustTestSchema(t, schemaCowFed,
		Define("strid", Input("x"), EntityClass("c", From("x"), String), EntityID("id", From("x"), String)),
	)
	good := map[string]any{"class_name": "schemaCow", "id": 1, "version": 1, "weight": 1}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for a, b := range good {
			m[a] = b
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name, event            string
		in                     Inputs
		field, goType, problem string
	}{
		{"missing required input", "cow_fed", Inputs{}, "cow", "", "input is required"},
		{"nil required input", "cow_fed", Inputs{"cow": nil}, "cow", "", "input is required"},
		{"nil pointer required input", "cow_fed", Inputs{"cow": (*schemaCow)(nil)}, "cow", "", "input is required"},
		{"unknown input", "cow_fed", Inputs{"cow": good, "horse": 1}, "horse", "", "is not an input of this event (its inputs: cow, farmer)"},
		{"missing required field", "cow_fed", Inputs{"cow": with("weight", nil)}, "weight", "", "is required"},
		{"missing entity id", "cow_fed", Inputs{"cow": with("id", nil)}, "id", "", "is required"},
		{"bad entity id", "cow_fed", Inputs{"cow": with("id", "x")}, "id", "string", "cannot be cast to int"},
		{"bad entity version", "cow_fed", Inputs{"cow": with("version", 1.5)}, "version", "float64", "not a whole number"},
		{"bad entity class", "cow_fed", Inputs{"cow": with("class_name", 3)}, "class_name", "int", "cannot be cast to string"},
		{"empty entity class", "cow_fed", Inputs{"cow": with("class_name", "")}, "class_name", "string", "is empty"},
		{"empty string entity id", "strid", Inputs{"x": map[string]any{"c": "C", "id": ""}}, "id", "string", "is empty"},
		{"bad payload", "cow_fed", Inputs{"cow": with("weight", "heavy")}, "weight", "string", "not a number literal"},
		{"bad optional payload", "cow_fed", Inputs{"cow": good, "farmer": map[string]any{"full_name": 7}}, "name", "int", "cannot be cast to string"},
		{"struct without the attribute", "cow_fed", Inputs{"cow": good, "farmer": struct{ Name string }{}}, "name", "struct { Name string }", `has no attribute "full_name"`},
		{"json:\"-\" field is not an attribute", "strid", Inputs{"x": struct {
			C  string
			ID string `json:"-"`
		}{"C", "1"}}, "id", "", `has no attribute "id"`},
		{"unexported field is not an attribute", "strid", Inputs{"x": struct {
			C  string
			id string
		}{"C", "1"}}, "id", "", `has no attribute "id"`},
		{"bad struct field reports the field's type", "cow_fed", Inputs{"cow": struct {
			ClassName   string
			ID, Version int
			Weight      string
		}{"C", 1, 1, "heavy"}}, "weight", "string", "not a number literal"},
		{"nil pointer struct field", "cow_fed", Inputs{"cow": &struct {
			ClassName   string
			ID, Version int
			Weight      *float64
		}{"C", 1, 1, nil}}, "weight", "", "is required"},
		{"non-struct input", "strid", Inputs{"x": 42}, "c", "int", `has no attribute "c"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := buildLatest(t, s, tt.event, tt.in)
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error = %T %v, want *InputError", err, err)
			}
			if !errors.Is(err, ErrInvalidInput) {
				t.Error("not ErrInvalidInput")
			}
			if ie.Event != tt.event || ie.Field != tt.field || (tt.goType != "" && ie.GoType != tt.goType) || !strings.Contains(ie.Problem, tt.problem) {
				t.Errorf("InputError = %+v\nwant field %q, Go type %q, problem containing %q", ie, tt.field, tt.goType, tt.problem)
			}
		})
	}
}

type schemaAudit struct {
	CreatedAt time.Time `json:"created_at"`
}

type schemaDeep struct {
	*schemaAudit
	Inner struct{ X int }
	Name  string `json:"title"`
	Title string // shadowed by the tag above for "title"
}

func TestStructLookup(t *testing.T) {
	s := mustTestSchema(t, Define("e", Input("d"),
		RequiredPayload("created_at", From("d"), Time),
		RequiredPayload("title", From("d"), String),
		OptionalPayload("inner", From("d"), JSON),
	))
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	b, err := buildLatest(t, s, "e", Inputs{"d": schemaDeep{schemaAudit: &schemaAudit{CreatedAt: at}, Name: "tag wins", Title: "no"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"created_at":"2024-01-01T00:00:00Z","title":"tag wins","inner":{"X":0}}`; string(b.payload) != want {
		t.Errorf("payload = %s, want %s", b.payload, want)
	}
	// A promoted field behind a nil embedded pointer is missing, not a panic.
	_, err = buildLatest(t, s, "e", Inputs{"d": schemaDeep{Name: "x"}})
	var ie *InputError
	if !errors.As(err, &ie) || ie.Field != "created_at" || ie.Problem != "is required" {
		t.Errorf("nil embedded pointer: %v", err)
	}
}

func TestNormalizeName(t *testing.T) {
	for in, want := range map[string]string{"farmer_name": "farmername", "FarmerName": "farmername", "FARMER__NAME": "farmername", "ÉtéX": "étéx"} {
		if got := normalizeName(in); got != want {
			t.Errorf("normalizeName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBuildDoesNotAllocateMuchForAttributes(t *testing.T) {
	s := mustTestSchema(t, schemaCowFed)
	v, _ := s.lookup("cow_fed", 0)
	in := Inputs{"cow": schemaAttrs{"class_name": "schemaCow", "id": 42, "version": 3, "weight": 450.5}, "farmer": schemaAttrs{"full_name": "Jo"}}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := v.build("cow_fed", in); err != nil {
			t.Fatal(err)
		}
	})
	// The payload buffer, the entity id string and the entity version.
	if allocs > 3 {
		t.Errorf("build allocates %v times per call, want at most 3", allocs)
	}
}

func BenchmarkBuild(b *testing.B) {
	s := mustTestSchema(b, schemaCowFed)
	v, _ := s.lookup("cow_fed", 0)
	cow := &schemaCow{schemaBase: schemaBase{ClassName: "schemaCow", ID: 42}, Version: 3, WeightKg: 450.5}
	for _, bc := range []struct {
		name string
		in   Inputs
	}{
		{"Attributes", Inputs{"cow": schemaAttrs{"class_name": "schemaCow", "id": 42, "version": 3, "weight": 450.5}, "farmer": schemaAttrs{"full_name": "Jo"}}},
		{"map", Inputs{"cow": map[string]any{"class_name": "schemaCow", "id": 42, "version": 3, "weight": 450.5}, "farmer": map[string]any{"full_name": "Jo"}}},
		{"struct", Inputs{"cow": cow, "farmer": &schemaFarmer{Full_Name: "Jo"}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.build("cow_fed", bc.in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestBuildConcurrent(t *testing.T) {
	s := mustTestSchema(t, schemaCowFed)
	v, _ := s.lookup("cow_fed", 0)
	type local struct {
		ClassName string
		ID        int
		Version   int
		Weight    float64
	}
	done := make(chan error)
	for g := 0; g < 8; g++ {
		go func() {
			var err error
			for i := 0; i < 200 && err == nil; i++ {
				var b built
				b, err = v.build("cow_fed", Inputs{"cow": local{"Cow", i, 1, float64(i)}, "farmer": &schemaFarmer{Full_Name: "Jo"}})
				if err == nil && b.entity.ID != strconv.Itoa(i) {
					err = fmt.Errorf("entity id %s, want %d", b.entity.ID, i)
				}
			}
			done <- err
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
