package edgeoutbox

import (
	"strings"
	"testing"
)

func TestCompare(t *testing.T) {
	version := func(n int, d *Definition) *SchemaVersion {
		t.Helper()
		if err := d.Err(); err != nil {
			t.Fatal(err)
		}
		return d.v.clone(n)
	}
	base := []DefinitionOption{
		Input("a"),
		EntityID("id", From("a"), Int),
		RequiredPayload("r", From("a"), Int),
		OptionalPayload("o", From("a"), String),
	}
	def := func(opts ...DefinitionOption) *SchemaVersion {
		return version(2, Define("e", opts...))
	}
	old := version(1, Define("e", base...))
	tests := []struct {
		name     string
		new      *SchemaVersion
		want     []ChangeKind
		breaking bool
	}{
		{"identical", def(base...), nil, false},
		{"required field added", def(append(base[:4:4], RequiredPayload("n", From("a"), Bool))...), []ChangeKind{ChangeFieldAdded}, true},
		{"optional field added", def(append(base[:4:4], OptionalPayload("n", From("a"), Bool))...), []ChangeKind{ChangeFieldAdded}, false},
		{"field removed", def(base[:3]...), []ChangeKind{ChangeFieldRemoved}, true},
		{"type changed", def(Input("a"), EntityID("id", From("a"), Int), RequiredPayload("r", From("a"), Float), OptionalPayload("o", From("a"), String)), []ChangeKind{ChangeFieldType}, true},
		{"required to optional", def(Input("a"), EntityID("id", From("a"), Int), OptionalPayload("r", From("a"), Int), OptionalPayload("o", From("a"), String)), []ChangeKind{ChangeFieldOptional}, false},
		{"optional to required", def(Input("a"), EntityID("id", From("a"), Int), RequiredPayload("r", From("a"), Int), RequiredPayload("o", From("a"), String)), []ChangeKind{ChangeFieldRequired}, false},
		{"source changed", def(Input("a"), EntityID("id", From("a"), Int), RequiredPayload("r", FromAttr("a", "x"), Int), OptionalPayload("o", From("a"), String)), []ChangeKind{ChangeFieldSource}, false},
		{"reordered", def(Input("a"), EntityID("id", From("a"), Int), OptionalPayload("o", From("a"), String), RequiredPayload("r", From("a"), Int)), []ChangeKind{ChangePayloadReorder}, false},
		{"event type", def(append(base[:4:4], EventType("integration"))...), []ChangeKind{ChangeEventType}, true},
		{"input added and made optional", def(OptionalInput("a"), Input("b"), EntityID("id", From("b"), Int), OptionalPayload("r", From("a"), Int), OptionalPayload("o", From("a"), String)),
			[]ChangeKind{ChangeInputOptional, ChangeInputAdded, ChangeEntitySource, ChangeFieldOptional}, false},
		{"input removed", def(Input("b"), EntityID("id", From("b"), Int), RequiredPayload("r", From("b"), Int), OptionalPayload("o", From("b"), String)),
			[]ChangeKind{ChangeInputAdded, ChangeInputRemoved, ChangeEntitySource, ChangeFieldSource, ChangeFieldSource}, false},
		{"entity removed", def(Input("a"), RequiredPayload("r", From("a"), Int), OptionalPayload("o", From("a"), String)), []ChangeKind{ChangeEntityRemoved}, true},
		{"entity type", def(Input("a"), EntityID("id", From("a"), String), RequiredPayload("r", From("a"), Int), OptionalPayload("o", From("a"), String)), []ChangeKind{ChangeEntityType}, true},
		{"entity added", def(append(base[:4:4], EntityClass("c", From("a"), String))...), []ChangeKind{ChangeEntityAdded}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changes := Compare(old, tt.new)
			var kinds []ChangeKind
			for _, c := range changes {
				kinds = append(kinds, c.Kind)
				if c.FromVersion != 1 || c.ToVersion != 2 {
					t.Errorf("versions %d→%d", c.FromVersion, c.ToVersion)
				}
				if c.String() == "" {
					t.Error("empty String()")
				}
			}
			if got, want := joinKinds(kinds), joinKinds(tt.want); got != want {
				t.Errorf("kinds = %s, want %s", got, want)
			}
			if HasBreaking(changes) != tt.breaking {
				t.Errorf("breaking = %v, want %v: %v", HasBreaking(changes), tt.breaking, changes)
			}
		})
	}
}

func joinKinds(kinds []ChangeKind) string {
	s := make([]string, len(kinds))
	for i, k := range kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ",")
}

func TestSchemaChanges(t *testing.T) {
	s := mustTestSchema(t, schemaCowFed)
	if len(s.Changes("cow_fed")) != 0 || s.Changes("nope") != nil {
		t.Error("a single version has no changes")
	}
	s, _, _ = s.With(schemaCowFedV2)
	var got []string
	for _, c := range s.Changes("cow_fed") {
		got = append(got, c.String())
	}
	want := []string{
		"v1→v2 field_type_changed weight: float → int [breaking]",
		"v1→v2 field_added breed (string, required, from cow) [breaking]",
		"v1→v2 field_added fed_at (time, optional, from farmer)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Changes:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
