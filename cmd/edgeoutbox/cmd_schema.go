package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/edgeoutbox/edgeoutbox/internal/schemadump"
	"github.com/edgeoutbox/edgeoutbox/internal/shellquote"
)

func schemaCommand() *command {
	return &command{
		Name:    "schema",
		Summary: "dump, check and read the event schema file",
		Subcommands: []*command{
			{
				Name:    "dump",
				Args:    "[--out FILE] [--json] <definitions package>",
				Summary: "record a package's event definitions in the schema file",
				Details: `Builds and runs a small program against the Go package that declares the events
(exported package-level variables set with edgeoutbox.Define) and records them in the
schema file: a new event becomes version 1, a changed one gets a new version, an
unchanged one leaves the file byte for byte as it was. Run it inside the module that
holds the package, e.g. edgeoutbox schema dump ./events. Needs the Go toolchain.
Without --out the file is event_schema.json in the package's directory and the typed
helpers are generated too, exactly as "edgeoutbox gen" does; with --out only that file
is written. The built program is cached until the package or go.mod changes.`,
				run: runSchemaDump,
			},
			{
				Name:    "check",
				Args:    "[--schema FILE] [<definitions package>]",
				Summary: "check the schema file, and that a package's definitions match it",
				Details: `Parses the schema file and verifies every fingerprint. With a definitions package it
also checks that the package's definitions match the file's latest versions, and fails
(exit status 1) when one was added or changed without a dump: for CI. With a package
and no --schema, the file is the one next to the definitions and the generated code
("edgeoutbox gen") must be up to date too. Without a package, --schema defaults to
event_schema.json in the current directory.`,
				run: runSchemaCheck,
			},
			{
				Name:    "show",
				Args:    "[--schema FILE] [--json] [<event>]",
				Summary: "list the events of the schema file, or one event's versions and fields",
				run:     runSchemaShow,
			},
			{
				Name:    "diff",
				Args:    "[--schema FILE] [--json] [<event>]",
				Summary: "list the changes between consecutive versions, breaking ones marked",
				run:     runSchemaDiff,
			},
		},
	}
}

func (c *cli) dumpTool() (*schemadump.Tool, error) {
	goPath, err := c.lookGo("edgeoutbox schema dump and check")
	if err != nil {
		return nil, err
	}
	return &schemadump.Tool{Go: goPath, Stderr: c.stderr, CacheDir: c.cacheDir}, nil
}

type dumpOutput struct {
	File      string         `json:"file"`
	Package   string         `json:"package"`
	Written   bool           `json:"written"`
	Added     []string       `json:"added"`
	Changed   []string       `json:"changed"`
	Unchanged []string       `json:"unchanged"`
	Retained  []string       `json:"retained"`
	Latest    map[string]int `json:"latest"`
	Generated []string       `json:"generated"` // generated files written
}

