package edgeoutbox

import (
	"context"
	"embed"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// pkgLevelDef is declared at package level, so it is registered for its package.
var pkgLevelDef = Define("pkg_level_probe", Input("x"), RequiredPayload("n", From("x"), Int))

func TestSplitFuncName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][2]string{
		"example.com/app/events.init":          {"example.com/app/events", "init"},
		"example.com/app/events.init.func1":    {"example.com/app/events", "init.func1"},
		"gopkg.in/yaml%2ev3.init":              {"gopkg.in/yaml.v3", "init"},
		"main.main":                            {"main", "main"},
		"example.com/a.b/c.(*T).M":             {"example.com/a.b/c", "(*T).M"},
		"github.com/edgeoutbox/edgeoutbox.Foo": {"github.com/edgeoutbox/edgeoutbox", "Foo"},
	} {
		pkg, rest := splitFuncName(in)
		if pkg != want[0] || rest != want[1] {
			t.Errorf("splitFuncName(%q) = %q, %q; want %q, %q", in, pkg, rest, want[0], want[1])
		}
	}
}

func TestDefineRecordsItsPackage(t *testing.T) {
	t.Parallel()
	const self = "github.com/edgeoutbox/edgeoutbox"
	if got := pkgLevelDef.Package(); got != self {
		t.Errorf("Package() = %q, want %q", got, self)
	}
	found := false
	for _, d := range PackageDefinitions(self) {
		found = found || d == pkgLevelDef
	}
	if !found {
		t.Error("a package-level definition is not registered for its package")
	}
	local := Define("local_probe")
	if local.Package() != self {
		t.Errorf("Package() of a definition made in a function = %q", local.Package())
	}
	for _, d := range PackageDefinitions(self) {
		if d == local {
			t.Error("a definition made at run time was registered; the registry could grow without bound")
		}
	}
}

// A schema embedded by a definitions package checks that package's definitions at
// Open, and the drift error names the exact command with the package path.
func TestEmbeddedSchemaChecksItsPackageAtOpen(t *testing.T) {
	t.Parallel()
	// This package's test files declare the same event name in several variables, so
	// the probe registers under a package path of its own.
	const self = "example.com/probe/events"
	d := Define("embedded_probe", Input("x"))
	d.pkg = self
	packageDefsMu.Lock()
	packageDefs[self] = []*Definition{d}
	packageDefsMu.Unlock()
	// An empty schema file: the package's definition is "new".
	s := EmbeddedSchema(self, []byte(`{"format_version":1,"events":{}}`))
	if s.Err() != nil || s.Package() != self {
		t.Fatalf("EmbeddedSchema: err %v, package %q", s.Err(), s.Package())
	}
	_, err := Open(context.Background(), t.TempDir()+"/app.db", Config{Schema: s, Transport: NewMemoryTransport()})
	var drift *SchemaDriftError
	if !errors.As(err, &drift) || drift.Command != "edgeoutbox gen "+self || !strings.Contains(err.Error(), `run "edgeoutbox gen `+self+`"`) {
		t.Fatalf("Open = %v, want a drift error naming edgeoutbox gen %s", err, self)
	}

	bad := EmbeddedSchema(self, []byte(`{not json`))
	if bad.Err() == nil {
		t.Fatal("EmbeddedSchema accepted invalid JSON")
	}
	if _, err := Open(context.Background(), t.TempDir()+"/app.db", Config{Schema: bad, Transport: NewMemoryTransport()}); !errors.Is(err, ErrInvalidSchemaFile) {
		t.Fatalf("Open with a bad embedded schema = %v, want ErrInvalidSchemaFile", err)
	}
}

func TestDriftCommandForAFileSchema(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := dir + "/my schema.json"
	if _, err := DumpSchema(path); err != nil {
		t.Fatal(err)
	}
	s, err := LoadSchemaFile(path)
	if err != nil {
		t.Fatal(err)
	}
	err = s.CheckDefinitions(pkgLevelDef)
	want := `run "edgeoutbox schema dump --out '` + path + `' github.com/edgeoutbox/edgeoutbox"`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("CheckDefinitions = %v, want it to contain %s", err, want)
	}
}

// An application's own embedded copy of the schema file is the one its drift error
// must fix: "edgeoutbox schema dump <definitions package>" would update the package's
// file (and generated code) and leave the copy stale. The copy's path is not known at
// run time, so the command has --out with a placeholder that says which file.
//
//go:embed testdata/schema/v1.json
var embeddedCopy embed.FS

