package edgeoutbox

import "fmt"

// ChangeKind names a kind of difference between two versions of an event.
type ChangeKind string

// Change kinds. Whether a change is breaking is judged from a consumer's side: a
// consumer written for the old version must still understand the new one.
const (
	ChangeEventType      ChangeKind = "event_type_changed"    // breaking
	ChangeFieldAdded     ChangeKind = "field_added"           // breaking when required
	ChangeFieldRemoved   ChangeKind = "field_removed"         // breaking
	ChangeFieldType      ChangeKind = "field_type_changed"    // breaking
	ChangeFieldOptional  ChangeKind = "field_became_optional" // compatible
	ChangeFieldRequired  ChangeKind = "field_became_required" // compatible
	ChangeFieldSource    ChangeKind = "field_source_changed"  // compatible: same payload shape
	ChangeInputAdded     ChangeKind = "input_added"           // compatible: inputs concern emitters only
	ChangeInputRemoved   ChangeKind = "input_removed"         // compatible
	ChangeInputRequired  ChangeKind = "input_became_required" // compatible
	ChangeInputOptional  ChangeKind = "input_became_optional" // compatible
	ChangeEntityAdded    ChangeKind = "entity_field_added"    // compatible
	ChangeEntityRemoved  ChangeKind = "entity_field_removed"  // breaking
	ChangeEntityType     ChangeKind = "entity_type_changed"   // breaking
	ChangeEntitySource   ChangeKind = "entity_source_changed" // compatible
	ChangePayloadReorder ChangeKind = "payload_reordered"     // compatible
)

// A Change is one difference between two versions of an event. It is informational:
// nothing refuses a breaking change, but reviewers should see it.
type Change struct {
	FromVersion, ToVersion int
	Kind                   ChangeKind
	// Field is the payload field, input, or entity part ("entity.class", "entity.id",
	// "entity.version") concerned; "" for the event type.
	Field    string
	Old, New string // short descriptions of the before and after ("" when absent)
	Breaking bool
}

// String describes the change in one line, e.g.
// "v1→v2 field_added weight (float, required, from cow) [breaking]".
func (c Change) String() string {
	s := fmt.Sprintf("v%d→v%d %s", c.FromVersion, c.ToVersion, c.Kind)
	if c.Field != "" {
		s += " " + c.Field
	}
	switch {
	case c.Old != "" && c.New != "":
		s += fmt.Sprintf(": %s → %s", c.Old, c.New)
	case c.New != "":
		s += " (" + c.New + ")"
	case c.Old != "":
		s += " (was " + c.Old + ")"
	}
	if c.Breaking {
		s += " [breaking]"
	}
	return s
}

// Compare lists the differences from old to new, in a fixed order: event type, inputs,
// entity, payload fields. It accepts any input without panicking: a nil version
// compares as an empty one, and of payload fields sharing a name (which only a
// hand-made SchemaVersion can have) the first is compared.
func Compare(old, new *SchemaVersion) []Change {
	if old == nil {
		old = &SchemaVersion{}
	}
	if new == nil {
		new = &SchemaVersion{}
	}
	var out []Change
	add := func(kind ChangeKind, field, o, n string, breaking bool) {
		out = append(out, Change{FromVersion: old.Version, ToVersion: new.Version, Kind: kind, Field: field, Old: o, New: n, Breaking: breaking})
	}
	if old.Type != new.Type {
		add(ChangeEventType, "", old.Type, new.Type, true)
	}

	oldIn := make(map[string]bool, len(old.Inputs))
	for _, in := range old.Inputs {
		oldIn[in.Name] = in.Required
	}
	newIn := make(map[string]bool, len(new.Inputs))
	for _, in := range new.Inputs {
		newIn[in.Name] = in.Required
		req, ok := oldIn[in.Name]
		switch {
		case !ok:
			add(ChangeInputAdded, in.Name, "", requiredWord(in.Required), false)
		case req && !in.Required:
			add(ChangeInputOptional, in.Name, "required", "optional", false)
		case !req && in.Required:
			add(ChangeInputRequired, in.Name, "optional", "required", false)
		}
	}
	for _, in := range old.Inputs {
		if _, ok := newIn[in.Name]; !ok {
			add(ChangeInputRemoved, in.Name, requiredWord(in.Required), "", false)
		}
	}

	var oe, ne SchemaEntity
	if old.Entity != nil {
		oe = *old.Entity
	}
	if new.Entity != nil {
		ne = *new.Entity
	}
	for _, part := range []struct {
		name string
		o, n *SchemaField
	}{{"entity.class", oe.Class, ne.Class}, {"entity.id", oe.ID, ne.ID}, {"entity.version", oe.Version, ne.Version}} {
		switch {
		case part.o == nil && part.n == nil:
		case part.o == nil:
			add(ChangeEntityAdded, part.name, "", part.n.describe(), false)
		case part.n == nil:
			add(ChangeEntityRemoved, part.name, part.o.describe(), "", true)
		case part.o.Type != part.n.Type:
			add(ChangeEntityType, part.name, string(part.o.Type), string(part.n.Type), true)
		case part.o.From != part.n.From || part.o.Attribute != part.n.Attribute || part.o.Name != part.n.Name:
			add(ChangeEntitySource, part.name, part.o.describe(), part.n.describe(), false)
		}
	}

	oldF := make(map[string]*SchemaField, len(old.Payload))
	for i := range old.Payload {
		if _, dup := oldF[old.Payload[i].Name]; !dup {
			oldF[old.Payload[i].Name] = &old.Payload[i]
		}
	}
	newF := make(map[string]bool, len(new.Payload))
	var common []string // names in both, in new order, each once
	for i := range new.Payload {
		n := &new.Payload[i]
		if newF[n.Name] {
			continue
		}
		newF[n.Name] = true
		o, ok := oldF[n.Name]
		if !ok {
			add(ChangeFieldAdded, n.Name, "", n.describe(), n.Required)
			continue
		}
		common = append(common, n.Name)
		if o.Type != n.Type {
			add(ChangeFieldType, n.Name, string(o.Type), string(n.Type), true)
		}
		if o.Required && !n.Required {
			add(ChangeFieldOptional, n.Name, "required", "optional", false)
		}
		if !o.Required && n.Required {
			add(ChangeFieldRequired, n.Name, "optional", "required", false)
		}
		if o.From != n.From || o.Attribute != n.Attribute {
			add(ChangeFieldSource, n.Name, o.describe(), n.describe(), false)
		}
	}
	var oldCommon []string // names in both, in old order, each once
	for i := range old.Payload {
		o := &old.Payload[i]
		if oldF[o.Name] != o {
			continue // a duplicate name
		}
		if !newF[o.Name] {
			add(ChangeFieldRemoved, o.Name, o.describe(), "", true)
		} else {
			oldCommon = append(oldCommon, o.Name)
		}
	}
	for i := range common {
		if common[i] != oldCommon[i] {
			add(ChangePayloadReorder, "", "", "", false)
			break
		}
	}
	return out
}

func requiredWord(required bool) string {
	if required {
		return "required"
	}
	return "optional"
}

// Changes lists the differences between each pair of consecutive versions of the named
// event, oldest first.
func (s *Schema) Changes(name string) []Change {
	vs := s.events[name]
	var out []Change
	for i := 1; i < len(vs); i++ {
		out = append(out, Compare(vs[i-1], vs[i])...)
	}
	return out
}

// HasBreaking reports whether any change is breaking.
func HasBreaking(changes []Change) bool {
	for _, c := range changes {
		if c.Breaking {
			return true
		}
	}
	return false
}
