package edgeoutbox

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// fileSnapshot is what must not change when Open refuses a file: its bytes, its
// modification time and the names in its directory.
type fileSnapshot struct {
	data    []byte
	modTime time.Time
	names   []string
}

func snapshotFile(t testing.TB, path string) fileSnapshot {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fileSnapshot{data: data, modTime: fi.ModTime(), names: dirNames(t, filepath.Dir(path))}
}

func dirNames(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// checkUnchanged fails the test if path differs from snap. Open leaves no -wal or
// -shm file behind either.
func checkUnchanged(t testing.TB, path string, snap fileSnapshot) {
	t.Helper()
	now := snapshotFile(t, path)
	if !bytes.Equal(now.data, snap.data) {
		t.Errorf("%s: content changed (%d bytes before, %d after)", path, len(snap.data), len(now.data))
	}
	if !now.modTime.Equal(snap.modTime) {
		t.Errorf("%s: modification time changed from %v to %v", path, snap.modTime, now.modTime)
	}
	if !slices.Equal(now.names, snap.names) {
		t.Errorf("directory of %s: files %q before Open, %q after", path, snap.names, now.names)
	}
}

// checkOpenError fails the test unless err is non-nil and mentions every part.
func checkOpenError(t testing.TB, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("Open succeeded, want an error mentioning %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
}

// writeRealDatabase creates an outbox database at path holding n events with some
// bulk (so it spans many pages), closes it (checkpointing the WAL into the file) and
// returns its bytes.
func writeRealDatabase(t testing.TB, path string, n int) []byte {
	t.Helper()
	e, err := Open(context.Background(), path, Config{Schema: testSchema(t)})
	if err != nil {
		t.Fatal(err)
	}
	pad := map[string]string{"pad": strings.Repeat("p", 400)}
	for i := range n {
		if _, err := e.Emit(context.Background(), "order_placed", orderInputs(i, 1), WithMetadata(pad)); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if _, err := os.Stat(path + suffix); err == nil {
			t.Fatalf("%s%s left after Close", path, suffix)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestOpenRefusesNonSQLiteFile: a file that is not a SQLite database is refused with
// an error naming it and what to do, and is left exactly as it was.
func TestOpenRefusesNonSQLiteFile(t *testing.T) {
	for name, content := range map[string][]byte{
		"text":       bytes.Repeat([]byte("this is not a database, it is a log line\n"), 200),
		"short":      []byte("hello"),
		"json":       []byte(`{"format_version":1,"events":{}}` + "\n"),
		"zip header": append([]byte("PK\x03\x04"), make([]byte, 4096)...),
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "outbox.db")
			if err := os.WriteFile(path, content, 0o644); err != nil {
				t.Fatal(err)
			}
			snap := snapshotFile(t, path)
			_, err := Open(context.Background(), path, Config{Schema: testSchema(t)})
			checkOpenError(t, err, path, "not a SQLite database", "point to the right file")
			checkUnchanged(t, path, snap)
		})
	}
}

// TestOpenRefusesTruncatedDatabase: a real outbox database cut short (an interrupted
// copy or download) is refused at Open, before any emit, with an error naming the file
// and saying to restore a backup; the file is not modified. SQLite itself compares the
// page count in the header with the file size when the file has no WAL, so Open needs
// no check of its own (a full quick_check would read the whole file at every Open).
func TestOpenRefusesTruncatedDatabase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	whole := writeRealDatabase(t, filepath.Join(dir, "whole.db"), 200)
	if len(whole) < 64<<10 {
		t.Fatalf("test database is only %d bytes", len(whole))
	}
	for name, cut := range map[string]int{
		"half":             len(whole) / 2,
		"last page":        len(whole) - 4096,
		"mid-page":         len(whole) - 1000,
		"first page":       4096,
		"within header":    60,
		"within page one ": 1000,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "outbox.db")
			if err := os.WriteFile(path, whole[:cut], 0o644); err != nil {
				t.Fatal(err)
			}
			snap := snapshotFile(t, path)
			_, err := Open(context.Background(), path, Config{Schema: testSchema(t)})
			checkOpenError(t, err, path, "restore it from a backup")
			if !strings.Contains(err.Error(), "corrupt") && !strings.Contains(err.Error(), "not a SQLite database") {
				t.Errorf("error %q says neither corrupt nor not a SQLite database", err)
			}
			checkUnchanged(t, path, snap)
		})
	}
}

