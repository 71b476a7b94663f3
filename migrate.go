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
		// Switching WAL on already wrote the header, which fixes the setting; VACUUM
		// applies the new one, and costs nothing on a file with no tables.
		for _, stmt := range []string{"PRAGMA auto_vacuum = INCREMENTAL", "VACUUM"} {
			if _, err := conn.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("enable incremental auto-vacuum: %w", err)
			}
		}
	}
	if _, err := conn.ExecContext(ctx, bookkeeping); err != nil {
		return fmt.Errorf("create migrations table: %w", err)
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
