package edgeoutbox

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"unicode/utf8"
)

// FieldType is the type a field's value is cast to before it is stored. The string
// value is what the schema file records.
//
// Casting is strict: a value is accepted only when the conversion is exact and
// unambiguous. Pointers are followed; a nil pointer (like a nil value) is a missing
// value, which is an error for a required field and leaves an optional field out of the
// payload. Named types count as their underlying kind (type Kg float64 is a float).
//
//	string  Go strings only (valid UTF-8). Not []byte, numbers or fmt.Stringer.
//	int     integer kinds (uint64 above MaxInt64 is an error); floats that are whole
//	        numbers in int64 range; json.Number holding a whole number ("4.0", "1e3");
//	        strings holding a JSON integer literal ("42", "-7"; not " 42", "+42",
//	        "042", "4.0", "0x10", "1e3"). Never bool.
//	float   integer kinds whose value float64 holds exactly; finite floats; json.Number;
//	        strings holding a JSON number literal ("1.5", "-2e3"; not "NaN", "Inf",
//	        " 1", "0x1p3"). NaN and infinities are errors (JSON cannot hold them), and so
//	        is a non-zero literal that float64 rounds to 0 ("1e-400").
//	bool    bool; the strings "true" and "false" exactly.
//	time    time.Time (the zero time too); RFC 3339 strings. Stored as RFC 3339 in UTC
//	        with as many fractional digits as needed. Years outside 0-9999 are errors.
//	json    anything encoding/json marshals, including json.RawMessage (validated and
//	        compacted). A value that encodes as null is missing.
type FieldType string

// Field types. See FieldType for exactly what each accepts.
const (
	// String accepts Go strings and named string types only.
	String FieldType = "string"
	// Int accepts integer kinds, integral floats, json.Number and integer strings; it is
	// stored as a JSON integer (int64 range).
	Int FieldType = "int"
	// Float accepts integer and float kinds, json.Number and JSON-number strings; NaN and
	// infinities are rejected.
	Float FieldType = "float"
	// Bool accepts bool and the strings "true" and "false".
	Bool FieldType = "bool"
	// Time accepts time.Time and RFC 3339 strings; it is stored as an RFC 3339 string
	// in UTC with nanoseconds as needed.
	Time FieldType = "time"
	// JSON accepts any value encoding/json can marshal, including json.RawMessage.
	JSON FieldType = "json"
)

// DefaultEventType is the event type of a definition that does not call EventType.
const DefaultEventType = "domain"

// Limits on names; event names and types become NATS subject tokens.
const (
	maxEventNameLen = 128
	maxEventTypeLen = 64
	maxNameLen      = 128
)

func (t FieldType) valid() bool {
	switch t {
	case String, Int, Float, Bool, Time, JSON:
		return true
	}
	return false
}

func (t FieldType) applyField(f *fieldSpec) {
	if f.typeSet {
		f.problems = append(f.problems, fmt.Sprintf("type given twice (%s and %s)", f.typ, t))
		return
	}
	f.typ, f.typeSet = t, true
}

// A Definition describes one event: its name, type, inputs, entity and payload fields.
// Create it with Define; mistakes are reported by Err, by NewRegistry and by DumpSchema,
// never by a panic.
type Definition struct {
	name     string
	pkg      string         // import path of the package that called Define
	v        *SchemaVersion // Version 0, no fingerprint: the shape only
	problems []string
}

// Name returns the event name.
func (d *Definition) Name() string { return d.name }

// Err returns a *DefinitionError describing every mistake in the definition, or nil.
func (d *Definition) Err() error {
	if d.v == nil {
		return &DefinitionError{Event: d.name, Problem: "not created by edgeoutbox.Define"}
	}
	if len(d.problems) == 0 {
		return nil
	}
	return &DefinitionError{Event: d.name, Problem: strings.Join(d.problems, "; ")}
}

// Fingerprint returns the fingerprint the definition has in a schema file
// ("sha256:<hex>"), or "" when the definition has errors.
func (d *Definition) Fingerprint() string {
	if d.Err() != nil {
		return ""
	}
	return d.v.Fingerprint
}

// A DefinitionOption configures a Definition; see Input, EventType, RequiredPayload and
// the others.
type DefinitionOption interface {
	applyDefinition(*defBuilder)
}

// A FieldOption configures a field: its source (From or FromAttr) and its FieldType.
type FieldOption interface {
	applyField(*fieldSpec)
}

type defOption func(*defBuilder)

func (o defOption) applyDefinition(b *defBuilder) { o(b) }

// Source names the input (and the input's attribute) a field is read from. Create it
// with From or FromAttr.
type Source struct {
	input, attr string
}

// From reads a field from the input named input, using the attribute with the field's
// own name.
func From(input string) Source { return Source{input: input} }