func TestDriftCommandForAnEmbeddedCopy(t *testing.T) {
	t.Parallel()
	const pkg = "github.com/edgeoutbox/edgeoutbox" // pkgLevelDef's package
	const generic = `"edgeoutbox schema dump <definitions package>"`
	data, err := embeddedCopy.ReadFile("testdata/schema/v1.json")
	if err != nil {
		t.Fatal(err)
	}
	fromBytes, err := ParseSchema(data)
	if err != nil {
		t.Fatal(err)
	}
	fromMapFS, err := LoadSchemaFS(fstest.MapFS{"schemas/ev.json": {Data: data}}, "schemas/ev.json")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "my schema.json")
	if _, err := DumpSchema(path); err != nil {
		t.Fatal(err)
	}
	fromPath, err := LoadSchemaFile(path)
	if err != nil {
		t.Fatal(err)
	}
	mainDef := Define("main_probe", Input("x"))
	mainDef.pkg = "main" // a definition in package main cannot be named on the command line

	for _, tt := range []struct {
		name  string
		open  func() error
		want  []string
		exact string // SchemaDriftError.Command, "" when a placeholder is needed
	}{
		{"Open with Config.SchemaFS, an embed.FS", func() error {
			_, err := Open(context.Background(), filepath.Join(t.TempDir(), "app.db"), Config{
				SchemaFS: embeddedCopy, SchemaPath: "testdata/schema/v1.json",
				Definitions: []*Definition{pkgLevelDef}, Transport: NewMemoryTransport(),
			})
			return err
		}, []string{"pkg_level_probe is not in v1.json", "read from an embed.FS",
			`run "edgeoutbox schema dump --out <directory of the package with the //go:embed line>/testdata/schema/v1.json ` + pkg + `"`}, ""},
		{"LoadSchemaFS with another fs.FS", func() error { return fromMapFS.CheckDefinitions(pkgLevelDef) },
			[]string{"read from an fs.FS", `run "edgeoutbox schema dump --out <directory the fs.FS reads>/schemas/ev.json ` + pkg + `"`}, ""},
		{"ParseSchema", func() error { return fromBytes.CheckDefinitions(pkgLevelDef) },
			[]string{"given as bytes", `run "edgeoutbox schema dump --out <path of the schema file this program parsed> ` + pkg + `"`}, ""},
		{"EmbeddedSchema of another package", func() error {
			return EmbeddedSchema("example.com/other/events", data).CheckDefinitions(pkgLevelDef)
		}, []string{`run "edgeoutbox schema dump --out <directory of example.com/other/events>/event_schema.json ` + pkg + `"`}, ""},
		{"LoadSchemaFile, definitions in package main", func() error { return fromPath.CheckDefinitions(mainDef) },
			[]string{`run "edgeoutbox schema dump --out '` + path + `' <definitions package>"`}, ""},
		{"LoadSchemaFile", func() error { return fromPath.CheckDefinitions(pkgLevelDef) },
			[]string{`run "edgeoutbox schema dump --out '` + path + `' ` + pkg + `"`}, "edgeoutbox schema dump --out '" + path + "' " + pkg},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.open()
			var drift *SchemaDriftError
			if !errors.As(err, &drift) {
				t.Fatalf("err = %v, want a drift error", err)
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q\ndoes not contain %q", msg, w)
				}
			}
			if strings.Contains(msg, generic) {
				t.Errorf("message %q names the generic command, which does not update the loaded file", msg)
			}
			if drift.Command != tt.exact {
				t.Errorf("Command = %q, want %q", drift.Command, tt.exact)
			}
		})
	}
}

// An event missing from an embedded schema is added by regenerating the package that
// embeds it.
func TestUnknownEventNamesTheEmbeddingPackage(t *testing.T) {
	t.Parallel()
	const pkg = "example.com/probe/unknown"
	s := EmbeddedSchema(pkg, []byte(`{"format_version":1,"events":{}}`))
	_, err := s.lookup("cow_danced", 0)
	if want := `define it and run "edgeoutbox gen ` + pkg + `"`; !errors.Is(err, ErrUnknownEvent) || !strings.Contains(err.Error(), want) {
		t.Errorf("lookup = %v, want it to contain %s", err, want)
	}
}