func runSchemaDump(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := newFlagSet(cmd)
	out := fs.String("out", "", "schema `FILE` to create or update (default: event_schema.json next to the definitions, plus generated code)")
	asJSON := fs.Bool("json", false, "print what changed as JSON")
	rest, err := c.parse(cmd, fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(cmd, fs, rest, 1, 1, "definitions package (e.g. ./events)"); err != nil {
		return err
	}
	return c.dumpPackage(ctx, rest[0], *out, *asJSON)
}

// findDefinitions finds the definitions package named by pattern (noting unexported
// definitions it will not see) and the tool that builds programs against it.
func (c *cli) findDefinitions(ctx context.Context, pattern string) (*schemadump.Tool, *schemadump.Package, error) {
	tool, err := c.dumpTool()
	if err != nil {
		return nil, nil, err
	}
	pkg, err := tool.Find(ctx, pattern)
	if err != nil {
		return nil, nil, err
	}
	c.noteUnexported(pkg)
	return tool, pkg, nil
}

func (c *cli) noteUnexported(pkg *schemadump.Package) {
	if len(pkg.Unexported) > 0 {
		fmt.Fprintf(c.stderr, "note: skipping unexported definitions %s in %s: export them to include them\n",
			strings.Join(pkg.Unexported, ", "), pkg.ImportPath)
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func runSchemaCheck(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := newFlagSet(cmd)
	file := fs.String("schema", "", "schema `FILE` to check (default: event_schema.json next to the definitions, or in the current directory without a package)")
	rest, err := c.parse(cmd, fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(cmd, fs, rest, 0, 1, ""); err != nil {
		return err
	}
	if len(rest) == 0 {
		if *file == "" {
			*file = edgeoutbox.DefaultSchemaFile
		}
		schema, err := edgeoutbox.LoadSchemaFile(*file)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "%s: ok, %d events, %d versions, fingerprints verified\n", *file, len(schema.Events()), countVersions(schema))
		return nil
	}
	tool, pkg, err := c.findDefinitions(ctx, rest[0])
	if err != nil {
		return err
	}
	oneFile := *file == ""
	command := dumpCommandLine(*file, rest[0])
	if oneFile {
		*file = packageSchemaFile(pkg)
		command = genCommandLine(pkg)
	}
	shown := displayPath(*file)
	schema, err := edgeoutbox.LoadSchemaFile(*file)
	if err != nil {
		return errors.New(replaceDumpHint(err.Error(), command))
	}
	res, err := tool.Check(ctx, pkg, *file)
	if err != nil {
		return err
	}
	if res.Drift {
		return &edgeoutbox.SchemaDriftError{File: shown, New: res.New, Changed: res.Changed, Command: command}
	}
	if res.Error != "" {
		return errors.New(replaceDumpHint(res.Error, command))
	}
	if oneFile {
		files, err := generatedFiles(pkg, *file, res.Defined)
		if err != nil {
			return err
		}
		if stale := staleGenerated(files); len(stale) > 0 {
			return fmt.Errorf("generated code is out of date with %s (%s); run %q, then commit the changes",
				shown, strings.Join(stale, ", "), command)
		}
	}
	fmt.Fprintf(c.stdout, "%s: ok, %d events, %d versions; the %d definitions in %s match it\n",
		shown, len(schema.Events()), countVersions(schema), len(pkg.Definitions), pkg.ImportPath)
	if oneFile {
		fmt.Fprintf(c.stdout, "generated code is up to date\n")
	}
	return nil
}

func countVersions(schema *edgeoutbox.Schema) int {
	versions := 0
	for _, n := range schema.Events() {
		versions += len(schema.Versions(n))
	}
	return versions
}

// dumpCommandLine is the command that dumps the definitions of pkg into file, a
// schema file outside the one-file layout.
func dumpCommandLine(file, pkg string) string {
	return "edgeoutbox schema dump --out " + shellquote.Quote(file) + " " + shellquote.Quote(pkg)
}

// replaceDumpHint replaces the library's generic hint "edgeoutbox schema dump
// <definitions package>" in msg with the exact command.
func replaceDumpHint(msg, command string) string {
	return strings.ReplaceAll(msg, "edgeoutbox schema dump <definitions package>", command)
}

// loadSchemaForReading loads the schema file for show and diff and checks the event.
func loadSchemaForReading(cmd *command, fs *flag.FlagSet, file string, rest []string) (*edgeoutbox.Schema, string, error) {
	if err := wantArgs(cmd, fs, rest, 0, 1, ""); err != nil {
		return nil, "", err
	}
	schema, err := edgeoutbox.LoadSchemaFile(file)
	if err != nil {
		return nil, "", err
	}
	if len(rest) == 0 {
		return schema, "", nil
	}
	if schema.Latest(rest[0]) == nil {
		return nil, "", unknownEventError(rest[0], file)
	}
	return schema, rest[0], nil
}

// parseSchemaReading parses the flags of "schema show" and "schema diff" (--schema,
// --json, an optional event) and loads the schema file.
func (c *cli) parseSchemaReading(cmd *command, args []string) (schema *edgeoutbox.Schema, event string, asJSON *bool, err error) {
	fs := newFlagSet(cmd)
	file := fs.String("schema", edgeoutbox.DefaultSchemaFile, "schema `FILE` to read")
	asJSON = fs.Bool("json", false, "print as JSON")
	rest, err := c.parse(cmd, fs, args)
	if err != nil {
		return nil, "", nil, err
	}
	schema, event, err = loadSchemaForReading(cmd, fs, *file, rest)
	return schema, event, asJSON, err
}

func unknownEventError(name, file string) error {
	return fmt.Errorf("unknown event %q: it is not in %s; run \"edgeoutbox schema show --schema %s\" to list its events", name, file, file)
}

type eventSummary struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Latest      int    `json:"latest_version"`
	Fingerprint string `json:"fingerprint"`
}

func runSchemaShow(_ context.Context, c *cli, cmd *command, args []string) error {
	schema, event, asJSON, err := c.parseSchemaReading(cmd, args)
	if err != nil {
		return err
	}
	if event != "" {
		versions := schema.Versions(event)
		if *asJSON {
			return writeJSON(c.stdout, struct {
				Name     string                      `json:"name"`
				Versions []*edgeoutbox.SchemaVersion `json:"versions"`
			}{event, versions})
		}
		for i, v := range versions {
			if i > 0 {
				fmt.Fprintln(c.stdout)
			}
			printVersion(c, event, v, i == len(versions)-1)
		}
		return nil
	}
	var list []eventSummary
	for _, n := range schema.Events() {
		v := schema.Latest(n)
		list = append(list, eventSummary{Name: n, Type: v.Type, Latest: v.Version, Fingerprint: v.Fingerprint})
	}
	if *asJSON {
		if list == nil {
			list = []eventSummary{}
		}
		return writeJSON(c.stdout, list)
	}
	if len(list) == 0 {
		fmt.Fprintf(c.stdout, "%s has no events\n", schema.File())
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EVENT\tTYPE\tLATEST\tFINGERPRINT")
	for _, e := range list {
		fmt.Fprintf(tw, "%s\t%s\tv%d\t%s\n", e.Name, e.Type, e.Latest, shortFingerprint(e.Fingerprint))
	}
	return tw.Flush()
}

func shortFingerprint(f string) string {
	if len(f) > len("sha256:")+12 {
		return f[:len("sha256:")+12]
	}
	return f
}

func printVersion(c *cli, name string, v *edgeoutbox.SchemaVersion, latest bool) {
	tag := ""
	if latest {
		tag = " (latest)"
	}
	fmt.Fprintf(c.stdout, "%s v%d%s\n  type:        %s\n  fingerprint: %s\n", name, v.Version, tag, v.Type, v.Fingerprint)
	var inputs []string
	for _, in := range v.Inputs {
		s := in.Name
		if !in.Required {
			s += " (optional)"
		}
		inputs = append(inputs, s)
	}
	if len(inputs) == 0 {
		inputs = []string{"none"}
	}
	fmt.Fprintf(c.stdout, "  inputs:      %s\n", strings.Join(inputs, ", "))
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	field := func(role string, f *edgeoutbox.SchemaField) {
		if f == nil {
			return
		}
		req := "optional"
		if f.Required {
			req = "required"
		}
		src := f.From
		if f.Attribute != f.Name {
			src += "." + f.Attribute
		}
		fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\tfrom %s\n", role, f.Name, f.Type, req, src)
	}
	fmt.Fprintln(c.stdout, "  fields:")
	if e := v.Entity; e != nil {
		field("entity.class", e.Class)
		field("entity.id", e.ID)
		field("entity.version", e.Version)
	}
	for i := range v.Payload {
		field("payload", &v.Payload[i])
	}
	tw.Flush()
}

type changeOutput struct {
	Event       string `json:"event"`
	FromVersion int    `json:"from_version"`
	ToVersion   int    `json:"to_version"`
	Kind        string `json:"kind"`
	Field       string `json:"field,omitempty"`
	Old         string `json:"old,omitempty"`
	New         string `json:"new,omitempty"`
	Breaking    bool   `json:"breaking"`
}

func runSchemaDiff(_ context.Context, c *cli, cmd *command, args []string) error {
	schema, event, asJSON, err := c.parseSchemaReading(cmd, args)
	if err != nil {
		return err
	}
	names := schema.Events()
	if event != "" {
		names = []string{event}
	}
	changes := []changeOutput{}
	var lines []string
	breaking := 0
	for _, n := range names {
		all := schema.Changes(n)
		versions := schema.Versions(n)
		for i := 1; i < len(versions); i++ {
			v := versions[i]
			listed := false
			for _, ch := range all {
				if ch.ToVersion != v.Version {
					continue
				}
				listed = true
				changes = append(changes, changeOutput{Event: n, FromVersion: ch.FromVersion, ToVersion: ch.ToVersion,
					Kind: string(ch.Kind), Field: ch.Field, Old: ch.Old, New: ch.New, Breaking: ch.Breaking})
				lines = append(lines, n+" "+ch.String())
				if ch.Breaking {
					breaking++
				}
			}
			if !listed {
				// A new version whose fields and inputs compare equal: what changed is
				// something the comparison does not list, such as the inputs' order.
				lines = append(lines, fmt.Sprintf("%s v%d→v%d no field or input changes (e.g. only the inputs' order changed)", n, versions[i-1].Version, v.Version))
			}
		}
	}
	if *asJSON {
		return writeJSON(c.stdout, changes)
	}
	if len(lines) == 0 {
		if event != "" {
			fmt.Fprintf(c.stdout, "%s: %s has one version; nothing to compare\n", schema.File(), event)
		} else {
			fmt.Fprintf(c.stdout, "%s: no event has more than one version; nothing to compare\n", schema.File())
		}
		return nil
	}
	for _, l := range lines {
		fmt.Fprintln(c.stdout, l)
	}
	fmt.Fprintf(c.stdout, "%d changes, %d breaking\n", len(changes), breaking)
	return nil
}