// FromAttr reads a field from the attribute named attribute of the input named input,
// for when the field and the attribute are named differently.
func FromAttr(input, attribute string) Source {
	if attribute == "" {
		// Keep "FromAttr with an empty attribute" distinguishable from From.
		return Source{input: input, attr: "\x00"}
	}
	return Source{input: input, attr: attribute}
}

func (s Source) applyField(f *fieldSpec) {
	if f.sourceSet {
		f.problems = append(f.problems, "source given twice")
		return
	}
	f.input, f.attr, f.sourceSet = s.input, s.attr, true
}

type fieldRole int

const (
	rolePayload fieldRole = iota
	roleEntityClass
	roleEntityID
	roleEntityVersion
)

func (r fieldRole) String() string {
	switch r {
	case roleEntityClass:
		return "entity class"
	case roleEntityID:
		return "entity id"
	case roleEntityVersion:
		return "entity version"
	}
	return "payload field"
}

type fieldSpec struct {
	role      fieldRole
	name      string
	required  bool
	input     string
	attr      string
	sourceSet bool
	typ       FieldType
	typeSet   bool
	problems  []string
}

type defBuilder struct {
	typ      string
	typeSet  bool
	inputs   []SchemaInput
	fields   []*fieldSpec
	problems []string
}

// EventType sets the event type (for example "domain" or "integration"). It defaults to
// DefaultEventType. Like event names, types may hold only a-z, 0-9, '_' and '-' and must
// start with a letter.
func EventType(typ string) DefinitionOption {
	return defOption(func(b *defBuilder) {
		if b.typeSet {
			b.problems = append(b.problems, fmt.Sprintf("event type given twice (%q and %q)", b.typ, typ))
			return
		}
		b.typ, b.typeSet = typ, true
	})
}

// Input declares a required input: Emit fails when it is missing or nil.
func Input(name string) DefinitionOption {
	return defOption(func(b *defBuilder) { b.inputs = append(b.inputs, SchemaInput{Name: name, Required: true}) })
}

// OptionalInput declares an input that may be missing or nil; only optional payload
// fields may be read from it.
func OptionalInput(name string) DefinitionOption {
	return defOption(func(b *defBuilder) { b.inputs = append(b.inputs, SchemaInput{Name: name}) })
}

// nilOption describes o when it is nil or holds a nil pointer (a (*Source)(nil) or a
// nil *FieldType would panic when applied, and Define promises not to), else "".
func nilOption(o any) string {
	if o == nil {
		return "nil option"
	}
	if rv := reflect.ValueOf(o); isNilable(rv.Kind()) && rv.IsNil() {
		return fmt.Sprintf("nil option (%T)", o)
	}
	return ""
}

func fieldOption(role fieldRole, name string, required bool, opts []FieldOption) DefinitionOption {
	return defOption(func(b *defBuilder) {
		f := &fieldSpec{role: role, name: name, required: required}
		for _, o := range opts {
			if p := nilOption(o); p != "" {
				f.problems = append(f.problems, p)
				continue
			}
			o.applyField(f)
		}
		b.fields = append(b.fields, f)
	})
}

// EntityClass declares the field holding the entity's class (a String).
func EntityClass(name string, opts ...FieldOption) DefinitionOption {
	return fieldOption(roleEntityClass, name, true, opts)
}

// EntityID declares the field holding the entity's id (a String or an Int, stored as
// its decimal string).
func EntityID(name string, opts ...FieldOption) DefinitionOption {
	return fieldOption(roleEntityID, name, true, opts)
}

// EntityVersion declares the field holding the entity's version (an Int). It requires
// EntityID.
func EntityVersion(name string, opts ...FieldOption) DefinitionOption {
	return fieldOption(roleEntityVersion, name, true, opts)
}

// RequiredPayload declares a payload field that must be present and non-nil. It must be
// read from a required input.
func RequiredPayload(name string, opts ...FieldOption) DefinitionOption {
	return fieldOption(rolePayload, name, true, opts)
}

// OptionalPayload declares a payload field that is left out of the payload when it is
// missing or nil.
func OptionalPayload(name string, opts ...FieldOption) DefinitionOption {
	return fieldOption(rolePayload, name, false, opts)
}

