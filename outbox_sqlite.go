package edgeoutbox

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// DSN returns the modernc.org/sqlite data source name edgeoutbox uses for path: WAL,
// the busy timeout, the synchronous level, foreign keys, a 1 MiB page cache and
// immediate write transactions. Open a *sql.DB with it (driver "sqlite") to share the database file
// with New; keep that pool's write side to one connection (db.SetMaxOpenConns(1)).
func DSN(path string, sync Synchronous, busyTimeout time.Duration) string {
	if sync == "" {
		sync = SyncFull
	}
	if busyTimeout <= 0 {
		busyTimeout = 5 * time.Second
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	// No auto_vacuum here: on a file that has tables, setting it rewrites the header
	// at every connection open. Migrate sets it once, on a new file.
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+string(sync)+")")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_size_limit(67108864)")
	// SQLite's default page cache is 2 MB per connection, five connections' worth on
	// an edge device. The writer's 1 MiB holds the inserts' right edges and the
	// indexes' upper levels; the readers scan in order and lean on the OS's cache.
	q.Add("_pragma", fmt.Sprintf("cache_size(%d)", writerCacheKiB))
	q.Set("_txlock", "immediate")
	return "file:" + escapePath(path) + "?" + q.Encode()
}

// Page cache sizes, as PRAGMA cache_size takes them (negative: KiB).
const (
	writerCacheKiB = -1024
	readerCacheKiB = -256
)

// readerDSN is DSN for the read-only pool: same settings, queries only, a smaller
// page cache.
func readerDSN(path string, sync Synchronous, busyTimeout time.Duration) string {
	return DSN(path, sync, busyTimeout) + fmt.Sprintf("&_pragma=query_only(1)&_pragma=cache_size(%d)", readerCacheKiB)
}

// escapePath keeps '?' and '#' in a file name from being read as URI syntax.
func escapePath(path string) string {
	r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	return r.Replace(path)
}

// openPools opens the single writer connection and the reader pool for path and checks
// that SQLite applied every setting.
func openPools(ctx context.Context, path string, cfg Config) (writer, reader *sql.DB, err error) {
	if err := checkDatabaseFile(path); err != nil {
		return nil, nil, err
	}
	writer, err = sql.Open("sqlite", DSN(path, cfg.Synchronous, cfg.BusyTimeout))
	if err != nil {
		return nil, nil, fmt.Errorf("open outbox database %s: %w", path, err)
	}
	// One writer connection: more give no throughput and starve callers (FIELD-NOTES).
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	if err := verifySettings(ctx, writer, path, cfg); err != nil {
		writer.Close()
		return nil, nil, err
	}
	reader, err = sql.Open("sqlite", readerDSN(path, cfg.Synchronous, cfg.BusyTimeout))
	if err != nil {
		writer.Close()
		return nil, nil, fmt.Errorf("open outbox database %s for reading: %w", path, err)
	}
	reader.SetMaxOpenConns(cfg.ReadConns)
	reader.SetMaxIdleConns(cfg.ReadConns)
	return writer, reader, nil
}

// verifySettings reads back the pragmas the DSN asked for: a driver or file that
// silently ignored one (a read-only directory cannot hold a WAL, say) is an error at
// open, not a surprise after a power cut.
func verifySettings(ctx context.Context, db *sql.DB, path string, cfg Config) error {
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return describeOpenError(path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("open outbox database %s: journal_mode is %q, want wal: open the file with edgeoutbox.DSN and make sure its directory is writable", path, mode)
	}
	var syncLevel int
	if err := db.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&syncLevel); err != nil {
		return describeOpenError(path, err)
	}
	if want, _ := cfg.Synchronous.pragmaValue(); syncLevel != want {
		return fmt.Errorf("open outbox database %s: synchronous is %d, want %d (%s): open the file with edgeoutbox.DSN", path, syncLevel, want, cfg.Synchronous)
	}
	var busy int64
	if err := db.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy); err != nil {
		return describeOpenError(path, err)
	}
	if busy <= 0 {
		return fmt.Errorf("open outbox database %s: busy_timeout is 0, so concurrent writers fail at once with \"database is locked\": open the file with edgeoutbox.DSN", path)
	}
	return nil
}

