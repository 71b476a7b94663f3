package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/edgeoutbox/edgeoutbox/internal/codegen"
	"github.com/edgeoutbox/edgeoutbox/internal/schemadump"
)

func genCommand() *command {
	return &command{
		Name:    "gen",
		Args:    "[--json] <definitions package>",
		Summary: "dump a package's schema file next to it and generate its typed helpers",
		Details: `The one-file layout: records the package's edgeoutbox.Define events in
event_schema.json in the package's own directory, then writes, generated from that file:
  edgeoutbox_gen.go     Schema (the file, embedded: edgeoutbox.Config{Schema: events.Schema})
                        and per event an inputs struct with EmitCowFed and EmitCowFedTx
  payload/payload_gen.go  per event version a payload struct (CowFedV1, ...) and a
                        decoder from the envelope, for consumers (links no SQLite)
Put "//go:generate go run github.com/edgeoutbox/edgeoutbox/cmd/edgeoutbox gen ." in the
package to run it from go generate. "edgeoutbox schema check <definitions package>"
fails when the file or the generated code is stale. It is what
"edgeoutbox schema dump" does without --out. Needs the Go toolchain; run it inside the
module.`,
		run: runGen,
	}
}

func runGen(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := newFlagSet(cmd)
	asJSON := fs.Bool("json", false, "print what changed as JSON")
	rest, err := c.parse(cmd, fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(cmd, fs, rest, 1, 1, "definitions package (e.g. ./events)"); err != nil {
		return err
	}
	return c.dumpPackage(ctx, rest[0], "", *asJSON)
}

// packageSchemaFile is the schema file of the one-file layout: next to the definitions.
func packageSchemaFile(pkg *schemadump.Package) string {
	return filepath.Join(pkg.Dir, edgeoutbox.DefaultSchemaFile)
}

// genCommandLine is the command that regenerates everything of the one-file layout.
func genCommandLine(pkg *schemadump.Package) string { return "edgeoutbox gen " + pkg.ImportPath }

// generatedFiles returns the code generated from the package's schema file (which must
// be up to date), keyed by absolute path.
func generatedFiles(pkg *schemadump.Package, schemaPath string, defined []string) (map[string][]byte, error) {
	schema, err := edgeoutbox.LoadSchemaFile(schemaPath)
	if err != nil {
		return nil, err
	}
	files, err := codegen.Generate(codegen.Input{
		ImportPath: pkg.ImportPath, PackageName: pkg.Name, Schema: schema, Defined: defined, Taken: pkg.Taken,
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(files))
	for rel, content := range files {
		out[filepath.Join(pkg.Dir, filepath.FromSlash(rel))] = content
	}
	return out, nil
}

// staleGenerated returns the generated files whose content on disk differs, sorted,
// as paths relative to the working directory when possible.
func staleGenerated(files map[string][]byte) []string {
	var stale []string
	for path, want := range files {
		if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, want) {
			stale = append(stale, displayPath(path))
		}
	}
	sort.Strings(stale)
	return stale
}

// writeGenerated writes the files that changed and returns their display paths.
func writeGenerated(files map[string][]byte) ([]string, error) {
	var written []string
	for path, want := range files {
		changed, err := replaceFile(path, want)
		if err != nil {
			return nil, fmt.Errorf("write generated code: %w", err)
		}
		if changed {
			written = append(written, displayPath(path))
		}
	}
	sort.Strings(written)
	return written, nil
}

// replaceFile gives the file at path the content data, unless it has it already: it
// writes a temporary file next to it and renames it over path, so that readers see
// the old or the new file, never a partial one. An existing file keeps its mode.
func replaceFile(path string, data []byte) (changed bool, err error) {
	mode := os.FileMode(0o644)
	if got, err := os.ReadFile(path); err == nil {
		if bytes.Equal(got, data) {
			return false, nil
		}
		if fi, err := os.Stat(path); err == nil {
			mode = fi.Mode().Perm()
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return false, err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return false, err
	}
	if err := os.Chmod(tmp, mode); err != nil { // WriteFile's mode is masked by the umask
		os.Remove(tmp)
		return false, err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return false, err
	}
	return true, nil
}

// displayPath shows path relative to the working directory when it lies below it.
func displayPath(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	if rel, err := filepath.Rel(wd, path); err == nil && filepath.IsLocal(rel) {
		return rel
	}
	return path
}

// dumpPackage is "edgeoutbox schema dump" and "edgeoutbox gen": out "" is the
// one-file layout (the file next to the definitions, plus generated code); a path
// writes only that schema file.
func (c *cli) dumpPackage(ctx context.Context, pattern, out string, asJSON bool) error {
	tool, pkg, err := c.findDefinitions(ctx, pattern)
	if err != nil {
		return err
	}
	var res *schemadump.Result
	var generated []string
	if out == "" {
		out = packageSchemaFile(pkg)
		res, generated, err = generatePackage(ctx, tool, pkg, out)
	} else {
		// DumpSchema checks everything before it replaces the file.
		res, err = tool.Dump(ctx, pkg, out)
		if err == nil && res.Error != "" {
			err = errors.New(res.Error)
		}
	}
	if err != nil {
		return err
	}
	d := res.Dump
	o := dumpOutput{File: displayPath(out), Package: pkg.ImportPath, Written: d.Written, Added: nonNil(d.Added), Changed: nonNil(d.Changed),
		Unchanged: nonNil(d.Unchanged), Retained: nonNil(d.Retained), Latest: d.Latest, Generated: nonNil(generated)}
	if asJSON {
		return writeJSON(c.stdout, o)
	}
	for _, n := range o.Added {
		fmt.Fprintf(c.stdout, "added     %s v%d\n", n, o.Latest[n])
	}
	for _, n := range o.Changed {
		fmt.Fprintf(c.stdout, "changed   %s v%d\n", n, o.Latest[n])
	}
	for _, n := range o.Unchanged {
		fmt.Fprintf(c.stdout, "unchanged %s v%d\n", n, o.Latest[n])
	}
	for _, n := range o.Retained {
		fmt.Fprintf(c.stdout, "kept      %s (no definition in %s; old events stay emittable)\n", n, pkg.ImportPath)
	}
	if o.Written {
		fmt.Fprintf(c.stdout, "wrote %s: commit it\n", o.File)
	} else {
		fmt.Fprintf(c.stdout, "%s is up to date\n", o.File)
	}
	for _, g := range generated {
		fmt.Fprintf(c.stdout, "generated %s: commit it\n", g)
	}
	return nil
}

// generatePackage dumps the definitions of pkg into file, the schema file of the
// one-file layout, and writes the code generated from it. Every check runs before
// anything is written, so that a refused command (a name the generated code needs is
// taken, say) changes nothing: the dump goes to a copy of the file in a temporary
// directory, the code is generated from the copy, and only then are the file and the
// code replaced. It returns the dump's result and the generated files written.
func generatePackage(ctx context.Context, tool *schemadump.Tool, pkg *schemadump.Package, file string) (*schemadump.Result, []string, error) {
	old, err := os.ReadFile(file)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("dump schema: read %s: %w", file, err)
	}
	if exists {
		// Checked here, so that a message about the file names it, not the copy.
		if _, err := edgeoutbox.LoadSchemaFile(file); err != nil {
			return nil, nil, fmt.Errorf("dump schema: %s", replaceDumpHint(err.Error(), genCommandLine(pkg)))
		}
	}
	staging, err := os.MkdirTemp("", "edgeoutbox-gen-")
	if err != nil {
		return nil, nil, fmt.Errorf("create a temporary directory: %w", err)
	}
	defer os.RemoveAll(staging)
	staged := filepath.Join(staging, edgeoutbox.DefaultSchemaFile)
	if exists {
		if err := os.WriteFile(staged, old, 0o644); err != nil {
			return nil, nil, fmt.Errorf("dump schema: copy %s: %w", file, err)
		}
	}
	res, err := tool.Dump(ctx, pkg, staged)
	if err != nil {
		return nil, nil, err
	}
	if res.Error != "" {
		return nil, nil, errors.New(res.Error)
	}
	files, err := generatedFiles(pkg, staged, res.Defined)
	if err != nil {
		return nil, nil, err
	}
	data, err := os.ReadFile(staged)
	if err != nil {
		return nil, nil, fmt.Errorf("dump schema: %w", err)
	}
	// Every check passed.
	if _, err := replaceFile(file, data); err != nil {
		return nil, nil, fmt.Errorf("dump schema: write %s: %w", file, err)
	}
	generated, err := writeGenerated(files)
	if err != nil {
		return nil, nil, err
	}
	return res, generated, nil
}