// Define declares an event. It never panics: mistakes are collected and reported by
// Err, NewRegistry and DumpSchema.
//
// Event names become NATS subject tokens: 1 to 128 characters from a-z, 0-9, '_' and
// '-', starting with a letter. Input and field names are letters, digits, '_' and '-',
// starting with a letter or '_'.
//
// Rules checked here: every field has exactly one source (From or FromAttr) naming a
// declared input and exactly one FieldType; field names are unique across entity and
// payload fields; each entity part is declared at most once; the entity class is a
// String, the id a String or Int, the version an Int and only with an id; entity fields
// and required payload fields read from required inputs (an optional input may be
// missing, so a field read from it cannot be required). An event without inputs,
// entity or payload is allowed.
//
// When an event is built, entity fields must be present (and class and string ids
// non-empty); the payload is a JSON object with the fields in declaration order, where a
// missing optional field is left out rather than written as null.
func Define(name string, opts ...DefinitionOption) *Definition {
	b := &defBuilder{typ: DefaultEventType}
	for _, o := range opts {
		if p := nilOption(o); p != "" {
			b.problems = append(b.problems, p)
			continue
		}
		o.applyDefinition(b)
	}
	d := &Definition{name: name}
	d.recordCaller(1)
	if p := checkEventName(name); p != "" {
		d.problems = append(d.problems, p)
	}
	d.problems = append(d.problems, b.problems...)

	v := &SchemaVersion{Type: b.typ, Inputs: b.inputs, Payload: []SchemaField{}}
	if v.Inputs == nil {
		v.Inputs = []SchemaInput{}
	}
	for _, f := range b.fields {
		label := fmt.Sprintf("%s %q", f.role, f.name)
		for _, p := range f.problems {
			d.problems = append(d.problems, label+": "+p)
		}
		attr := f.attr
		switch attr {
		case "":
			attr = f.name
		case "\x00":
			attr = ""
		}
		sf := SchemaField{Name: f.name, From: f.input, Attribute: attr, Type: f.typ, Required: f.required}
		if f.role == rolePayload {
			v.Payload = append(v.Payload, sf)
			continue
		}
		if v.Entity == nil {
			v.Entity = &SchemaEntity{}
		}
		slot := v.Entity.slot(f.role)
		if *slot != nil {
			d.problems = append(d.problems, fmt.Sprintf("%s declared twice (%q and %q)", f.role, (*slot).Name, f.name))
			continue
		}
		*slot = &sf
	}
	d.problems = append(d.problems, v.problems()...)
	if len(d.problems) == 0 {
		v.Fingerprint = v.fingerprint()
	}
	d.v = v
	return d
}

func (e *SchemaEntity) slot(r fieldRole) **SchemaField {
	switch r {
	case roleEntityClass:
		return &e.Class
	case roleEntityID:
		return &e.ID
	}
	return &e.Version
}

// checkToken reports what is wrong with an event name or type, or "".
func checkToken(what, s string, max int) string {
	if s == "" {
		return what + " is empty"
	}
	if len(s) > max {
		return fmt.Sprintf("%s %q is longer than %d characters", what, s, max)
	}
	if s[0] < 'a' || s[0] > 'z' {
		return fmt.Sprintf("%s %q must start with a lower-case letter a-z", what, s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' && c != '-' {
			return fmt.Sprintf("%s %q may hold only a-z, 0-9, '_' and '-' (it becomes a NATS subject token)", what, s)
		}
	}
	return ""
}

func checkEventName(name string) string { return checkToken("event name", name, maxEventNameLen) }

// checkIdent reports what is wrong with an input or field name, or "".
// Allowed: a letter or '_' followed by letters, digits, '_' and '-'.
func checkIdent(what, s string) string {
	if s == "" {
		return what + " is empty"
	}
	if len(s) > maxNameLen {
		return fmt.Sprintf("%s %q is longer than %d characters", what, s, maxNameLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
		if i == 0 && !letter {
			return fmt.Sprintf("%s %q must start with a letter or '_'", what, s)
		}
		if !letter && (c < '0' || c > '9') && c != '-' {
			return fmt.Sprintf("%s %q may hold only letters, digits, '_' and '-'", what, s)
		}
	}
	return ""
}

func checkAttribute(s string) string {
	if s == "" {
		return "attribute is empty"
	}
	if len(s) > maxNameLen {
		return fmt.Sprintf("attribute %q is longer than %d characters", s, maxNameLen)
	}
	if !utf8.ValidString(s) {
		return fmt.Sprintf("attribute %q is not valid UTF-8", s)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fmt.Sprintf("attribute %q holds a control character", s)
		}
	}
	return ""
}

