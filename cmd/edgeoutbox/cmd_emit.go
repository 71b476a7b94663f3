package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
)

func emitCommand() *command {
	return &command{
		Name:    "emit",
		Args:    "<event> --db PATH [--schema FILE] --input NAME=JSON ... [--metadata JSON] [--idempotency-key KEY] [--version N] [--occurred-at RFC3339] [--json]",
		Summary: "store one event in an outbox, for scripts",
		Details: `Checks the inputs against the event's schema, casts them and stores the event in the
outbox database (created if missing); a running relay publishes it. Each --input gives
one input as a JSON object, e.g.
  edgeoutbox emit cow_fed --db app.db --input 'cow={"class_name":"Cow","id":7,"version":3,"weight":512.5}'
Numbers keep their exact digits. Prints the event's id and idempotency key.`,
		run: runEmit,
	}
}

// inputFlags collects repeated --input values as given; they are parsed after the
// flags so that an error can name the input.
type inputFlags []string

func (f *inputFlags) String() string     { return strings.Join(*f, " ") }
func (f *inputFlags) Set(s string) error { *f = append(*f, s); return nil }

type emitOutput struct {
	ID             int64  `json:"id"`
	IdempotencyKey string `json:"idempotency_key"`
	Event          string `json:"event"`
	Version        int    `json:"version"`
}

