package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/edgeoutbox/edgeoutbox/migrations"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// sqliteHeader starts every SQLite database file.
var sqliteHeader = []byte("SQLite format 3\x00")

// noDatabaseError is the message for a --db path with nothing there.
func noDatabaseError(path string) error {
	return fmt.Errorf("no database at %s: run \"edgeoutbox migrate --db %s\" to create one", path, path)
}

// checkDatabaseFile looks at path before anything opens it for writing, so that a
// typo or the wrong file is reported and left exactly as it was. With create false (the
// commands that read or maintain an existing outbox) a missing or empty file, or a
// SQLite database without outbox tables, is an error that names edgeoutbox migrate.
func checkDatabaseFile(ctx context.Context, path string, create bool) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if create {
			return nil
		}
		return noDatabaseError(path)
	case err != nil:
		return fmt.Errorf("database %s: %w", path, err)
	case fi.IsDir():
		return fmt.Errorf("%s is a directory, not a database file: point --db at the outbox's SQLite file", path)
	case fi.Size() == 0:
		if create {
			return nil
		}
		return fmt.Errorf("%s is an empty file, not an outbox database: run \"edgeoutbox migrate --db %s\" to make it one", path, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("database %s: %w", path, err)
	}
	head := make([]byte, len(sqliteHeader))
	_, err = io.ReadFull(f, head)
	f.Close()
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("database %s: %w", path, err)
	}
	if !bytes.Equal(head, sqliteHeader) {
		return fmt.Errorf("%s is not a SQLite database (the file was not changed): point --db at the outbox's database file", path)
	}
	hasTables, version, err := probeReadOnly(ctx, path)
	if err != nil {
		return err
	}
	if create {
		return nil
	}
	if !hasTables {
		return fmt.Errorf("%s is a SQLite database without outbox tables (the file was not changed): run \"edgeoutbox migrate --db %s\" to add them", path, path)
	}
	// Opening runs the pending migrations; a command that only reads or maintains an
	// outbox must not upgrade it behind the user's back. (A version newer than this
	// program knows is refused by edgeoutbox.Open.)
	if version >= 0 {
		latest, err := latestMigration()
		if err != nil {
			return err
		}
		if version < latest {
			return fmt.Errorf("%s is at outbox schema version %d, older than this edgeoutbox's %d (the file was not changed): run \"edgeoutbox migrate --db %s\" to upgrade it", path, version, latest, path)
		}
	}
	return nil
}

// latestMigration returns the version of the newest migration this program knows.
func latestMigration() (int64, error) {
	all, err := migrations.All()
	if err != nil {
		return 0, err
	}
	if len(all) == 0 {
		return 0, nil
	}
	return int64(all[len(all)-1].Version), nil
}

// probeReadOnly opens path read-only and reads its schema and migration version, which
// is where a damaged file shows first. It reports whether the outbox tables exist and
// the highest migration version applied (0 if none, -1 if it could not be read).
// Errors other than "not a database" and "corrupt" are left for the real open to report.
func probeReadOnly(ctx context.Context, path string) (bool, int64, error) {
	// Read-only is not enough: opening a WAL-mode file creates its -wal and -shm files.
	// Without a -wal file there is nothing but the main file to read, and immutable=1
	// reads it without creating anything; with one, the files exist already.
	params := "mode=ro&immutable=1"
	if _, err := os.Stat(path + "-wal"); err == nil {
		params = "mode=ro&_pragma=busy_timeout(5000)"
	}
	db, err := sql.Open("sqlite", "file:"+escapePath(path)+"?"+params)
	if err != nil {
		return false, -1, nil
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var n int
	var v sql.NullInt64
	err = db.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'edgeoutbox_migrations'").Scan(&n)
	if err == nil && n > 0 {
		err = db.QueryRowContext(ctx, "SELECT MAX(version) FROM edgeoutbox_migrations").Scan(&v)
	}
	if err != nil {
		if damaged(err) {
			return false, -1, fmt.Errorf("%s is damaged: SQLite says %q (the file was not changed): restore it from a backup", path, sqliteMessage(err))
		}
		return true, -1, nil
	}
	return n > 0, v.Int64, nil
}

// damaged reports whether err says the file is not a database or is corrupt.
func damaged(err error) bool {
	var serr *sqlite.Error
	if errors.As(err, &serr) {
		switch serr.Code() & 0xff {
		case sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT:
			return true
		}
	}
	return strings.Contains(err.Error(), "malformed")
}

func sqliteMessage(err error) string {
	var serr *sqlite.Error
	if errors.As(err, &serr) {
		return serr.Error()
	}
	return err.Error()
}

// escapePath keeps '?' and '#' in a file name from being read as URI syntax.
func escapePath(path string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
}

// openOutbox checks the file at path (see checkDatabaseFile) and opens it as an
// outbox. A nil cfg.Schema means an empty schema: enough for every command but emit.
func openOutbox(ctx context.Context, path string, create bool, cfg edgeoutbox.Config) (*edgeoutbox.Engine, error) {
	if err := checkDatabaseFile(ctx, path, create); err != nil {
		return nil, err
	}
	if cfg.Schema == nil {
		cfg.Schema = edgeoutbox.NewSchema("")
	}
	return edgeoutbox.Open(ctx, path, cfg)
}
