package main

import (
	"bytes"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// readOnlyCommands are the commands that must never create a database.
var readOnlyCommands = [][]string{
	{"outbox", "stats"},
	{"outbox", "list"},
	{"outbox", "cleanup"},
	{"dead-letters", "list"},
	{"dead-letters", "show", "1"},
	{"dead-letters", "retry", "1"},
	{"dead-letters", "retry", "--all"},
}

func TestMissingDatabaseIsNotCreated(t *testing.T) {
	db := filepath.Join(t.TempDir(), "typo.db")
	for _, args := range readOnlyCommands {
		r := run(t, append(args, "--db", db)...)
		want := `edgeoutbox: no database at ` + db + `: run "edgeoutbox migrate --db ` + db + `" to create one` + "\n"
		if r.code() != 1 || r.stderr != want {
			t.Errorf("%v: exit %d, stderr %q; want 1 and %q", args, r.code(), r.stderr, want)
		}
		if _, err := os.Stat(db); !os.IsNotExist(err) {
			t.Fatalf("%v created %s", args, db)
		}
	}
}

// badFiles returns files that are not outbox databases, by what is wrong with them.
func badFiles(t *testing.T) map[string][]byte {
	t.Helper()
	files := map[string][]byte{
		"text":  []byte("name,weight\nDaisy,512\n"),
		"short": []byte("SQLite"),
	}
	// A real outbox database with its first page (the schema) overwritten.
	db := newOutbox(t)
	data, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 4096 {
		t.Fatalf("outbox database is only %d bytes", len(data))
	}
	corrupt := bytes.Clone(data)
	for i := 100; i < 4096; i++ {
		corrupt[i] = byte(i * 7)
	}
	files["corrupt"] = corrupt
	return files
}

func TestBadDatabaseFilesAreLeftAlone(t *testing.T) {
	commands := append(append([][]string(nil), readOnlyCommands...),
		[]string{"migrate"},
		[]string{"emit", "cow_fed", "--schema", golden, "--input", cowInput},
	)
	for kind, content := range badFiles(t) {
		dir := t.TempDir()
		path := filepath.Join(dir, kind+".db")
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, args := range commands {
			r := run(t, append(args, "--db", path)...)
			if r.code() != 1 {
				t.Errorf("%s file, %v: exit %d (%v), want 1", kind, args, r.code(), r.err)
				continue
			}
			if strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, path) {
				t.Errorf("%s file, %v: stderr %q, want one line naming the file", kind, args, r.stderr)
			}
			want := "not a SQLite database"
			if kind == "corrupt" {
				want = "restore it from a backup"
			}
			if !strings.Contains(r.stderr, want) {
				t.Errorf("%s file, %v: stderr %q, want it to say %q", kind, args, r.stderr, want)
			}
			got, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(got, content) {
				t.Fatalf("%s file, %v: the file changed (%v)", kind, args, err)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 {
				t.Errorf("%s file, %v: left %d files in the directory, want only the database", kind, args, len(entries))
			}
		}
	}
}

// An application's own SQLite file without outbox tables: read-only commands leave it
// alone and name migrate, which adds the tables beside the application's.
func TestForeignSQLiteDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE cows (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO cows (name) VALUES ('Daisy')"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	before, _ := os.ReadFile(path)
	for _, args := range readOnlyCommands {
		r := run(t, append(args, "--db", path)...)
		if r.code() != 1 || !strings.Contains(r.stderr, "without outbox tables") || !strings.Contains(r.stderr, `"edgeoutbox migrate --db `+path+`"`) {
			t.Errorf("%v: exit %d, stderr %q", args, r.code(), r.stderr)
		}
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Fatal("a read-only command changed the application's database")
	}
	r := mustRun(t, "migrate", "--db", path)
	if !strings.Contains(r.stdout, "applied migration 1") {
		t.Errorf("migrate printed %q", r.stdout)
	}
	mustRun(t, "outbox", "stats", "--db", path)
	db, _ = sql.Open("sqlite", path)
	defer db.Close()
	var name string
	if err := db.QueryRow("SELECT name FROM cows").Scan(&name); err != nil || name != "Daisy" {
		t.Errorf("the application's rows: %q, %v", name, err)
	}
}

func TestEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, "outbox", "stats", "--db", path)
	if r.code() != 1 || !strings.Contains(r.stderr, "is an empty file") || !strings.Contains(r.stderr, "edgeoutbox migrate --db") {
		t.Errorf("exit %d, stderr %q", r.code(), r.stderr)
	}
	mustRun(t, "migrate", "--db", path)
	mustRun(t, "outbox", "stats", "--db", path)
}

func TestDirectoryAsDatabase(t *testing.T) {
	r := run(t, "outbox", "stats", "--db", t.TempDir())
	if r.code() != 1 || !strings.Contains(r.stderr, "is a directory") {
		t.Errorf("exit %d, stderr %q", r.code(), r.stderr)
	}
}

// A database behind this program's migrations (here: only the bookkeeping table, as an
// interrupted or older migrate leaves it) is not upgraded by the read-only commands:
// they name migrate and leave the file byte for byte as it was.
func TestOlderDatabaseIsNotMigrated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE edgeoutbox_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	before, _ := os.ReadFile(path)
	for _, args := range readOnlyCommands {
		r := run(t, append(args, "--db", path)...)
		if r.code() != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "at outbox schema version 0, older than") ||
			!strings.Contains(r.stderr, `"edgeoutbox migrate --db `+path+`"`) {
			t.Errorf("%v: exit %d, stderr %q", args, r.code(), r.stderr)
		}
		if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
			t.Fatalf("%v changed the database", args)
		}
	}
	mustRun(t, "migrate", "--db", path)
	mustRun(t, "outbox", "stats", "--db", path)
}

// A database newer than this program is still refused (by edgeoutbox.Open).
func TestNewerDatabaseIsRefused(t *testing.T) {
	path := newOutbox(t)
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO edgeoutbox_migrations (version, name, applied_at) VALUES (999, '0999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if r := run(t, "outbox", "stats", "--db", path); r.code() != 1 {
		t.Errorf("exit %d, stderr %q; want 1", r.code(), r.stderr)
	}
}
