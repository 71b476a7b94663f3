package edgeoutbox

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// SchemaFileError describes what is wrong with a schema file. It matches
// ErrInvalidSchemaFile with errors.Is.
type SchemaFileError struct {
	File    string // file name as given to the loader
	Event   string // event concerned, "" when the problem is not about one event
	Version int    // version concerned, 0 when the problem is not about one version
	Problem string
}

// Error implements error.
func (e *SchemaFileError) Error() string {
	var b strings.Builder
	b.WriteString("edgeoutbox: invalid schema file ")
	b.WriteString(e.File)
	if e.Event != "" {
		fmt.Fprintf(&b, ": event %q", e.Event)
	}
	if e.Version != 0 {
		fmt.Fprintf(&b, " version %d", e.Version)
	}
	b.WriteString(": ")
	b.WriteString(e.Problem)
	return b.String()
}

// Is reports whether target is ErrInvalidSchemaFile.
func (e *SchemaFileError) Is(target error) bool { return target == ErrInvalidSchemaFile }

// fileLayout is the JSON layout of a schema file. encoding/json writes struct fields in
// order and map keys sorted, which is what makes the file canonical.
type fileLayout struct {
	FormatVersion int                   `json:"format_version"`
	Events        map[string]*fileEvent `json:"events"`
}

type fileEvent struct {
	Versions []*SchemaVersion `json:"versions"`
}

const editHint = "restore the file from version control (or fix it by hand) and " + dumpHint

// ParseSchema parses and validates the bytes of a schema file, for example one
// embedded with //go:embed. Messages name the file DefaultSchemaFile; a drift error
// names "edgeoutbox schema dump --out" with a placeholder for the file, which bytes
// cannot tell.
func ParseSchema(data []byte) (*Schema, error) { return parseSchema(DefaultSchemaFile, data) }

// LoadSchemaFile reads and validates the schema file at path. A missing file is an
// error matching ErrSchemaNotFound that says how to create it.
func LoadSchemaFile(path string) (*Schema, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, readError(path, err)
	}
	s, err := parseSchema(path, data)
	if err != nil {
		return nil, err
	}
	s.origin = originPath
	return s, nil
}

// LoadSchemaFS reads and validates the schema file name in fsys (for example an
// embed.FS). A missing file is an error matching ErrSchemaNotFound. A drift error
// names "edgeoutbox schema dump --out" on that file, with a placeholder for the
// directory it lies in (for an embed.FS, that of the package with the //go:embed
// line), which the program cannot know.
func LoadSchemaFS(fsys fs.FS, name string) (*Schema, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, readError(name, err)
	}
	s, err := parseSchema(name, data)
	if err != nil {
		return nil, err
	}
	s.origin = originFS
	switch fsys.(type) {
	case embed.FS, *embed.FS:
		s.origin = originEmbedFS
	}
	return s, nil
}

func readError(name string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s: %s (e.g. from go generate) to create it, then commit it", ErrSchemaNotFound, name, dumpHint)
	}
	return fmt.Errorf("read schema file %s: %w", name, err)
}

