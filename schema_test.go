package edgeoutbox

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// The package's tests share one -update flag; whichever file declares it first wins.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files under testdata/")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// checkGolden compares got with testdata/schema/name, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "schema", name)
	if updateGolden() {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run go test -run %s -update after checking):\n--- got\n%s\n--- want\n%s", path, t.Name(), got, want)
	}
}

// schemaCowFedV2 changes schemaCowFed: weight becomes an int and a required field is added.
var schemaCowFedV2 = Define("cow_fed",
	EventType("domain"),
	Input("cow"),
	OptionalInput("farmer"),
	EntityClass("class_name", From("cow"), String),
	EntityID("id", From("cow"), Int),
	EntityVersion("version", From("cow"), Int),
	RequiredPayload("weight", From("cow"), Int),
	RequiredPayload("breed", From("cow"), String),
	OptionalPayload("name", FromAttr("farmer", "full_name"), String),
	OptionalPayload("fed_at", From("farmer"), Time),
)

var schemaCowMilked = Define("cow_milked",
	EventType("integration"),
	Input("cow"),
	EntityID("id", From("cow"), String),
	RequiredPayload("liters", From("cow"), Float),
	OptionalPayload("extra", From("cow"), JSON),
	OptionalPayload("organic", From("cow"), Bool),
)

func readSchemaBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDumpSchemaGoldenAndVersions(t *testing.T) {
	path := filepath.Join(t.TempDir(), DefaultSchemaFile)

	res, err := DumpSchema(path, schemaCowMilked, schemaCowFed)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Written || strings.Join(res.Added, ",") != "cow_fed,cow_milked" || len(res.Changed)+len(res.Unchanged)+len(res.Retained) != 0 {
		t.Errorf("first dump: %+v", res)
	}
	v1 := readSchemaBytes(t, path)
	checkGolden(t, "v1.json", v1)
	if !bytes.HasSuffix(v1, []byte("}\n")) || bytes.Contains(v1, []byte("\t")) {
		t.Error("not 2-space indented with a trailing newline")
	}

	// Dumping unchanged definitions (in another order) leaves the file untouched: the
	// same bytes in the same file (an atomic rewrite would replace the inode).
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	res, err = DumpSchema(path, schemaCowFed, schemaCowMilked)
	if err != nil {
		t.Fatal(err)
	}
	if res.Written || strings.Join(res.Unchanged, ",") != "cow_fed,cow_milked" {
		t.Errorf("second dump: %+v", res)
	}
	if after, err := os.Stat(path); err != nil || !os.SameFile(before, after) {
		t.Error("second dump rewrote the file")
	}
	if !bytes.Equal(readSchemaBytes(t, path), v1) {
		t.Error("second dump changed the bytes")
	}

	// A changed definition appends version 2; cow_milked, no longer defined, is kept.
	res, err = DumpSchema(path, schemaCowFedV2)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Written || strings.Join(res.Changed, ",") != "cow_fed" || strings.Join(res.Retained, ",") != "cow_milked" || res.Latest["cow_fed"] != 2 || len(res.Latest) != 1 {
		t.Errorf("third dump: %+v", res)
	}
	if after, err := os.Stat(path); err != nil || os.SameFile(before, after) {
		t.Error("a changed dump did not replace the file atomically")
	}
	v2 := readSchemaBytes(t, path)
	checkGolden(t, "v2.json", v2)

	s, err := LoadSchemaFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.Events(), ","); got != "cow_fed,cow_milked" {
		t.Errorf("Events() = %s", got)
	}
	vs := s.Versions("cow_fed")
	if len(vs) != 2 || vs[0].Version != 1 || vs[1].Version != 2 {
		t.Fatalf("Versions = %+v", vs)
	}
	// Version 1 is kept intact.
	v1s, err := ParseSchema(v1)
	if err != nil {
		t.Fatal(err)
	}
	if vs[0].Fingerprint != v1s.Fingerprint("cow_fed") || vs[0].Fingerprint != schemaCowFed.Fingerprint() {
		t.Error("version 1 changed")
	}
	if s.Fingerprint("cow_fed") != schemaCowFedV2.Fingerprint() || s.Latest("cow_fed") != vs[1] {
		t.Error("latest is not version 2")
	}
	if s.Latest("nope") != nil || s.Fingerprint("nope") != "" || s.Versions("nope") != nil {
		t.Error("unknown event accessors")
	}

	// Old and new versions both build.
	cow := map[string]any{"class_name": "schemaCow", "id": 7, "version": 2, "weight": 12, "breed": "Jersey"}
	old1, err := s.lookup("cow_fed", 1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := old1.build("cow_fed", Inputs{"cow": cow})
	if err != nil || string(b.payload) != `{"weight":12}` || b.version != 1 {
		t.Errorf("version 1 build: %+v %v", b, err)
	}
	b, err = buildLatest(t, s, "cow_fed", Inputs{"cow": cow})
	if err != nil || string(b.payload) != `{"weight":12,"breed":"Jersey"}` || b.version != 2 {
		t.Errorf("latest build: %s %v", b.payload, err)
	}
	if v, _ := s.lookup("cow_fed", 2); v != vs[1] {
		t.Error("lookup(2) is not version 2")
	}

	// Reverting to the first definition appends version 3 (history is never rewritten).
	res, err = DumpSchema(path, schemaCowFed, schemaCowMilked)
	if err != nil {
		t.Fatal(err)
	}
	s, err = LoadSchemaFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(s.Versions("cow_fed")); n != 3 || s.Fingerprint("cow_fed") != schemaCowFed.Fingerprint() {
		t.Errorf("after revert: %d versions", n)
	}
	// Bytes round-trips.
	if !bytes.Equal(s.Bytes(), readSchemaBytes(t, path)) {
		t.Error("Bytes() differs from the file")
	}
}

