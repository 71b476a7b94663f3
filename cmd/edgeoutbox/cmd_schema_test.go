package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/edgeoutbox/edgeoutbox/cmd/edgeoutbox/testdata/defs"
)

var update = flag.Bool("update", false, "rewrite testdata/event_schema.golden.json")

// skipSlow skips tests that build a program with "go build" under -short.
func skipSlow(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a program with go build; skipped with -short")
	}
}

// TestSchemaDumpGolden dumps testdata/defs onto a copy of schema_v1.json through the
// generated program and compares the file byte for byte with the golden file, which
// must also be exactly what the library writes in-process.
func TestSchemaDumpGolden(t *testing.T) {
	skipSlow(t)
	dir := t.TempDir()
	out := copyFile(t, "testdata/schema_v1.json", dir)
	r := mustRun(t, "schema", "dump", "--out", out, "./testdata/defs")
	for _, want := range []string{"added     cow_weighed v1", "changed   cow_fed v2", "kept      cow_milked", "wrote " + out} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "skipping unexported definitions barnCleaned") {
		t.Errorf("stderr = %q, want a note about barnCleaned", r.stderr)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// The same dump in-process, through the library.
	lib := copyFile(t, "testdata/schema_v1.json", t.TempDir())
	if _, err := edgeoutbox.DumpSchema(lib, defs.CowFed, defs.CowWeighed); err != nil {
		t.Fatal(err)
	}
	if want, _ := os.ReadFile(lib); !bytes.Equal(got, want) {
		t.Errorf("the CLI's dump differs from edgeoutbox.DumpSchema's:\n%s", got)
	}
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want, _ := os.ReadFile(golden); !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (run go test -run TestSchemaDumpGolden -update):\n%s", out, golden, got)
	}

	// Dumping again changes nothing, and JSON says so.
	r = mustRun(t, "schema", "dump", "--json", "--out", out, "./testdata/defs")
	var res dumpOutput
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("--json printed %q: %v", r.stdout, err)
	}
	if res.Written || strings.Join(res.Unchanged, ",") != "cow_fed,cow_weighed" || res.Latest["cow_fed"] != 2 || len(res.Added) != 0 {
		t.Errorf("second dump: %+v", res)
	}
	if again, _ := os.ReadFile(out); !bytes.Equal(again, got) {
		t.Error("a second dump changed the file")
	}
	// Only this package's: the tests of internal/schemadump may be dumping at the same time.
	leftovers, _ := filepath.Glob("../../_edgeoutbox_schema_*")
	for _, d := range leftovers {
		if src, err := os.ReadFile(filepath.Join(d, "main.go")); err == nil && strings.Contains(string(src), "cmd/edgeoutbox/testdata/defs") {
			t.Errorf("the generated program was not removed: %s", d)
		}
	}
}

func TestSchemaCheckPackage(t *testing.T) {
	t.Parallel()
	skipSlow(t)
	r := mustRun(t, "schema", "check", "--schema", golden, "./testdata/defs")
	if !strings.Contains(r.stdout, "ok, 3 events, 4 versions; the 2 definitions in github.com/edgeoutbox/edgeoutbox/cmd/edgeoutbox/testdata/defs match it") {
		t.Errorf("check printed %q", r.stdout)
	}
	// Against the old file, the package has drifted.
	r = run(t, "schema", "check", "--schema", "testdata/schema_v1.json", "./testdata/defs")
	if r.code() != 1 || !strings.Contains(r.stderr, "cow_fed changed since schema_v1.json was dumped") ||
		!strings.Contains(r.stderr, "cow_weighed is not in schema_v1.json") || !strings.Contains(r.stderr, `"edgeoutbox schema dump --out testdata/schema_v1.json ./testdata/defs"`) {
		t.Errorf("drift: exit %d, stderr %q", r.code(), r.stderr)
	}
}

