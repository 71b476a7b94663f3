package edgeoutbox

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/edgeoutbox/edgeoutbox/migrations"
)

// MigrationStatus reports what Migrate found and did.
type MigrationStatus struct {
	// Applied lists the versions applied by this call, in order.
	Applied []int
	// Current is the schema version of the database after the call.
	Current int
	// Latest is the newest version this build of edgeoutbox knows.
	Latest int
}

// Migrate applies edgeoutbox's pending migrations to db, each in its own immediate
// transaction, and records them in edgeoutbox_migrations. Running it again is a no-op.
// A database migrated by a newer edgeoutbox is refused with ErrDatabaseTooNew and left
// untouched. Open and New call it; the CLI's "edgeoutbox migrate" too.
func Migrate(ctx context.Context, db *sql.DB) (MigrationStatus, error) {
	all, err := migrations.All()
	if err != nil {
		return MigrationStatus{}, fmt.Errorf("read embedded migrations: %w", err)
	}
	status := MigrationStatus{Latest: all[len(all)-1].Version}
	const bookkeeping = `CREATE TABLE IF NOT EXISTS edgeoutbox_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL)`
	if err := createBookkeeping(ctx, db, bookkeeping); err != nil {
		return status, err
	}
	current, err := currentMigration(ctx, db)
	if err != nil {
		return status, err
	}
	status.Current = current
	if current > status.Latest {
		return status, fmt.Errorf("%w: its schema version is %d, this build knows up to %d: upgrade edgeoutbox (the database was not changed)",
			ErrDatabaseTooNew, current, status.Latest)
	}
	for _, m := range all {
		if m.Version <= current {
			continue
		}
		if err := applyMigration(ctx, db, m); err != nil {
			return status, err
		}
		status.Applied = append(status.Applied, m.Version)
		status.Current = m.Version
	}
	return status, nil
}

// createBookkeeping creates the migrations table. On a new, empty database it first
// turns on incremental auto-vacuum, so that retention can give space back to the file
// system: that must happen before the first table exists. Setting it on a database that already has tables would rewrite the
// header at every open, even of a file Open then refuses; on such a file (an older
// outbox, or an application database given to New) retention leaves free pages for
// reuse instead.
func createBookkeeping(ctx context.Context, db *sql.DB, bookkeeping string) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("create migrations table: %w", err)
	}
	defer conn.Close()
	var tables int
	if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_schema").Scan(&tables); err != nil {
		return fmt.Errorf("create migrations table: %w", err)
	}
	if tables == 0 {
		if err := setUpNewFile(ctx, conn); err != nil {
			return err
		}
	}
	if _, err := conn.ExecContext(ctx, bookkeeping); err != nil {
		return fmt.Errorf("create migrations table: %w", err)
	}
	return nil
}

// newFilePageSize is the page size of a database file edgeoutbox creates. Every commit
// appends each page it changed to the WAL, and an emit changes four (table, key index,
// pending index, counters row): with 1 KiB pages one emitter writes about 10 KB per
// event, against 27 KB with SQLite's default 4 KiB (measured; the file system writes
// whole 4 KiB blocks, so the partial block of each commit is written twice). That is
// flash wear on a small device. Batched emits write about the same bytes per event
// either way; rows over ~1 KB spill into overflow pages, which costs no more bytes.
const newFilePageSize = 1024

// setUpNewFile gives a new, empty file edgeoutbox's page size and incremental
// auto-vacuum. Both are fixed by the header, which switching WAL on already wrote:
// leaving WAL for a moment lets VACUUM rewrite it, which costs nothing on a file with
// no tables. If another connection prevents leaving WAL (an application pool given to
// New), the file keeps its page size.
func setUpNewFile(ctx context.Context, conn *sql.Conn) error {
	steps := []string{"PRAGMA auto_vacuum = INCREMENTAL", "VACUUM"}
	var mode string
	if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode = DELETE").Scan(&mode); err == nil && mode == "delete" {
		steps = []string{fmt.Sprintf("PRAGMA page_size = %d", newFilePageSize), "PRAGMA auto_vacuum = INCREMENTAL", "VACUUM", "PRAGMA journal_mode = WAL"}
	}
	for _, stmt := range steps {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("set up new database file (%s): %w", stmt, err)
		}
	}
	return nil
}

func currentMigration(ctx context.Context, db *sql.DB) (int, error) {
	var v sql.NullInt64
	if err := db.QueryRowContext(ctx, "SELECT MAX(version) FROM edgeoutbox_migrations").Scan(&v); err != nil {
		return 0, fmt.Errorf("read migration version: %w", err)
	}
	return int(v.Int64), nil
}

func applyMigration(ctx context.Context, db *sql.DB, m migrations.Migration) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("apply migration %s: begin: %w", m.Name, err)
	}
	defer func() {
		if err != nil {
			if rbErr := tx.Rollback(); rbErr != nil {
				err = fmt.Errorf("%w (rollback: %v)", err, rbErr)
			}
		}
	}()
	// Another process may have applied it while we waited for the write lock.
	var done int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM edgeoutbox_migrations WHERE version = ?", m.Version).Scan(&done); err != nil {
		return fmt.Errorf("apply migration %s: %w", m.Name, err)
	}
	if done > 0 {
		return tx.Commit()
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return fmt.Errorf("apply migration %s: %w", m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO edgeoutbox_migrations (version, name, applied_at) VALUES (?, ?, ?)",
		m.Version, m.Name, time.Now().UnixNano()); err != nil {
		return fmt.Errorf("record migration %s: %w", m.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("apply migration %s: commit: %w", m.Name, err)
	}
	return nil
}
