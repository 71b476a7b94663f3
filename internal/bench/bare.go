package bench

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/google/uuid"
)

// RawBareInsert is the floor under any outbox: n rows into a bare table with an
// integer key and a unique text key (a UUIDv7, like an idempotency key) beside the
// same JSON payload, rowsPerTx rows per transaction, by one goroutine, on a connection
// opened with edgeoutbox's settings (WAL, SyncFull).
func RawBareInsert(ctx context.Context, dir string, rowsPerTx, n int) (Result, error) {
	db, err := sql.Open("sqlite", edgeoutbox.DSN(filepath.Join(dir, "bare.db"), edgeoutbox.SyncFull, 5*time.Second))
	if err != nil {
		return Result{}, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE bare (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, payload TEXT NOT NULL)`); err != nil {
		return Result{}, err
	}
	stmt, err := db.PrepareContext(ctx, `INSERT INTO bare (key, payload) VALUES (?, ?)`)
	if err != nil {
		return Result{}, err
	}
	defer stmt.Close()
	start := time.Now()
	for i := 0; i < n; {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return Result{}, err
		}
		txStmt := tx.StmtContext(ctx, stmt)
		for j := 0; j < rowsPerTx && i < n; j, i = j+1, i+1 {
			key, err := uuid.NewV7()
			if err != nil {
				tx.Rollback()
				return Result{}, err
			}
			payload := fmt.Sprintf(`{"value":%g,"unit":"celsius","note":"periodic reading"}`, float64(i)/10)
			if _, err := txStmt.ExecContext(ctx, key.String(), payload); err != nil {
				tx.Rollback()
				return Result{}, err
			}
		}
		if err := tx.Commit(); err != nil {
			return Result{}, err
		}
	}
	return Result{Name: fmt.Sprintf("raw bare table, %d row(s)/tx", rowsPerTx), Events: n, Elapsed: time.Since(start)}, nil
}

// BareSuite compares, in one run, Emit from one goroutine with raw one-row
// transactions (n1 events each) and EmitBatch of 64 with raw 64-row transactions (n
// events each) on a bare table; best of reps runs each.
func BareSuite(ctx context.Context, dir string, n1, n, reps int) ([]Comparison, error) {
	run := 0
	inFreshDir := func(f func(d string) (Result, error)) func() (Result, error) {
		return func() (Result, error) {
			run++
			d := filepath.Join(dir, fmt.Sprintf("bare-run-%d", run))
			if err := os.MkdirAll(d, 0o755); err != nil {
				return Result{}, err
			}
			defer os.RemoveAll(d)
			return f(d)
		}
	}
	one, err := Compare(reps, 0.9,
		inFreshDir(func(d string) (Result, error) { return EmitConcurrent(ctx, d, 1, n1) }),
		inFreshDir(func(d string) (Result, error) { return RawBareInsert(ctx, d, 1, n1) }))
	if err != nil {
		return nil, err
	}
	batch, err := Compare(reps, 0.7,
		inFreshDir(func(d string) (Result, error) { return EmitBatches(ctx, d, 64, n) }),
		inFreshDir(func(d string) (Result, error) { return RawBareInsert(ctx, d, 64, n) }))
	if err != nil {
		return nil, err
	}
	return []Comparison{one, batch}, nil
}
