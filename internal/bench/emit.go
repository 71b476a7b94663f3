package bench

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/google/uuid"
)

// EmitConcurrent emits n events from the given number of goroutines through Emit (group
// commit) at the default, durable synchronous level.
func EmitConcurrent(ctx context.Context, dir string, emitters, n int) (Result, error) {
	e, err := Open(ctx, dbPath(dir, fmt.Sprintf("emit-%d", emitters)), edgeoutbox.Config{})
	if err != nil {
		return Result{}, err
	}
	defer e.Close()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, emitters)
	start := time.Now()
	for w := 0; w < emitters; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if _, err := e.Emit(ctx, Event.Name(), Inputs(i)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return Result{}, err
	}
	return Result{Name: fmt.Sprintf("Emit, %d emitters", emitters), Events: n, Elapsed: elapsed}, nil
}

// EmitBatches emits n events through EmitBatch, size events per call.
func EmitBatches(ctx context.Context, dir string, size, n int) (Result, error) {
	e, err := Open(ctx, dbPath(dir, fmt.Sprintf("batch-%d", size)), edgeoutbox.Config{})
	if err != nil {
		return Result{}, err
	}
	defer e.Close()
	batch := make([]edgeoutbox.Emission, 0, size)
	start := time.Now()
	for i := 0; i < n; i += size {
		batch = batch[:0]
		for j := i; j < min(i+size, n); j++ {
			batch = append(batch, edgeoutbox.Emission{Name: Event.Name(), Inputs: Inputs(j)})
		}
		if _, err := e.EmitBatch(ctx, batch); err != nil {
			return Result{}, err
		}
	}
	return Result{Name: fmt.Sprintf("EmitBatch, %d per call", size), Events: n, Elapsed: time.Since(start)}, nil
}

// RawInsert is the baseline: the same rows (same columns, JSON payload, UUIDv7 keys)
// inserted into the same table with a prepared statement, rowsPerTx rows per
// transaction, on a connection opened with the same settings, by one goroutine.
func RawInsert(ctx context.Context, dir string, rowsPerTx, n int) (Result, error) {
	path := dbPath(dir, fmt.Sprintf("raw-%d", rowsPerTx))
	// Open once through edgeoutbox so the table and indexes exist, then write raw.
	e, err := Open(ctx, path, edgeoutbox.Config{})
	if err != nil {
		return Result{}, err
	}
	e.Close()
	db, err := sql.Open("sqlite", edgeoutbox.DSN(path, edgeoutbox.SyncFull, 5*time.Second))
	if err != nil {
		return Result{}, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	stmt, err := db.PrepareContext(ctx, `INSERT INTO edgeoutbox_events (idempotency_key, name, type, version,
		entity_class, entity_id, entity_version, payload, metadata, occurred_at, created_at, next_attempt_at, size_bytes)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`)
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
			key, _ := uuid.NewV7()
			payload := fmt.Sprintf(`{"value":%g,"unit":"celsius","note":"periodic reading"}`, float64(i)/10)
			now := time.Now().UnixNano()
			if _, err := txStmt.ExecContext(ctx, key.String(), Event.Name(), "domain", 1, "thermometer",
				fmt.Sprint(i%64), nil, payload, nil, now, now, now, len(payload)); err != nil {
				tx.Rollback()
				return Result{}, err
			}
		}
		if err := tx.Commit(); err != nil {
			return Result{}, err
		}
	}
	return Result{Name: fmt.Sprintf("raw SQLite, %d rows/tx", rowsPerTx), Events: n, Elapsed: time.Since(start)}, nil
}

// EmitSuite runs the emit comparisons of the foundation issue: Emit with 1, 8 and 64
// emitters beside raw inserts with as many rows per transaction, and EmitBatch of 1000
// beside raw 1000-row transactions; n events per run, best of reps runs.
func EmitSuite(ctx context.Context, dir string, n, reps int) ([]Comparison, error) {
	var out []Comparison
	run := 0
	fresh := func() string { run++; return filepath.Join(dir, fmt.Sprintf("emit-run-%d", run)) }
	mkdir := func() (string, error) { d := fresh(); return d, os.MkdirAll(d, 0o755) }
	for _, c := range []struct {
		emitters int
		target   float64
	}{{1, 0}, {8, 0}, {64, 0.8}} {
		count := n
		if c.emitters == 1 {
			count = max(n/10, 100) // one fsync per event: keep it short
		}
		cmp, err := Compare(reps, c.target,
			func() (Result, error) {
				d, err := mkdir()
				if err != nil {
					return Result{}, err
				}
				return EmitConcurrent(ctx, d, c.emitters, count)
			},
			func() (Result, error) {
				d, err := mkdir()
				if err != nil {
					return Result{}, err
				}
				return RawInsert(ctx, d, c.emitters, count)
			})
		if err != nil {
			return nil, err
		}
		out = append(out, cmp)
	}
	cmp, err := Compare(reps, 0.8,
		func() (Result, error) {
			d, err := mkdir()
			if err != nil {
				return Result{}, err
			}
			return EmitBatches(ctx, d, 1000, n)
		},
		func() (Result, error) {
			d, err := mkdir()
			if err != nil {
				return Result{}, err
			}
			return RawInsert(ctx, d, 1000, n)
		})
	if err != nil {
		return nil, err
	}
	return append(out, cmp), nil
}