func TestDumpSchemaDefaultPathAndNoTempFiles(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if _, err := DumpSchema("", schemaCowFed); err != nil {
		t.Fatal(err)
	}
	if _, err := DumpSchema("", schemaCowFedV2); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != DefaultSchemaFile {
		t.Errorf("directory holds %v", entries)
	}
}

func TestDumpSchemaRefusesInvalidFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), DefaultSchemaFile)
	if err := os.WriteFile(path, []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := DumpSchema(path, schemaCowFed); !errors.Is(err, ErrInvalidSchemaFile) {
		t.Errorf("DumpSchema over a broken file: %v", err)
	}
	if string(readSchemaBytes(t, path)) != "{" {
		t.Error("broken file overwritten")
	}
}

func TestWithDoesNotModify(t *testing.T) {
	s := mustTestSchema(t, schemaCowFed)
	before := s.Bytes()
	s2, res, err := s.With(schemaCowFedV2)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s.Bytes(), before) || len(s.Versions("cow_fed")) != 1 || len(s2.Versions("cow_fed")) != 2 {
		t.Error("With modified the receiver")
	}
	if strings.Join(res.Changed, ",") != "cow_fed" {
		t.Errorf("res = %+v", res)
	}
	if _, _, err := s.With(schemaCowFed, schemaCowFedV2); !errors.Is(err, ErrInvalidDefinition) {
		t.Errorf("two definitions of one event: %v", err)
	}
}

func TestLoadSchemaNotFound(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", DefaultSchemaFile)
	_, err := LoadSchemaFile(path)
	if !errors.Is(err, ErrSchemaNotFound) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{path, `edgeoutbox schema dump <definitions package>`, "edgeoutbox.DumpSchema", "go generate"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not contain %q", err, want)
		}
	}
	_, err = LoadSchemaFS(fstest.MapFS{}, DefaultSchemaFile)
	if !errors.Is(err, ErrSchemaNotFound) || !strings.Contains(err.Error(), DefaultSchemaFile) {
		t.Errorf("LoadSchemaFS: %v", err)
	}
}

func TestLoadSchemaFS(t *testing.T) {
	data := mustTestSchema(t, schemaCowFed).Bytes()
	s, err := LoadSchemaFS(fstest.MapFS{"x/s.json": {Data: data}}, "x/s.json")
	if err != nil {
		t.Fatal(err)
	}
	if s.File() != "x/s.json" || s.Fingerprint("cow_fed") != schemaCowFed.Fingerprint() {
		t.Errorf("loaded %s", s.File())
	}
}

