package edgeoutbox

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// DefaultSchemaFile is the default name of the schema file.
const DefaultSchemaFile = "event_schema.json"

// SchemaFormatVersion is the format_version this edgeoutbox reads and writes.
const SchemaFormatVersion = 1

// dumpHint is the remedy every message about a missing or stale schema file names.
const dumpHint = `run "edgeoutbox schema dump <definitions package>" or edgeoutbox.DumpSchema`

// A Schema is a loaded schema file: every version of every event. It is immutable and
// safe for concurrent use.
type Schema struct {
	file   string // file name used in messages
	events map[string][]*SchemaVersion
	names  []string // sorted

	pkg     string       // definitions package that embeds the file (EmbeddedSchema), or ""
	origin  schemaOrigin // where file is, for the command that updates it
	loadErr error        // EmbeddedSchema's parse error, returned by Open
}

// schemaOrigin says where a schema's file lies, which decides the command a message
// can name to update that very file.
type schemaOrigin int

const (
	originBytes   schemaOrigin = iota // ParseSchema, NewSchema, With: no file on disk is known
	originPath                        // LoadSchemaFile: file is a path the CLI can write
	originFS                          // LoadSchemaFS: file is a name inside some fs.FS
	originEmbedFS                     // LoadSchemaFS with an embed.FS: a name below a package directory
)

// A SchemaVersion is one version of one event as recorded in the schema file. Treat it
// as read-only.
type SchemaVersion struct {
	// Version numbers start at 1 and increase by one per change of the definition.
	Version int `json:"version"`
	// Type is the event type, e.g. "domain".
	Type string `json:"type"`
	// Fingerprint is "sha256:" and the hex SHA-256 of the canonical encoding of Type,
	// Inputs, Entity and Payload (not of Version).
	Fingerprint string        `json:"fingerprint"`
	Inputs      []SchemaInput `json:"inputs"`
	Entity      *SchemaEntity `json:"entity,omitempty"`
	Payload     []SchemaField `json:"payload"`

	plan *buildPlan // compiled when the version joins a Schema
}

// A SchemaInput is a named input of an event.
type SchemaInput struct {
	Name     string `json:"name"`
	Required bool   `json:"required"`
}

// A SchemaEntity lists the entity fields of an event; each is nil when not declared.
type SchemaEntity struct {
	Class   *SchemaField `json:"class,omitempty"`
	ID      *SchemaField `json:"id,omitempty"`
	Version *SchemaField `json:"version,omitempty"`
}

// A SchemaField is an entity or payload field: read from the attribute Attribute of the
// input From and cast to Type. Entity fields are always required.
type SchemaField struct {
	Name      string    `json:"name"`
	From      string    `json:"from"`
	Attribute string    `json:"attribute"`
	Type      FieldType `json:"type"`
	Required  bool      `json:"required"`
}

// fingerprint computes the fingerprint of the version's shape. The encoding is
// encoding/json's compact form of {type, inputs, entity, payload} in that order, so it
// is stable as long as the file format is.
func (v *SchemaVersion) fingerprint() string {
	shape := struct {
		Type    string        `json:"type"`
		Inputs  []SchemaInput `json:"inputs"`
		Entity  *SchemaEntity `json:"entity,omitempty"`
		Payload []SchemaField `json:"payload"`
	}{v.Type, v.Inputs, v.Entity, v.Payload}
	if shape.Inputs == nil {
		shape.Inputs = []SchemaInput{}
	}
	if shape.Payload == nil {
		shape.Payload = []SchemaField{}
	}
	b, err := json.Marshal(shape)
	if err != nil {
		// Only strings, bools and slices of them: cannot fail.
		panic("edgeoutbox: encode fingerprint: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// clone returns a deep copy of the version's shape with the given version number.
func (v *SchemaVersion) clone(version int) *SchemaVersion {
	c := &SchemaVersion{
		Version:     version,
		Type:        v.Type,
		Fingerprint: v.Fingerprint,
		Inputs:      append([]SchemaInput{}, v.Inputs...),
		Payload:     append([]SchemaField{}, v.Payload...),
	}
	if e := v.Entity; e != nil {
		c.Entity = &SchemaEntity{}
		for _, p := range []struct {
			dst **SchemaField
			src *SchemaField
		}{{&c.Entity.Class, e.Class}, {&c.Entity.ID, e.ID}, {&c.Entity.Version, e.Version}} {
			if p.src != nil {
				f := *p.src
				*p.dst = &f
			}
		}
	}
	return c
}

// NewSchema returns an empty schema, as if from an empty file named file (used in
// messages; "" means DefaultSchemaFile). Use With to add definitions.
func NewSchema(file string) *Schema {
	if file == "" {
		file = DefaultSchemaFile
	}
	return &Schema{file: file, events: map[string][]*SchemaVersion{}}
}

// File returns the file name the schema was loaded from (DefaultSchemaFile for a schema
// parsed from bytes).
func (s *Schema) File() string { return s.file }

// Events returns the names of all events in the schema, sorted.
func (s *Schema) Events() []string { return append([]string(nil), s.names...) }

// Versions returns every version of the named event, oldest first, or nil.
func (s *Schema) Versions(name string) []*SchemaVersion {
	return append([]*SchemaVersion(nil), s.events[name]...)
}

// Latest returns the latest version of the named event, or nil.
func (s *Schema) Latest(name string) *SchemaVersion {
	vs := s.events[name]
	if len(vs) == 0 {
		return nil
	}
	return vs[len(vs)-1]
}

// Fingerprint returns the fingerprint of the latest version of the named event, or "".
func (s *Schema) Fingerprint(name string) string {
	if v := s.Latest(name); v != nil {
		return v.Fingerprint
	}
	return ""
}

// lookup returns the version to emit; version 0 means the latest.
func (s *Schema) lookup(name string, version int) (*SchemaVersion, error) {
	vs := s.events[name]
	if len(vs) == 0 {
		return nil, fmt.Errorf("%w %q: it is not in %s; define it and %s", ErrUnknownEvent, name, s.file, s.remedyText(s.pkg))
	}
	if version == 0 {
		return vs[len(vs)-1], nil
	}
	if version < 0 || version > len(vs) {
		var have string
		if len(vs) == 1 {
			have = "only version 1"
		} else {
			have = "versions 1 to " + strconv.Itoa(len(vs))
		}
		return nil, fmt.Errorf("%w: event %q has no version %d in %s (it has %s)", ErrUnknownVersion, name, version, s.file, have)
	}
	return vs[version-1], nil
}

// setEvents installs events and recomputes the sorted name list.
func (s *Schema) setEvents(events map[string][]*SchemaVersion) {
	s.events = events
	for _, vs := range events {
		for _, v := range vs {
			if v.plan == nil {
				v.plan = compilePlan(v)
			}
		}
	}
	s.names = make([]string, 0, len(events))
	for n := range events {
		s.names = append(s.names, n)
	}
	sort.Strings(s.names)
}

// describe returns a one-line human summary of a field, used in changes and errors.
func (f *SchemaField) describe() string {
	var b strings.Builder
	b.WriteString(string(f.Type))
	if f.Required {
		b.WriteString(", required")
	} else {
		b.WriteString(", optional")
	}
	b.WriteString(", from ")
	b.WriteString(f.From)
	if f.Attribute != f.Name {
		b.WriteString(".")
		b.WriteString(f.Attribute)
	}
	return b.String()
}