func runEmit(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := newFlagSet(cmd)
	dbPath := fs.String("db", "", "outbox database `PATH` (created if missing)")
	schemaFile := fs.String("schema", edgeoutbox.DefaultSchemaFile, "schema `FILE`")
	var inputs inputFlags
	fs.Var(&inputs, "input", "an input as `NAME=JSON`, e.g. cow={\"id\":7}; repeat for each input")
	metadata := fs.String("metadata", "", "metadata as a `JSON` object of strings, e.g. {\"request_id\":\"r1\"}")
	key := fs.String("idempotency-key", "", "idempotency `KEY` (default: a new UUIDv7)")
	version := fs.Int("version", 0, "emit this older `VERSION` of the event (default: the latest)")
	occurredAt := fs.String("occurred-at", "", "when the event happened, as an RFC 3339 `TIME` (default: now)")
	asJSON := fs.Bool("json", false, "print the receipt as JSON")
	rest, err := c.parse(cmd, fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(cmd, fs, rest, 1, 1, "event name"); err != nil {
		return err
	}
	if err := requireFlag(cmd, fs, "db", *dbPath); err != nil {
		return err
	}
	name := rest[0]
	in := edgeoutbox.Inputs{}
	for _, raw := range inputs {
		n, v, err := parseInputFlag(raw)
		if err != nil {
			return usageErrorf(cmd, fs, "--input %s", err)
		}
		if _, dup := in[n]; dup {
			return usageErrorf(cmd, fs, "--input %q is given twice", n)
		}
		in[n] = v
	}
	var opts []edgeoutbox.EmitOption
	if *metadata != "" {
		md, err := parseMetadata(*metadata)
		if err != nil {
			return usageErrorf(cmd, fs, "--metadata: %v", err)
		}
		opts = append(opts, edgeoutbox.WithMetadata(md))
	}
	if *key != "" {
		opts = append(opts, edgeoutbox.WithIdempotencyKey(*key))
	}
	versionSet := false
	fs.Visit(func(f *flag.Flag) { versionSet = versionSet || f.Name == "version" })
	if versionSet && *version < 1 {
		return usageErrorf(cmd, fs, "--version %d: versions start at 1; leave --version out for the latest", *version)
	}
	if versionSet {
		opts = append(opts, edgeoutbox.WithVersion(*version))
	}
	if *occurredAt != "" {
		t, err := time.Parse(time.RFC3339Nano, *occurredAt)
		if err != nil {
			return usageErrorf(cmd, fs, "--occurred-at %q is not an RFC 3339 time such as 2025-01-02T15:04:05Z", *occurredAt)
		}
		opts = append(opts, edgeoutbox.WithOccurredAt(t))
	}

	// Everything that can be checked without the database is checked before it is
	// opened (and perhaps created).
	schema, err := edgeoutbox.LoadSchemaFile(*schemaFile)
	if err != nil {
		return err
	}
	versions := schema.Versions(name)
	if len(versions) == 0 {
		return unknownEventError(name, *schemaFile)
	}
	if *version > len(versions) {
		return fmt.Errorf("event %q has no version %d in %s (latest is %d): run \"edgeoutbox schema show --schema %s %s\" to see its versions",
			name, *version, *schemaFile, len(versions), *schemaFile, name)
	}
	emitted := len(versions)
	if *version > 0 {
		emitted = *version
	}

	if err := checkDatabaseFile(ctx, *dbPath, true); err != nil {
		return err
	}
	if err := dryEmit(ctx, schema, name, in, opts); err != nil {
		return fmt.Errorf("emit %s: %w", name, err)
	}
	e, err := openOutbox(ctx, *dbPath, true, edgeoutbox.Config{Schema: schema})
	if err != nil {
		return err
	}
	receipt, err := e.Emit(ctx, name, in, opts...)
	closeErr := e.Close()
	if err != nil {
		return fmt.Errorf("emit %s: %w", name, err)
	}
	if closeErr != nil {
		return fmt.Errorf("close %s: %w", *dbPath, closeErr)
	}
	out := emitOutput{ID: receipt.ID, IdempotencyKey: receipt.IdempotencyKey, Event: name, Version: emitted}
	if *asJSON {
		return writeJSON(c.stdout, out)
	}
	fmt.Fprintf(c.stdout, "emitted %s v%d: id %d, idempotency key %s\n", out.Event, out.Version, out.ID, out.IdempotencyKey)
	return nil
}

// parseInputFlag parses one --input value, NAME=JSON: NAME is an input name as event
// definitions declare them, JSON one JSON object (its attributes feed the event's
// fields) or null (a missing input). Numbers are decoded as json.Number, so that an
// int field receives exactly the digits given.
func parseInputFlag(s string) (name string, value any, err error) {
	i := strings.IndexByte(s, '=')
	if i < 0 {
		return "", nil, fmt.Errorf("%q: want NAME=JSON, e.g. cow={\"id\":7}", truncate(s))
	}
	name, raw := s[:i], s[i+1:]
	if problem := checkInputName(name); problem != "" {
		return "", nil, fmt.Errorf("%q: %s", truncate(s), problem)
	}
	if strings.TrimSpace(raw) == "" {
		return "", nil, fmt.Errorf("%s: no JSON after '=': give a JSON object, e.g. %s={\"id\":7}", name, name)
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&value); err != nil {
		return "", nil, fmt.Errorf("%s: malformed JSON: %v", name, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return "", nil, fmt.Errorf("%s: malformed JSON: more after the first JSON value", name)
	}
	switch value.(type) {
	case map[string]any, nil:
		return name, value, nil
	}
	var kind string
	switch bytes.TrimSpace([]byte(raw))[0] {
	case '[':
		kind = "an array"
	case '"':
		kind = "a string"
	case 't', 'f':
		kind = "a boolean"
	default:
		kind = "a number"
	}
	return "", nil, fmt.Errorf("%s: want a JSON object whose attributes feed the event's fields, got %s", name, kind)
}

// checkInputName applies the rule of event definitions: a letter or '_' followed by
// letters, digits, '_' and '-'.
func checkInputName(s string) string {
	if s == "" {
		return "the input name before '=' is empty"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
		if i == 0 && !letter {
			return "an input name starts with a letter or '_'"
		}
		if !letter && (c < '0' || c > '9') && c != '-' {
			return "an input name holds only letters, digits, '_' and '-'"
		}
	}
	return ""
}

func truncate(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

// parseMetadata decodes a JSON object of strings.
func parseMetadata(s string) (map[string]string, error) {
	var md map[string]string
	dec := json.NewDecoder(strings.NewReader(s))
	if err := dec.Decode(&md); err != nil {
		return nil, fmt.Errorf("want a JSON object of strings, e.g. {\"request_id\":\"r1\"}: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("want one JSON object of strings: more after it")
	}
	if md == nil {
		return nil, errors.New("want a JSON object of strings, e.g. {\"request_id\":\"r1\"}, not null")
	}
	return md, nil
}

// dryEmit emits the event into a throwaway outbox in a temporary directory, which is
// removed again. Casting the inputs happens only inside Engine.Emit (the library has no
// "build without storing"), and emit creates a missing database: without this, inputs
// that do not cast would leave a new, empty database behind at a mistyped --db path.
func dryEmit(ctx context.Context, schema *edgeoutbox.Schema, name string, in edgeoutbox.Inputs, opts []edgeoutbox.EmitOption) error {
	dir, err := os.MkdirTemp("", "edgeoutbox-emit-")
	if err != nil {
		return fmt.Errorf("check the inputs: %w", err)
	}
	defer os.RemoveAll(dir)
	e, err := edgeoutbox.Open(ctx, filepath.Join(dir, "check.db"), edgeoutbox.Config{Schema: schema})
	if err != nil {
		return fmt.Errorf("check the inputs: %w", err)
	}
	_, err = e.Emit(ctx, name, in, opts...)
	e.Close()
	return err
}
