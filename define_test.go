package edgeoutbox

import (
	"errors"
	"strings"
	"testing"
)

var schemaCowFed = Define("cow_fed",
	EventType("domain"),
	Input("cow"),
	OptionalInput("farmer"),
	EntityClass("class_name", From("cow"), String),
	EntityID("id", From("cow"), Int),
	EntityVersion("version", From("cow"), Int),
	RequiredPayload("weight", From("cow"), Float),
	OptionalPayload("name", FromAttr("farmer", "full_name"), String),
)

func TestDefineValid(t *testing.T) {
	if err := schemaCowFed.Err(); err != nil {
		t.Fatal(err)
	}
	if got := schemaCowFed.Name(); got != "cow_fed" {
		t.Errorf("Name() = %q", got)
	}
	if fp := schemaCowFed.Fingerprint(); !strings.HasPrefix(fp, "sha256:") || len(fp) != len("sha256:")+64 {
		t.Errorf("Fingerprint() = %q", fp)
	}
	d := Define("ping") // no inputs, no fields, default type
	if err := d.Err(); err != nil {
		t.Fatal(err)
	}
	if d.v.Type != DefaultEventType {
		t.Errorf("default type = %q, want %q", d.v.Type, DefaultEventType)
	}
	// From and FromAttr with the same attribute describe the same event.
	a := Define("e", Input("x"), RequiredPayload("w", From("x"), Int))
	b := Define("e", Input("x"), RequiredPayload("w", FromAttr("x", "w"), Int))
	if a.Fingerprint() != b.Fingerprint() {
		t.Error("From and equivalent FromAttr give different fingerprints")
	}
	// Options in either order.
	c := Define("e", Input("x"), RequiredPayload("w", Int, From("x")))
	if a.Fingerprint() != c.Fingerprint() {
		t.Error("option order changes the fingerprint")
	}
}

func TestDefineErrors(t *testing.T) {
	in := Input("cow")
	tests := []struct {
		name string
		def  *Definition
		want string
	}{
		{"empty name", Define(""), "event name is empty"},
		{"upper-case name", Define("CowFed"), "must start with a lower-case letter"},
		{"digit first", Define("1cow"), "must start with a lower-case letter"},
		{"dot in name", Define("cow.fed"), "may hold only a-z"},
		{"space in name", Define("cow fed"), "may hold only a-z"},
		{"wildcard in name", Define("cow*"), "may hold only a-z"},
		{"long name", Define(strings.Repeat("a", 129)), "longer than 128"},
		{"bad event type", Define("e", EventType("Domain Event")), "event type \"Domain Event\""},
		{"empty event type", Define("e", EventType("")), "event type is empty"},
		{"event type twice", Define("e", EventType("domain"), EventType("integration")), "event type given twice"},
		{"duplicate input", Define("e", Input("cow"), OptionalInput("cow")), "input \"cow\" declared twice"},
		{"bad input name", Define("e", Input("a cow")), "input name \"a cow\""},
		{"empty input name", Define("e", Input("")), "input name is empty"},
		{"unknown From input", Define("e", in, RequiredPayload("w", From("horse"), Float)), "from unknown input \"horse\""},
		{"no From", Define("e", in, RequiredPayload("w", Float)), "no source: add edgeoutbox.From"},
		{"From twice", Define("e", in, RequiredPayload("w", From("cow"), From("cow"), Float)), "source given twice"},
		{"no type", Define("e", in, RequiredPayload("w", From("cow"))), "no type"},
		{"type twice", Define("e", in, RequiredPayload("w", From("cow"), Float, Int)), "type given twice"},
		{"unknown type", Define("e", in, RequiredPayload("w", From("cow"), FieldType("decimal"))), "unknown type \"decimal\""},
		{"duplicate payload field", Define("e", in, RequiredPayload("w", From("cow"), Float), OptionalPayload("w", From("cow"), Int)), "field name \"w\" used twice"},
		{"payload field duplicates entity field", Define("e", in, EntityID("id", From("cow"), Int), RequiredPayload("id", From("cow"), Int)), "field name \"id\" used twice"},
		{"entity id twice", Define("e", in, EntityID("id", From("cow"), Int), EntityID("id2", From("cow"), Int)), "entity id declared twice"},
		{"entity class twice", Define("e", in, EntityClass("c", From("cow"), String), EntityClass("c2", From("cow"), String)), "entity class declared twice"},
		{"entity version twice", Define("e", in, EntityID("id", From("cow"), Int), EntityVersion("v", From("cow"), Int), EntityVersion("v2", From("cow"), Int)), "entity version declared twice"},
		{"entity version without id", Define("e", in, EntityVersion("v", From("cow"), Int)), "needs an entity id"},
		{"entity version not int", Define("e", in, EntityID("id", From("cow"), Int), EntityVersion("v", From("cow"), String)), "type must be int"},
		{"entity id float", Define("e", in, EntityID("id", From("cow"), Float)), "type must be string or int"},
		{"entity class int", Define("e", in, EntityClass("c", From("cow"), Int)), "type must be string"},
		{"entity from optional input", Define("e", OptionalInput("cow"), EntityID("id", From("cow"), Int)), "entity fields need a required input"},
		{"required payload from optional input", Define("e", OptionalInput("farmer"), RequiredPayload("name", From("farmer"), String)), "required but read from optional input \"farmer\""},
		{"bad field name", Define("e", in, RequiredPayload("a.b", From("cow"), String)), "field name \"a.b\""},
		{"empty field name", Define("e", in, RequiredPayload("", From("cow"), String)), "field name is empty"},
		{"empty attribute", Define("e", in, RequiredPayload("w", FromAttr("cow", ""), String)), "attribute is empty"},
		{"control character in attribute", Define("e", in, RequiredPayload("w", FromAttr("cow", "a\nb"), String)), "control character"},
		{"nil option", Define("e", nil), "nil option"},
		{"nil field option", Define("e", in, RequiredPayload("w", From("cow"), String, nil)), "nil option"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.def.Err()
			if err == nil {
				t.Fatal("Err() = nil")
			}
			var de *DefinitionError
			if !errors.As(err, &de) {
				t.Fatalf("Err() is %T, want *DefinitionError", err)
			}
			if !errors.Is(err, ErrInvalidDefinition) {
				t.Error("Err() does not match ErrInvalidDefinition")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Err() = %q, want it to contain %q", err, tt.want)
			}
			if tt.def.Fingerprint() != "" {
				t.Error("invalid definition has a fingerprint")
			}
			// Registration and dump report it too.
			if _, err := NewRegistry(tt.def); !errors.Is(err, ErrInvalidDefinition) {
				t.Errorf("NewRegistry: %v", err)
			}
			if _, err := DumpSchema(t.TempDir()+"/s.json", tt.def); !errors.Is(err, ErrInvalidDefinition) {
				t.Errorf("DumpSchema: %v", err)
			}
		})
	}
}