func TestDumpCommandLine(t *testing.T) {
	msg := `x changed; run "edgeoutbox schema dump <definitions package>" or edgeoutbox.DumpSchema`
	cases := []struct{ file, pkg, want string }{
		{edgeoutbox.DefaultSchemaFile, "./events", `"edgeoutbox schema dump --out event_schema.json ./events"`},
		{"schemas/ev.json", "example.com/app/events", `"edgeoutbox schema dump --out schemas/ev.json example.com/app/events"`},
		{"my schema.json", "./events", `"edgeoutbox schema dump --out 'my schema.json' ./events"`},
	}
	for _, c := range cases {
		if got := replaceDumpHint(msg, dumpCommandLine(c.file, c.pkg)); !strings.Contains(got, c.want) {
			t.Errorf("dumpCommandLine(%q, %q) gives %q, want it to contain %q", c.file, c.pkg, got, c.want)
		}
	}
	// With a package, a missing schema file names the exact command too.
	r := run(t, "schema", "check", "--schema", filepath.Join(t.TempDir(), "missing.json"), "./testdata/defs")
	if r.code() != 1 || !strings.Contains(r.stderr, `"edgeoutbox schema dump --out `) || strings.Contains(r.stderr, "<definitions package>") {
		t.Errorf("missing file with a package: exit %d, stderr %q", r.code(), r.stderr)
	}
}

func TestSchemaDumpPackageErrors(t *testing.T) {
	t.Parallel()
	skipSlow(t)
	out := filepath.Join(t.TempDir(), "event_schema.json")
	cases := []struct{ pkg, want string }{
		{"./testdata/nosuchdir", `definitions package "./testdata/nosuchdir" not found`},
		{"github.com/edgeoutbox/edgeoutbox/migrations", "no event definitions in package github.com/edgeoutbox/edgeoutbox/migrations"},
		{".", "is a main package"},
		{"../../internal/...", "packages: name the one package that holds the definitions"},
		{"./testdata/...", "go list matched no package"},
		{"./testdata/baddefs", `event definition "Cow Fed"`},
		{"./testdata/brokendefs", "the definitions program did not build or run"},
	}
	for _, c := range cases {
		r := run(t, "schema", "dump", "--out", out, c.pkg)
		if r.code() != 1 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("dump %s: exit %d, stderr %q; want 1 and %q", c.pkg, r.code(), r.stderr, c.want)
		}
	}
	r := run(t, "schema", "dump", "--out", out, "./testdata/brokendefs")
	if !strings.Contains(r.stderr, "brokendefs.go:7") || strings.Count(r.stderr, "edgeoutbox: ") != 1 {
		t.Errorf("build error: the compiler's message is not passed through:\n%s", r.stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Error("a failed dump wrote the schema file")
	}
}

func TestSchemaDumpWithoutGo(t *testing.T) {
	var stdout, stderr bytes.Buffer
	c := &cli{stdout: &stdout, stderr: &stderr, goCmd: "no-such-go-toolchain"}
	err := c.run(t.Context(), []string{"schema", "dump", "./testdata/defs"})
	if exitCode(err) != 1 || !strings.Contains(err.Error(), `needs the Go toolchain, and "no-such-go-toolchain" is not on PATH`) {
		t.Errorf("err = %v", err)
	}
}

func TestSchemaCheckFile(t *testing.T) {
	r := mustRun(t, "schema", "check", "--schema", golden)
	if !strings.Contains(r.stdout, "ok, 3 events, 4 versions, fingerprints verified") {
		t.Errorf("check printed %q", r.stdout)
	}
	// A hand edit breaks the fingerprint.
	data, _ := os.ReadFile(golden)
	edited := filepath.Join(t.TempDir(), "event_schema.json")
	os.WriteFile(edited, bytes.Replace(data, []byte(`"kg"`), []byte(`"grams"`), 1), 0o644)
	r = run(t, "schema", "check", "--schema", edited)
	if r.code() != 1 || !strings.Contains(r.stderr, "cow_weighed") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("edited file: exit %d, stderr %q", r.code(), r.stderr)
	}
	r = run(t, "schema", "check", "--schema", filepath.Join(t.TempDir(), "missing.json"))
	if r.code() != 1 || !strings.Contains(r.stderr, `"edgeoutbox schema dump <definitions package>"`) {
		t.Errorf("missing file: exit %d, stderr %q", r.code(), r.stderr)
	}
}