// checkDatabaseFile refuses, before SQLite touches it, a database file that was cut
// short (an interrupted copy or download): its size must be a whole number of pages
// and at least the page count its header records. SQLite checks the second but not the
// first, and a file cut mid-page opens without complaint and fails later. The check is
// skipped while a -wal or -journal file exists: then the file may legitimately be
// shorter (pages still in the WAL, or a checkpoint cut short by a crash) and SQLite
// repairs it from that file. A missing or empty file is a new database.
func checkDatabaseFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return nil // missing (a new database) or unreadable: SQLite reports it
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() == 0 {
		return nil
	}
	for _, suffix := range []string{"-wal", "-journal"} {
		if side, err := os.Stat(path + suffix); err == nil && side.Size() > 0 {
			return nil
		}
	}
	var h [100]byte
	if _, err := io.ReadFull(f, h[:]); err != nil || string(h[:16]) != "SQLite format 3\x00" {
		return fmt.Errorf("open outbox database %s: the file is not a SQLite database (or its header is damaged): point to the right file, or restore it from a backup (the file was left as it is)", path)
	}
	pageSize := int64(binary.BigEndian.Uint16(h[16:18]))
	if pageSize == 1 {
		pageSize = 65536
	}
	if pageSize < 512 || pageSize&(pageSize-1) != 0 {
		return fmt.Errorf("open outbox database %s: the database is corrupt (page size %d in its header): restore it from a backup (the file was left as it is)", path, pageSize)
	}
	size := fi.Size()
	// The header's page count is valid when the change counter matches the
	// version-valid-for number (SQLite 3.7.0 and later keep them in step).
	pages := int64(binary.BigEndian.Uint32(h[28:32]))
	headerValid := binary.BigEndian.Uint32(h[24:28]) == binary.BigEndian.Uint32(h[92:96])
	if size%pageSize != 0 || (headerValid && pages*pageSize > size) {
		return fmt.Errorf("open outbox database %s: the database is corrupt: the file is truncated (%d bytes; its header says %d pages of %d bytes): it was cut short, e.g. by an interrupted copy; restore it from a backup (the file was left as it is)",
			path, size, pages, pageSize)
	}
	return nil
}

// describeOpenError turns SQLite's terse codes into what the operator should do.
func describeOpenError(path string, err error) error {
	var serr *sqlite.Error
	if errors.As(err, &serr) {
		switch serr.Code() & 0xff {
		case sqlite3.SQLITE_NOTADB:
			return fmt.Errorf("open outbox database %s: the file is not a SQLite database (or its header is damaged): point to the right file, or restore it from a backup: %w", path, err)
		case sqlite3.SQLITE_CORRUPT:
			return fmt.Errorf("open outbox database %s: the database is corrupt: restore it from a backup (the file was left as it is): %w", path, err)
		case sqlite3.SQLITE_CANTOPEN:
			return fmt.Errorf("open outbox database %s: cannot open the file: check that the path and its directory exist and are writable: %w", path, err)
		case sqlite3.SQLITE_FULL:
			return fmt.Errorf("open outbox database %s: the disk is full: free space, then retry: %w", path, err)
		}
	}
	return fmt.Errorf("open outbox database %s: %w", path, err)
}

// isBusy reports whether err is SQLite's "database is locked" (busy or locked).
func isBusy(err error) bool {
	var serr *sqlite.Error
	if !errors.As(err, &serr) {
		return false
	}
	code := serr.Code() & 0xff
	return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
}

// isDiskFull reports whether err is SQLite's "database or disk is full".
func isDiskFull(err error) bool {
	var serr *sqlite.Error
	return errors.As(err, &serr) && serr.Code()&0xff == sqlite3.SQLITE_FULL
}

// integrityCheck runs PRAGMA quick_check and returns an error describing any damage.
func integrityCheck(ctx context.Context, db *sql.DB, path string) error {
	rows, err := db.QueryContext(ctx, "PRAGMA quick_check")
	if err != nil {
		return describeOpenError(path, err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return describeOpenError(path, err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return describeOpenError(path, err)
	}
	if len(problems) > 0 {
		if len(problems) > 3 {
			problems = append(problems[:3], "…")
		}
		return fmt.Errorf("open outbox database %s: the database is corrupt (%s): restore it from a backup (the file was left as it is)", path, strings.Join(problems, "; "))
	}
	return nil
}

// IntegrityCheck runs SQLite's quick_check over the database file and returns an error
// describing any damage. It reads the whole file, so it is for operators and tests, not
// for every Open.
func (e *Engine) IntegrityCheck(ctx context.Context) error {
	return integrityCheck(ctx, e.reader, e.path)
}