// TestOpenRefusesDatabaseFromNewerVersion: a database migrated by a newer edgeoutbox
// (a higher row in edgeoutbox_migrations) is refused with ErrDatabaseTooNew, naming the
// file and saying to upgrade; the file is not modified.
func TestOpenRefusesDatabaseFromNewerVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	writeRealDatabase(t, path, 3)
	db, err := sql.Open("sqlite", DSN(path, SyncFull, 0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO edgeoutbox_migrations (version, name, applied_at) VALUES (999, '0999_future.sql', 0)"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	snap := snapshotFile(t, path)
	_, err = Open(context.Background(), path, Config{Schema: testSchema(t)})
	if !errors.Is(err, ErrDatabaseTooNew) {
		t.Fatalf("Open: %v, want ErrDatabaseTooNew", err)
	}
	checkOpenError(t, err, path, "999", "upgrade edgeoutbox", "not changed")
	checkUnchanged(t, path, snap)
}

// TestOpenRefusesBadSchemaFiles: a schema file with invalid JSON, an unknown format
// version, an event listed twice or a field of an unknown type is refused at Open with
// an error naming the schema file and what to do, before the database is touched.
func TestOpenRefusesBadSchemaFiles(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "outbox.db")
	writeRealDatabase(t, dbPath, 3)
	good := string(testSchema(t).Bytes())
	if !strings.Contains(good, `"type": "float"`) {
		t.Fatalf("schema has no float field:\n%s", good)
	}
	eventStart := strings.Index(good, `    "order_placed": {`)
	eventEnd := strings.LastIndex(good, "\n  }\n}")
	if eventStart < 0 || eventEnd < 0 {
		t.Fatalf("unexpected schema layout:\n%s", good)
	}
	event := good[eventStart:eventEnd]
	cases := map[string]struct {
		content string
		parts   []string
	}{
		"invalid json":     {good[:len(good)/2], []string{"not valid JSON", "restore the file from version control"}},
		"empty":            {"", []string{"not valid JSON"}},
		"future format":    {strings.Replace(good, `"format_version": 1`, `"format_version": 7`, 1), []string{"unknown format_version 7", "upgrade edgeoutbox"}},
		"duplicate events": {good[:eventEnd] + ",\n" + event + good[eventEnd:], []string{`"order_placed"`, "appears twice", "edgeoutbox schema dump"}},
		"unknown type":     {strings.Replace(good, `"type": "float"`, `"type": "decimal"`, 1), []string{`"order_placed"`, "decimal"}},
		"wrong type kind":  {strings.Replace(good, `"type": "float"`, `"type": 3`, 1), []string{"restore the file from version control"}},
		"not an object":    {`["order_placed"]`, []string{"object"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			schemaPath := filepath.Join(t.TempDir(), "event_schema.json")
			if err := os.WriteFile(schemaPath, []byte(c.content), 0o644); err != nil {
				t.Fatal(err)
			}
			snap := snapshotFile(t, dbPath)
			_, err := Open(context.Background(), dbPath, Config{SchemaPath: schemaPath, Definitions: []*Definition{testOrderPlaced}})
			if !errors.Is(err, ErrInvalidSchemaFile) {
				t.Fatalf("Open: %v, want ErrInvalidSchemaFile", err)
			}
			checkOpenError(t, err, append([]string{schemaPath}, c.parts...)...)
			checkUnchanged(t, dbPath, snap)
		})
	}
}

// TestOpenDoesNotRewriteExistingFile: opening and closing an existing outbox without
// emitting leaves the file byte for byte as it was (setting auto_vacuum in the DSN
// used to rewrite the header at every connection), and a new file still gets
// incremental auto-vacuum so that retention can give space back.
func TestOpenDoesNotRewriteExistingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	writeRealDatabase(t, path, 3)
	snap := snapshotFile(t, path)
	for range 2 {
		e, err := Open(context.Background(), path, Config{Schema: testSchema(t)})
		if err != nil {
			t.Fatal(err)
		}
		var mode int
		if err := e.reader.QueryRow("PRAGMA auto_vacuum").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if mode != 2 {
			t.Fatalf("auto_vacuum = %d, want 2 (incremental)", mode)
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	}
	checkUnchanged(t, path, snap)
}

// Several processes opening the same new database file at once all succeed: the
// losers of the race to set it up wait instead of failing with "database is locked".
// (Within one process SQLite's locks do not contend the same way, so this test starts
// copies of the test binary.)
func TestConcurrentOpensOfANewFileAcrossProcesses(t *testing.T) {
	t.Parallel()
	if os.Getenv("EDGEOUTBOX_OPEN_HELPER") != "" {
		return // a helper process runs TestOpenHelperProcess instead
	}
	rounds := 10
	if testing.Short() {
		rounds = 3
	}
	for round := 0; round < rounds; round++ {
		path := filepath.Join(t.TempDir(), "new.db")
		var cmds []*exec.Cmd
		var outs []*bytes.Buffer
		for i := 0; i < 4; i++ {
			cmd := exec.Command(os.Args[0], "-test.run=^TestOpenHelperProcess$", "-test.count=1")
			cmd.Env = append(os.Environ(), "EDGEOUTBOX_OPEN_HELPER="+path)
			out := new(bytes.Buffer)
			cmd.Stdout, cmd.Stderr = out, out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			cmds, outs = append(cmds, cmd), append(outs, out)
		}
		for i, cmd := range cmds {
			if err := cmd.Wait(); err != nil {
				t.Fatalf("round %d, process %d: %v\n%s", round, i, err, outs[i])
			}
		}
	}
}

// TestOpenHelperProcess opens the database named by EDGEOUTBOX_OPEN_HELPER, emits
// once and closes; it does nothing in a normal test run.
func TestOpenHelperProcess(t *testing.T) {
	path := os.Getenv("EDGEOUTBOX_OPEN_HELPER")
	if path == "" {
		t.Skip("helper process for TestConcurrentOpensOfANewFileAcrossProcesses")
	}
	e, err := Open(context.Background(), path, Config{Schema: testSchema(t)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Emit(context.Background(), "order_placed", orderInputs(1, 1)); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
}