func TestSchemaShow(t *testing.T) {
	r := mustRun(t, "schema", "show", "--schema", golden)
	for _, want := range []string{"EVENT", "cow_fed      domain  v2", "cow_milked   domain  v1", "cow_weighed  domain  v1"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("show lacks %q:\n%s", want, r.stdout)
		}
	}
	r = mustRun(t, "schema", "show", "--schema", golden, "cow_fed")
	for _, want := range []string{"cow_fed v1\n", "cow_fed v2 (latest)", "inputs:      cow, farmer (optional)", "payload         weight      float   required  from cow", "payload         name        string  optional  from farmer"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("show cow_fed lacks %q:\n%s", want, r.stdout)
		}
	}
	r = mustRun(t, "schema", "show", "--schema", golden, "--json", "cow_weighed")
	var one struct {
		Name     string
		Versions []edgeoutbox.SchemaVersion
	}
	if err := json.Unmarshal([]byte(r.stdout), &one); err != nil || one.Name != "cow_weighed" || len(one.Versions) != 1 || one.Versions[0].Payload[0].Attribute != "weight" {
		t.Errorf("show --json cow_weighed: %+v, %v", one, err)
	}
	r = mustRun(t, "schema", "show", "--json", "--schema", golden)
	var list []eventSummary
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list) != 3 || list[0].Latest != 2 {
		t.Errorf("show --json: %+v, %v", list, err)
	}
	r = run(t, "schema", "show", "--schema", golden, "cow_sang")
	if r.code() != 1 || !strings.Contains(r.stderr, `unknown event "cow_sang"`) || !strings.Contains(r.stderr, `"edgeoutbox schema show --schema `+golden+`"`) {
		t.Errorf("unknown event: exit %d, stderr %q", r.code(), r.stderr)
	}
}

func TestSchemaDiff(t *testing.T) {
	r := mustRun(t, "schema", "diff", "--schema", golden)
	want := `cow_fed v1→v2 input_added farmer (optional)
cow_fed v1→v2 field_type_changed weight: int → float [breaking]
cow_fed v1→v2 field_added name (string, optional, from farmer)
3 changes, 1 breaking
`
	if r.stdout != want {
		t.Errorf("diff printed:\n%s\nwant:\n%s", r.stdout, want)
	}
	r = mustRun(t, "schema", "diff", "--schema", golden, "--json", "cow_fed")
	var changes []changeOutput
	if err := json.Unmarshal([]byte(r.stdout), &changes); err != nil || len(changes) != 3 || !changes[1].Breaking || changes[1].Kind != "field_type_changed" {
		t.Errorf("diff --json: %+v, %v", changes, err)
	}
	r = mustRun(t, "schema", "diff", "--schema", golden, "cow_milked")
	if !strings.Contains(r.stdout, "cow_milked has one version; nothing to compare") {
		t.Errorf("diff cow_milked: %q", r.stdout)
	}
	r = run(t, "schema", "diff", "--schema", golden, "cow_sang")
	if r.code() != 1 || !strings.Contains(r.stderr, "edgeoutbox schema show") {
		t.Errorf("unknown event: exit %d, stderr %q", r.code(), r.stderr)
	}
}

// A version whose only change is the inputs' order is listed, not reported as "one
// version; nothing to compare".
func TestSchemaDiffReorderedInputs(t *testing.T) {
	file := filepath.Join(t.TempDir(), "event_schema.json")
	v1 := edgeoutbox.Define("cow_fed", edgeoutbox.Input("cow"), edgeoutbox.Input("farmer"),
		edgeoutbox.RequiredPayload("weight", edgeoutbox.From("cow"), edgeoutbox.Float))
	v2 := edgeoutbox.Define("cow_fed", edgeoutbox.Input("farmer"), edgeoutbox.Input("cow"),
		edgeoutbox.RequiredPayload("weight", edgeoutbox.From("cow"), edgeoutbox.Float))
	for _, d := range []*edgeoutbox.Definition{v1, v2} {
		if _, err := edgeoutbox.DumpSchema(file, d); err != nil {
			t.Fatal(err)
		}
	}
	s, err := edgeoutbox.LoadSchemaFile(file)
	if err != nil || len(s.Versions("cow_fed")) != 2 {
		t.Skipf("reordering the inputs does not make a new version here (%v)", err)
	}
	for _, args := range [][]string{{"cow_fed"}, {}} {
		r := mustRun(t, append([]string{"schema", "diff", "--schema", file}, args...)...)
		want := "cow_fed v1→v2 no field or input changes (e.g. only the inputs' order changed)\n0 changes, 0 breaking\n"
		if r.stdout != want {
			t.Errorf("diff %v printed %q, want %q", args, r.stdout, want)
		}
	}
}
