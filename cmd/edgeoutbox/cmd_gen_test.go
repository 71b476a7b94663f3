package main

import (
	"context"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

const genTestDefinitions = `package events

import "github.com/edgeoutbox/edgeoutbox"

// CowFedEvent is the seed's cow_fed.
var CowFedEvent = edgeoutbox.Define("cow_fed",
	edgeoutbox.EventType("domain"),
	edgeoutbox.Input("cow"),
	edgeoutbox.OptionalInput("farmer"),
	edgeoutbox.EntityClass("class_name", edgeoutbox.From("cow"), edgeoutbox.String),
	edgeoutbox.EntityID("id", edgeoutbox.From("cow"), edgeoutbox.Int),
	edgeoutbox.EntityVersion("version", edgeoutbox.From("cow"), edgeoutbox.Int),
	edgeoutbox.RequiredPayload("weight", edgeoutbox.From("cow"), edgeoutbox.Float),
	edgeoutbox.OptionalPayload("name", edgeoutbox.From("farmer"), edgeoutbox.String),
	// more fields
)
`

// The app emits through the generated helper, and a consumer-side decode of what the
// relay published goes through the generated payload package.
const genTestApp = `package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/edgeoutbox/edgeoutbox/envelope"

	"IMPORT/events"
	"IMPORT/events/payload"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	transport := edgeoutbox.NewMemoryTransport()
	engine, err := edgeoutbox.Open(ctx, os.Args[1], edgeoutbox.Config{Schema: events.Schema, Transport: transport})
	if err != nil {
		log.Fatal(err)
	}
	defer engine.Close()
	if err := engine.Start(ctx); err != nil {
		log.Fatal(err)
	}
	cow := map[string]any{"class_name": "Cow", "id": 7, "version": 3, "weight": 512.5, "breed": "Jersey"}
	if _, err := events.EmitCowFed(ctx, engine, events.CowFed{Cow: cow, Farmer: map[string]any{"name": "Daisy"}}); err != nil {
		log.Fatal(err)
	}
	if err := transport.WaitFor(ctx, 1); err != nil {
		log.Fatal(err)
	}
	body, err := envelope.Marshal(edgeoutbox.NewEnvelope(transport.Events()[0]))
	if err != nil {
		log.Fatal(err)
	}
	env, err := envelope.Decode(body)
	if err != nil {
		log.Fatal(err)
	}
	p, err := payload.Decode(env)
	if err != nil {
		log.Fatal(err)
	}
	out, _ := json.Marshal(p)
	fmt.Printf("decoded %T %s\n", p, out)
}
`

// newGenTestTree makes a directory for test packages inside this module, so that they
// resolve ("_" keeps it out of ./... patterns), and returns it, its import path and a
// function that writes a file below it.
func newGenTestTree(t *testing.T) (root, importPath string, write func(rel, content string)) {
	t.Helper()
	root, err := os.MkdirTemp(".", "_gentest_")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	importPath = "github.com/edgeoutbox/edgeoutbox/cmd/edgeoutbox/" + filepath.Base(root)
	write = func(rel, content string) {
		t.Helper()
		path := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root, importPath, write
}

// TestGenOneFileLayout is the walk-through: a generated package for the seed's
// cow_fed compiles, emits and is decoded by a consumer; adding a required field makes
// "edgeoutbox schema check" (and the app) fail naming the exact command, and running
// that command, literally, makes the check pass and the app start.
func TestGenOneFileLayout(t *testing.T) {
	skipSlow(t)
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	root, importPath, write := newGenTestTree(t)
	write("events/events.go", genTestDefinitions)
	write("app/main.go", strings.ReplaceAll(genTestApp, "IMPORT", importPath))
	bin := filepath.Join(t.TempDir(), "app")
	runApp := func() (string, error) {
		t.Helper()
		build := exec.Command(goBin, "build", "-o", bin, "./"+filepath.Join(root, "app"))
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build app: %v\n%s", err, out)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, bin, filepath.Join(t.TempDir(), "app.db")).CombinedOutput()
		return string(out), err
	}

	pkg := "./" + filepath.Join(root, "events")
	r := mustRun(t, "gen", pkg)
	for _, want := range []string{"added     cow_fed v1", "event_schema.json: commit it", "edgeoutbox_gen.go: commit it", "payload_gen.go: commit it"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("gen printed %q, want %q", r.stdout, want)
		}
	}
	out, err := runApp()
	if want := `decoded *payload.CowFedV1 {"weight":512.5,"name":"Daisy"}`; err != nil || !strings.Contains(out, want) {
		t.Fatalf("app: %v\n%s\nwant %s", err, out, want)
	}
	start := time.Now()
	mustRun(t, "schema", "check", pkg)
	t.Logf("schema check of an unchanged package (cached program): %s", time.Since(start).Round(time.Millisecond))

	// A required field is added and nobody ran the generator.
	write("events/events.go", strings.Replace(genTestDefinitions, "// more fields",
		`edgeoutbox.RequiredPayload("breed", edgeoutbox.From("cow"), edgeoutbox.String),`, 1))
	r = run(t, "schema", "check", pkg)
	command := `edgeoutbox gen ` + importPath + `/events`
	if r.code() != 1 || !strings.Contains(r.stderr, "cow_fed changed since event_schema.json was dumped") ||
		!strings.Contains(r.stderr, `run "`+command+`"`) {
		t.Fatalf("check after adding a field: exit %d, stderr %q; want 1 and %q", r.code(), r.stderr, command)
	}
	if out, err := runApp(); err == nil || !strings.Contains(out, `run "`+command+`"`) {
		t.Fatalf("the stale app started or named another command: %v\n%s", err, out)
	}

	// Follow the message literally.
	m := regexp.MustCompile(`run "(edgeoutbox [^"]+)"`).FindStringSubmatch(r.stderr)
	if m == nil {
		t.Fatalf("no command in %q", r.stderr)
	}
	args := strings.Fields(m[1])[1:]
	mustRun(t, args...)
	r = mustRun(t, "schema", "check", pkg)
	if !strings.Contains(r.stdout, "generated code is up to date") {
		t.Errorf("check printed %q", r.stdout)
	}
	out, err = runApp()
	if want := `decoded *payload.CowFedV2 {"weight":512.5,"name":"Daisy","breed":"Jersey"}`; err != nil || !strings.Contains(out, want) {
		t.Fatalf("app after following the message: %v\n%s\nwant %s", err, out, want)
	}

	// Stale generated code alone fails the check too.
	gen := filepath.Join(root, "events", "edgeoutbox_gen.go")
	data, _ := os.ReadFile(gen)
	os.WriteFile(gen, append(data, "\n// edited\n"...), 0o644)
	r = run(t, "schema", "check", pkg)
	if r.code() != 1 || !strings.Contains(r.stderr, "generated code is out of date") || !strings.Contains(r.stderr, `run "`+command+`"`) {
		t.Fatalf("check with edited generated code: exit %d, stderr %q", r.code(), r.stderr)
	}
}

// An application that embeds its own copy of the schema file, as the README shows.
const embeddedCopyApp = `package main

import (
	"context"
	"embed"
	"fmt"
	"log"
	"os"

	"github.com/edgeoutbox/edgeoutbox"

	"IMPORT/events"
)

//go:embed event_schema.json
var schemaFS embed.FS

func main() {
	engine, err := edgeoutbox.Open(context.Background(), os.Args[1], edgeoutbox.Config{
		SchemaFS: schemaFS, SchemaPath: "event_schema.json",
		Definitions: []*edgeoutbox.Definition{events.CowFedEvent},
	})
	if err != nil {
		log.Fatal(err)
	}
	engine.Close()
	fmt.Println("opened")
}
`

// TestEmbeddedCopyDriftNamesItsFile: when an application's own embedded copy of the
// schema file is stale, Open's message names "schema dump --out" on that copy (the
// binary cannot know where it lay, so with a placeholder for its directory), not the
// command that updates the file next to the definitions and leaves the copy stale.
// Filling in the placeholder and running the command makes the app start.
func TestEmbeddedCopyDriftNamesItsFile(t *testing.T) {
	skipSlow(t)
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	root, importPath, write := newGenTestTree(t)
	write("events/events.go", genTestDefinitions)
	write("app/main.go", strings.ReplaceAll(embeddedCopyApp, "IMPORT", importPath))
	appDir := filepath.Join(root, "app")
	pkg := "./" + filepath.Join(root, "events")
	mustRun(t, "schema", "dump", "--out", filepath.Join(appDir, "event_schema.json"), pkg)
	bin := filepath.Join(t.TempDir(), "app")
	runApp := func() (string, error) {
		t.Helper()
		build := exec.Command(goBin, "build", "-o", bin, "./"+appDir)
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build app: %v\n%s", err, out)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, bin, filepath.Join(t.TempDir(), "app.db")).CombinedOutput()
		return string(out), err
	}
	if out, err := runApp(); err != nil || !strings.Contains(out, "opened") {
		t.Fatalf("app with an up-to-date copy: %v\n%s", err, out)
	}

	write("events/events.go", strings.Replace(genTestDefinitions, "// more fields",
		`edgeoutbox.RequiredPayload("breed", edgeoutbox.From("cow"), edgeoutbox.String),`, 1))
	out, err := runApp()
	const placeholder = "<directory of the package with the //go:embed line>"
	want := `run "edgeoutbox schema dump --out ` + placeholder + `/event_schema.json ` + importPath + `/events"`
	if err == nil || !strings.Contains(out, want) {
		t.Fatalf("stale app: %v\n%s\nwant it to fail naming %s", err, out, want)
	}
	m := regexp.MustCompile(`run "(edgeoutbox [^"]+)"`).FindStringSubmatch(out)
	args := strings.Fields(strings.Replace(m[1], placeholder, appDir, 1))[1:]
	mustRun(t, args...)
	if out, err := runApp(); err != nil || !strings.Contains(out, "opened") {
		t.Fatalf("app after running the named command: %v\n%s", err, out)
	}
}

// TestRefusedGenChangesNothing: a package that declares a name the generated code
// needs (CowFed, the inputs struct of cow_fed) is refused, and the refused command
// leaves the schema file and the generated code exactly as they were, or absent.
func TestRefusedGenChangesNothing(t *testing.T) {
	skipSlow(t)
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not found")
	}
	root, _, write := newGenTestTree(t)
	pkg := "./" + filepath.Join(root, "events")
	schemaFile := filepath.Join(root, "events", "event_schema.json")
	generated := []string{schemaFile, filepath.Join(root, "events", "edgeoutbox_gen.go"), filepath.Join(root, "events", "payload", "payload_gen.go")}
	snapshot := func() map[string]string {
		files := map[string]string{}
		for _, f := range generated {
			if data, err := os.ReadFile(f); err == nil {
				files[f] = string(data)
			}
		}
		return files
	}
	clashing := strings.Replace(strings.Replace(genTestDefinitions, "var CowFedEvent", "var CowFed", 1), "// more fields",
		`edgeoutbox.RequiredPayload("breed", edgeoutbox.From("cow"), edgeoutbox.String),`, 1)
	refuse := func(args ...string) {
		t.Helper()
		r := run(t, args...)
		if r.code() != 1 || !strings.Contains(r.stderr, "declares CowFed") {
			t.Fatalf("%v with a clashing name: exit %d, stderr %q; want 1 and the clash", args, r.code(), r.stderr)
		}
	}

	// Nothing dumped yet: the refused commands create no file.
	write("events/events.go", clashing)
	for _, args := range [][]string{{"schema", "dump", pkg}, {"gen", pkg}} {
		refuse(args...)
		if files := snapshot(); len(files) != 0 {
			t.Errorf("%v was refused but wrote %v", args, slices.Sorted(maps.Keys(files)))
		}
	}

	// A dumped package whose definition variable is renamed to the clashing name
	// while its event changes: the refused commands leave every file byte for byte.
	write("events/events.go", genTestDefinitions)
	mustRun(t, "gen", pkg)
	before := snapshot()
	if len(before) != len(generated) {
		t.Fatalf("gen wrote %v, want %v", slices.Sorted(maps.Keys(before)), generated)
	}
	write("events/events.go", clashing)
	for _, args := range [][]string{{"schema", "dump", pkg}, {"gen", pkg}} {
		refuse(args...)
		after := snapshot()
		for _, f := range generated {
			if after[f] != before[f] {
				t.Errorf("%v was refused but changed %s", args, f)
			}
		}
	}

	// A hand-edited schema file is refused under its own name (the dump runs on a
	// copy) and left as it is.
	write("events/events.go", genTestDefinitions)
	edited := strings.Replace(before[schemaFile], `"weight"`, `"mass"`, 1)
	write("events/event_schema.json", edited)
	r := run(t, "gen", pkg)
	abs, _ := filepath.Abs(schemaFile)
	if r.code() != 1 || !strings.Contains(r.stderr, "invalid schema file "+abs+":") || !strings.Contains(r.stderr, `"edgeoutbox gen `) {
		t.Errorf("gen over an edited file: exit %d, stderr %q; want 1, naming %s and the gen command", r.code(), r.stderr, abs)
	}
	if data, _ := os.ReadFile(schemaFile); string(data) != edited {
		t.Error("gen over an edited file changed it")
	}
}