func TestParseSchemaRejects(t *testing.T) {
	valid := string(mustTestSchema(t, schemaCowFed, schemaCowMilked).Bytes())
	fp := schemaCowFed.Fingerprint()
	replace := func(old, new string) string {
		t.Helper()
		if !strings.Contains(valid, old) {
			t.Fatalf("%q not in the valid file", old)
		}
		return strings.Replace(valid, old, new, 1)
	}
	eventBlock := valid[strings.Index(valid, `"cow_fed": {`):strings.Index(valid, `"cow_milked": {`)]
	tests := []struct {
		name, data string
		want       []string
	}{
		{"empty", "", []string{"not valid JSON"}},
		{"invalid JSON", valid[:len(valid)/2], []string{"not valid JSON"}},
		{"trailing data", valid + "{}", []string{"not valid JSON", "after the top-level value"}},
		{"not an object", "[]", []string{"top level must be a JSON object"}},
		{"missing format_version", `{"events":{}}`, []string{"format_version is missing"}},
		{"unknown format_version", replace(`"format_version": 1`, `"format_version": 2`), []string{"unknown format_version 2", "upgrade edgeoutbox"}},
		{"string format_version", replace(`"format_version": 1`, `"format_version": "1"`), []string{`unknown format_version "1"`}},
		{"duplicate events", replace(`"cow_milked": {`, eventBlock+`"cow_milked": {`), []string{`event "cow_fed": event appears twice`}},
		{"duplicate key", replace(`"type": "domain",`, `"type": "domain", "type": "domain",`), []string{`key "type" appears twice in .events.cow_fed.versions[0]`}},
		{"unknown field", replace(`"type": "domain",`, `"type": "domain", "color": "red",`), []string{`unknown field "color"`}},
		{"bad field type", replace(`"type": "float"`, `"type": "decimal"`), []string{`event "cow_fed" version 1`, `unknown type "decimal"`}},
		{"bad event type", replace(`"type": "domain"`, `"type": "Domain"`), []string{`event "cow_fed" version 1`, `event type "Domain"`}},
		{"bad event name", replace(`"cow_fed": {`, `"schemaCow Fed": {`), []string{`event "schemaCow Fed"`, "event name"}},
		{"wrong JSON type", replace(`"version": 1`, `"version": "1"`), []string{"cannot unmarshal"}},
		{"version not 1", replace(`"version": 1,`, `"version": 2,`), []string{`event "cow_fed"`, "numbered 1, 2, 3", "entry 1 has version 2"}},
		{"no versions", replace(`"cow_fed": {`, `"cow_fed": {"versions": []}, "x_placeholder": {`), []string{`event "cow_fed": no versions`}},
		{"null version", strings.Replace(valid, `"versions": [`, `"versions": [null, `, 1), []string{"version entry 1 is null"}},
		{"tampered fingerprint", replace(fp, "sha256:"+strings.Repeat("0", 64)), []string{`event "cow_fed" version 1`, "fingerprint", "edited by hand", "edgeoutbox schema dump"}},
		{"tampered content", replace(`"name": "weight"`, `"name": "weight_kg"`), []string{`event "cow_fed" version 1`, "does not match the content"}},
		{"unknown input", replace(`"from": "farmer"`, `"from": "horse"`), []string{`unknown input "horse"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "my_schema.json")
			if err := os.WriteFile(path, []byte(tt.data), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadSchemaFile(path)
			if !errors.Is(err, ErrInvalidSchemaFile) {
				t.Fatalf("err = %v, want ErrInvalidSchemaFile", err)
			}
			var sfe *SchemaFileError
			if !errors.As(err, &sfe) || sfe.File != path {
				t.Errorf("not a *SchemaFileError for %s: %v", path, err)
			}
			for _, want := range append(tt.want, path) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			if _, err := ParseSchema([]byte(tt.data)); !errors.Is(err, ErrInvalidSchemaFile) || !strings.Contains(err.Error(), DefaultSchemaFile) {
				t.Errorf("ParseSchema: %v", err)
			}
		})
	}
}

func TestLookupErrors(t *testing.T) {
	s := mustTestSchema(t, schemaCowFed)
	s2, _, _ := s.With(schemaCowFedV2)
	_, err := s2.lookup("horse_fed", 0)
	if !errors.Is(err, ErrUnknownEvent) || !strings.Contains(err.Error(), `"horse_fed"`) || !strings.Contains(err.Error(), "edgeoutbox schema dump") {
		t.Errorf("unknown event: %v", err)
	}
	for _, v := range []int{3, -1} {
		_, err = s2.lookup("cow_fed", v)
		if !errors.Is(err, ErrUnknownVersion) || !strings.Contains(err.Error(), "versions 1 to 2") {
			t.Errorf("unknown version %d: %v", v, err)
		}
	}
	_, err = s.lookup("cow_fed", 2)
	if !errors.Is(err, ErrUnknownVersion) || !strings.Contains(err.Error(), "only version 1") {
		t.Errorf("unknown version: %v", err)
	}
}

func TestCheckDefinitions(t *testing.T) {
	s := mustTestSchema(t, schemaCowFed, schemaCowMilked)
	if err := s.CheckDefinitions(schemaCowFed, schemaCowMilked); err != nil {
		t.Errorf("unchanged: %v", err)
	}
	if err := s.CheckDefinitions(schemaCowFed); err != nil {
		t.Errorf("subset: %v", err)
	}
	err := s.CheckDefinitions(schemaCowFedV2)
	want := `cow_fed changed since event_schema.json was dumped; run "edgeoutbox schema dump --out <path of the schema file this program parsed> github.com/edgeoutbox/edgeoutbox" or edgeoutbox.DumpSchema on that file (the schema was given as bytes to ParseSchema or built with NewSchema, so which file it came from is not known), then commit the changes`
	if !errors.Is(err, ErrSchemaDrift) || err.Error() != want {
		t.Errorf("changed:\n got %v\nwant %s", err, want)
	}
	err = s.CheckDefinitions(schemaCowFedV2, Define("a"), Define("b"))
	var de *SchemaDriftError
	if !errors.As(err, &de) || strings.Join(de.New, ",") != "a,b" || strings.Join(de.Changed, ",") != "cow_fed" {
		t.Fatalf("drift = %v", err)
	}
	if !strings.Contains(err.Error(), "a, b are not in event_schema.json") {
		t.Errorf("message: %v", err)
	}
	if err := s.CheckDefinitions(Define("Bad")); !errors.Is(err, ErrInvalidDefinition) {
		t.Errorf("invalid definition: %v", err)
	}
}