// problems validates the shape of a version (shared by Define and the schema loader).
// It does not look at Version or Fingerprint.
func (v *SchemaVersion) problems() []string {
	var out []string
	if p := checkToken("event type", v.Type, maxEventTypeLen); p != "" {
		out = append(out, p)
	}
	inputs := make(map[string]bool, len(v.Inputs)) // name -> required
	for _, in := range v.Inputs {
		if p := checkIdent("input name", in.Name); p != "" {
			out = append(out, p)
			continue
		}
		if _, dup := inputs[in.Name]; dup {
			out = append(out, fmt.Sprintf("input %q declared twice", in.Name))
			continue
		}
		inputs[in.Name] = in.Required
	}
	names := make(map[string]fieldRole)
	check := func(role fieldRole, f *SchemaField) {
		label := fmt.Sprintf("%s %q", role, f.Name)
		if p := checkIdent("field name", f.Name); p != "" {
			out = append(out, fmt.Sprintf("%s: %s", role, p))
			return
		}
		if prev, dup := names[f.Name]; dup {
			out = append(out, fmt.Sprintf("field name %q used twice (%s and %s)", f.Name, prev, role))
		} else {
			names[f.Name] = role
		}
		switch {
		case f.Type == "":
			out = append(out, label+": no type: add one of edgeoutbox.String, Int, Float, Bool, Time or JSON")
		case !f.Type.valid():
			out = append(out, fmt.Sprintf("%s: unknown type %q (use string, int, float, bool, time or json)", label, f.Type))
		}
		if f.From == "" {
			out = append(out, label+": no source: add edgeoutbox.From(<input>)")
		} else {
			if p := checkAttribute(f.Attribute); p != "" {
				out = append(out, label+": "+p)
			}
			req, ok := inputs[f.From]
			switch {
			case !ok:
				out = append(out, fmt.Sprintf("%s: from unknown input %q (declare it with edgeoutbox.Input(%q) or OptionalInput)", label, f.From, f.From))
			case !req && f.Required && role == rolePayload:
				out = append(out, fmt.Sprintf("%s: required but read from optional input %q (make the field optional or the input required)", label, f.From))
			case !req && role != rolePayload:
				out = append(out, fmt.Sprintf("%s: read from optional input %q (entity fields need a required input)", label, f.From))
			}
		}
		switch role {
		case roleEntityClass:
			if f.Type != "" && f.Type != String {
				out = append(out, fmt.Sprintf("%s: type must be string, not %s", label, f.Type))
			}
		case roleEntityID:
			if f.Type != "" && f.Type != String && f.Type != Int {
				out = append(out, fmt.Sprintf("%s: type must be string or int, not %s", label, f.Type))
			}
		case roleEntityVersion:
			if f.Type != "" && f.Type != Int {
				out = append(out, fmt.Sprintf("%s: type must be int, not %s", label, f.Type))
			}
		}
		if role != rolePayload && !f.Required {
			out = append(out, label+": entity fields are always required")
		}
	}
	if e := v.Entity; e != nil {
		if e.Class == nil && e.ID == nil && e.Version == nil {
			out = append(out, "entity is empty")
		}
		if e.Class != nil {
			check(roleEntityClass, e.Class)
		}
		if e.ID != nil {
			check(roleEntityID, e.ID)
		}
		if e.Version != nil {
			check(roleEntityVersion, e.Version)
			if e.ID == nil {
				out = append(out, fmt.Sprintf("entity version %q needs an entity id: add edgeoutbox.EntityID", e.Version.Name))
			}
		}
	}
	for i := range v.Payload {
		check(rolePayload, &v.Payload[i])
	}
	return out
}

// A Registry is a validated set of definitions with unique names.
type Registry struct {
	defs  map[string]*Definition
	names []string
}

// NewRegistry validates defs: it returns an error (matching ErrInvalidDefinition) that
// reports every definition with a mistake, a nil definition, or a name used twice.
func NewRegistry(defs ...*Definition) (*Registry, error) {
	r := &Registry{defs: make(map[string]*Definition, len(defs))}
	var errs []error
	for i, d := range defs {
		if d == nil {
			errs = append(errs, &DefinitionError{Problem: fmt.Sprintf("definition %d is nil", i)})
			continue
		}
		if err := d.Err(); err != nil {
			errs = append(errs, err)
			continue
		}
		if _, dup := r.defs[d.name]; dup {
			errs = append(errs, &DefinitionError{Event: d.name, Problem: "defined twice"})
			continue
		}
		r.defs[d.name] = d
		r.names = append(r.names, d.name)
	}
	if len(errs) > 0 {
		return nil, joinErrors(errs)
	}
	sort.Strings(r.names)
	return r, nil
}

// Names returns the event names, sorted.
func (r *Registry) Names() []string { return append([]string(nil), r.names...) }

// Lookup returns the definition of the named event, or nil.
func (r *Registry) Lookup(name string) *Definition { return r.defs[name] }

// Definitions returns the definitions sorted by name.
func (r *Registry) Definitions() []*Definition {
	out := make([]*Definition, len(r.names))
	for i, n := range r.names {
		out[i] = r.defs[n]
	}
	return out
}

// joinErrors returns the single error itself, or errors.Join of several.
func joinErrors(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}