func parseSchema(file string, data []byte) (*Schema, error) {
	fail := func(event string, version int, format string, args ...any) error {
		return &SchemaFileError{File: file, Event: event, Version: version, Problem: fmt.Sprintf(format, args...)}
	}
	if err := checkJSON(data); err != nil {
		var dup *duplicateKeyError
		if errors.As(err, &dup) {
			if dup.path == ".events" {
				return nil, fail(dup.key, 0, "event appears twice; keep one and %s", dumpHint)
			}
			return nil, fail("", 0, "key %q appears twice in %s; %s", dup.key, dup.path, editHint)
		}
		return nil, fail("", 0, "not valid JSON: %v; %s", err, editHint)
	}
	// Check the format version before anything else: a newer format may have fields
	// this version does not know.
	var head struct {
		FormatVersion json.RawMessage `json:"format_version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fail("", 0, "the top level must be a JSON object: %v", err)
	}
	if string(head.FormatVersion) != strconv.Itoa(SchemaFormatVersion) {
		if head.FormatVersion == nil {
			return nil, fail("", 0, "format_version is missing; %s", editHint)
		}
		return nil, fail("", 0, "unknown format_version %s (this edgeoutbox reads format_version %d; upgrade edgeoutbox)", head.FormatVersion, SchemaFormatVersion)
	}
	var layout fileLayout
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&layout); err != nil {
		return nil, fail("", 0, "%v; %s", err, editHint)
	}
	events := make(map[string][]*SchemaVersion, len(layout.Events))
	names := make([]string, 0, len(layout.Events))
	for name := range layout.Events {
		names = append(names, name)
	}
	sort.Strings(names) // report the first bad event in file order, every time
	for _, name := range names {
		ev := layout.Events[name]
		if p := checkEventName(name); p != "" {
			return nil, fail(name, 0, "%s", p)
		}
		if ev == nil || len(ev.Versions) == 0 {
			return nil, fail(name, 0, "no versions; %s", editHint)
		}
		for i, v := range ev.Versions {
			if v == nil {
				return nil, fail(name, 0, "version entry %d is null; %s", i+1, editHint)
			}
			if v.Version != i+1 {
				return nil, fail(name, 0, "versions must be numbered 1, 2, 3... in order, but entry %d has version %d; %s", i+1, v.Version, editHint)
			}
			if v.Inputs == nil {
				v.Inputs = []SchemaInput{}
			}
			if v.Payload == nil {
				v.Payload = []SchemaField{}
			}
			if ps := v.problems(); len(ps) > 0 {
				return nil, fail(name, v.Version, "%s; %s", strings.Join(ps, "; "), editHint)
			}
			if want := v.fingerprint(); v.Fingerprint != want {
				return nil, fail(name, v.Version, "fingerprint %q does not match the content (%s); the file was edited by hand: never edit a dumped version, change the Go definition and %s", v.Fingerprint, want, dumpHint)
			}
		}
		events[name] = ev.Versions
	}
	s := &Schema{file: file}
	s.setEvents(events)
	return s, nil
}

type duplicateKeyError struct {
	path, key string
}

func (e *duplicateKeyError) Error() string {
	return fmt.Sprintf("duplicate key %q in %s", e.key, e.path)
}

// checkJSON checks that data is exactly one JSON value with no duplicate object keys
// (encoding/json would silently keep the last one).
func checkJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := scanValue(dec, ""); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			return errors.New("data after the top-level value")
		}
		return err
	}
	return nil
}

func scanValue(dec *json.Decoder, path string) error {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	switch d {
	case '{':
		seen := make(map[string]bool)
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return err
			}
			key, _ := tok.(string)
			if seen[key] {
				return &duplicateKeyError{path: displayPath(path), key: key}
			}
			seen[key] = true
			if err := scanValue(dec, path+"."+key); err != nil {
				return err
			}
		}
	case '[':
		for i := 0; dec.More(); i++ {
			if err := scanValue(dec, path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	}
	_, err = dec.Token() // the closing delimiter
	return err
}

func displayPath(p string) string {
	if p == "" {
		return "the top-level object"
	}
	return p
}

// Bytes returns the canonical encoding of the schema: keys in a fixed order, events
// sorted by name, 2-space indent and a trailing newline.
func (s *Schema) Bytes() []byte {
	layout := fileLayout{FormatVersion: SchemaFormatVersion, Events: make(map[string]*fileEvent, len(s.events))}
	for name, vs := range s.events {
		layout.Events[name] = &fileEvent{Versions: vs}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(layout); err != nil {
		// Only strings, ints, bools and slices of them: cannot fail.
		panic("edgeoutbox: encode schema: " + err.Error())
	}
	return buf.Bytes()
}

// DumpResult reports what a dump did, by event name (each list sorted).
type DumpResult struct {
	Added     []string // new events, recorded as version 1
	Changed   []string // events that got a new version
	Unchanged []string // events whose latest version matches the definition
	Retained  []string // events in the file with no definition; kept, never deleted
	// Latest maps each defined event to its latest version number after the dump.
	Latest  map[string]int
	Written bool // the file was (re)written
}

// With returns a new schema with defs recorded: a definition whose fingerprint differs
// from the latest version of its event is appended as a new version, a new event starts
// at version 1, and events without a definition are kept. s is not modified.
func (s *Schema) With(defs ...*Definition) (*Schema, DumpResult, error) {
	var res DumpResult
	reg, err := NewRegistry(defs...)
	if err != nil {
		return nil, res, err
	}
	events := make(map[string][]*SchemaVersion, len(s.events)+len(defs))
	for name, vs := range s.events {
		events[name] = vs[:len(vs):len(vs)] // appending must not touch s
		if reg.Lookup(name) == nil {
			res.Retained = append(res.Retained, name)
		}
	}
	res.Latest = make(map[string]int, len(defs))
	for _, d := range reg.Definitions() {
		vs := events[d.name]
		res.Latest[d.name] = len(vs)
		switch {
		case len(vs) == 0:
			res.Added = append(res.Added, d.name)
		case vs[len(vs)-1].Fingerprint == d.v.Fingerprint:
			res.Unchanged = append(res.Unchanged, d.name)
			continue
		default:
			res.Changed = append(res.Changed, d.name)
		}
		events[d.name] = append(vs, d.v.clone(len(vs)+1))
		res.Latest[d.name] = len(vs) + 1
	}
	sort.Strings(res.Retained)
	out := &Schema{file: s.file}
	out.setEvents(events)
	return out, res, nil
}

// DumpSchema records defs in the schema file at path (DefaultSchemaFile in the current
// directory when path is ""), creating it if needed. See Schema.With for what changes.
// The file is replaced atomically, and only when its bytes change, so dumping unchanged
// definitions leaves it untouched. Call it from go generate or use the
// "edgeoutbox schema dump" command.
func DumpSchema(path string, defs ...*Definition) (DumpResult, error) {
	if path == "" {
		path = DefaultSchemaFile
	}
	old, err := os.ReadFile(path)
	var cur *Schema
	switch {
	case errors.Is(err, fs.ErrNotExist):
		cur = NewSchema(path)
	case err != nil:
		return DumpResult{}, fmt.Errorf("dump schema: read %s: %w", path, err)
	default:
		if cur, err = parseSchema(path, old); err != nil {
			return DumpResult{}, fmt.Errorf("dump schema: %w", err)
		}
	}
	next, res, err := cur.With(defs...)
	if err != nil {
		return res, fmt.Errorf("dump schema: %w", err)
	}
	data := next.Bytes()
	if bytes.Equal(data, old) {
		return res, nil
	}
	if err := writeFileAtomic(path, data); err != nil {
		return res, fmt.Errorf("dump schema: %w", err)
	}
	res.Written = true
	return res, nil
}

// writeFileAtomic writes data to a temporary file next to path and renames it over
// path, so readers see the old or the new file, never a partial one.
func writeFileAtomic(path string, data []byte) (err error) {
	mode := fs.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Chmod(mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