func TestDefineCollectsAllProblems(t *testing.T) {
	err := Define("Bad", Input("x"), Input("x"), RequiredPayload("w", From("y"), Float)).Err()
	for _, want := range []string{"must start with a lower-case letter", "declared twice", "unknown input \"y\""} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Err() = %v, want it to contain %q", err, want)
		}
	}
}

func TestNewRegistry(t *testing.T) {
	ping := Define("ping")
	r, err := NewRegistry(schemaCowFed, ping)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.Names(), ","); got != "cow_fed,ping" {
		t.Errorf("Names() = %s", got)
	}
	if r.Lookup("ping") != ping || r.Lookup("nope") != nil {
		t.Error("Lookup")
	}
	if len(r.Definitions()) != 2 {
		t.Error("Definitions")
	}
	_, err = NewRegistry(schemaCowFed, Define("cow_fed"))
	if !errors.Is(err, ErrInvalidDefinition) || !strings.Contains(err.Error(), "defined twice") {
		t.Errorf("duplicate names: %v", err)
	}
	_, err = NewRegistry(nil)
	if !errors.Is(err, ErrInvalidDefinition) || !strings.Contains(err.Error(), "nil") {
		t.Errorf("nil definition: %v", err)
	}
	_, err = NewRegistry(Define("A"), Define("B"))
	if !strings.Contains(err.Error(), `"A"`) || !strings.Contains(err.Error(), `"B"`) {
		t.Errorf("both errors reported: %v", err)
	}
}

func TestZeroDefinition(t *testing.T) {
	if err := new(Definition).Err(); !errors.Is(err, ErrInvalidDefinition) {
		t.Errorf("zero Definition: %v", err)
	}
	if _, err := NewRegistry(&Definition{}); !errors.Is(err, ErrInvalidDefinition) {
		t.Errorf("NewRegistry(zero Definition): %v", err)
	}
}
