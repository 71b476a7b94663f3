package edgeoutbox

import (
	"context"
	"errors"
	"strings"
	"testing"
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
