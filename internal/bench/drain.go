package bench

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
)

// MakeBacklog writes n pending events into a new database at path.
func MakeBacklog(ctx context.Context, path string, n int) error {
	e, err := Open(ctx, path, edgeoutbox.Config{Synchronous: edgeoutbox.SyncNormal})
	if err != nil {
		return err
	}
	defer e.Close()
	batch := make([]edgeoutbox.Emission, 0, 1000)
	for i := 0; i < n; i += 1000 {
		batch = batch[:0]
		for j := i; j < min(i+1000, n); j++ {
			batch = append(batch, edgeoutbox.Emission{Name: Event.Name(), Inputs: Inputs(j)})
		}
		if _, err := e.EmitBatch(ctx, batch); err != nil {
			return err
		}
	}
	_, err = e.DB().ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}

// CopyFile copies a database file (its WAL was checkpointed and truncated).
func CopyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// RelayDrain starts an engine on the backlog at path with transport and measures how
// long the relay takes until every event is marked published.
func RelayDrain(ctx context.Context, path string, n int, name string, transport edgeoutbox.Transport) (Result, error) {
	published := make(chan int, 1024)
	e, err := Open(ctx, path, edgeoutbox.Config{Transport: transport, BatchSize: benchBatchSize(), RetentionInterval: -1,
		Hooks: edgeoutbox.Hooks{OnBatchPublished: func(b edgeoutbox.BatchInfo) { published <- b.Count }}})
	if err != nil {
		return Result{}, err
	}
	defer e.Close()
	start := time.Now()
	if err := e.Start(ctx); err != nil {
		return Result{}, err
	}
	for total := 0; total < n; {
		select {
		case c := <-published:
			total += c
		case <-ctx.Done():
			return Result{}, fmt.Errorf("relay drain: %d of %d published: %w", total, n, ctx.Err())
		}
	}
	elapsed := time.Since(start)
	if err := e.Stop(ctx); err != nil {
		return Result{}, err
	}
	st, err := e.Stats(ctx)
	if err != nil {
		return Result{}, err
	}
	if st.Published != int64(n) || st.Pending != 0 {
		return Result{}, fmt.Errorf("relay drain: %d of %d events published, %d pending", st.Published, n, st.Pending)
	}
	return Result{Name: name, Events: n, Elapsed: elapsed}, nil
}

// RawDrain is the relay's SQLite baseline: select 500 due rows (the same columns) and
// mark them published with one statement, until none is left.
func RawDrain(ctx context.Context, path string, n int) (Result, error) {
	db, err := sql.Open("sqlite", edgeoutbox.DSN(path, edgeoutbox.SyncFull, 5*time.Second))
	if err != nil {
		return Result{}, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	start := time.Now()
	total := 0
	ids := make([]byte, 0, 500*8)
	for {
		rows, err := db.QueryContext(ctx, `SELECT id, idempotency_key, name, type, version, entity_class, entity_id,
			entity_version, payload, metadata, occurred_at, created_at, attempts, next_attempt_at
			FROM edgeoutbox_events WHERE published_at IS NULL AND dead_lettered_at IS NULL ORDER BY id LIMIT 500`)
		if err != nil {
			return Result{}, err
		}
		ids = append(ids[:0], '[')
		count := 0
		for rows.Next() {
			var id, version, occurred, created, attempts, next int64
			var key, name, typ, class, entity, payload string
			var ev, meta sql.NullString
			if err := rows.Scan(&id, &key, &name, &typ, &version, &class, &entity, &ev, &payload, &meta, &occurred, &created, &attempts, &next); err != nil {
				rows.Close()
				return Result{}, err
			}
			if count > 0 {
				ids = append(ids, ',')
			}
			ids = strconv.AppendInt(ids, id, 10)
			count++
		}
		if err := rows.Close(); err != nil {
			return Result{}, err
		}
		if count == 0 {
			break
		}
		ids = append(ids, ']')
		if _, err := db.ExecContext(ctx, "UPDATE edgeoutbox_events SET published_at = ? WHERE id IN (SELECT value FROM json_each(?))",
			time.Now().UnixNano(), string(ids)); err != nil {
			return Result{}, err
		}
		total += count
	}
	if total != n {
		return Result{}, fmt.Errorf("raw drain: %d of %d rows", total, n)
	}
	return Result{Name: "raw SQLite select 500 + mark", Events: n, Elapsed: time.Since(start)}, nil
}

// copyBacklog returns a function that copies the backlog template to a new file.
func copyBacklog(dir, template string) func() (string, error) {
	n := 0
	return func() (string, error) {
		n++
		p := dbPath(dir, fmt.Sprintf("drain-%d", n))
		return p, CopyFile(p, template)
	}
}

// DrainSuite builds an n-event backlog and drains copies of it through the relay with
// the memory transport and through the raw baseline, best of reps runs each.
func DrainSuite(ctx context.Context, dir string, n, reps int) (Comparison, error) {
	template := dbPath(dir, "backlog")
	if err := MakeBacklog(ctx, template, n); err != nil {
		return Comparison{}, err
	}
	fresh := copyBacklog(dir, template)
	noDir := func() string { return "" }
	return Compare(reps, 0.85,
		onFreshCopy(fresh, noDir, func(p, _ string) (Result, error) {
			return RelayDrain(ctx, p, n, "relay drain, memory transport", edgeoutbox.NewMemoryTransport())
		}),
		onFreshCopy(fresh, noDir, func(p, _ string) (Result, error) { return RawDrain(ctx, p, n) }))
}

// onFreshCopy returns a run of drain on a new copy of the backlog and, when newDir
// names one, a new scratch directory; both are removed afterwards.
func onFreshCopy(fresh func() (string, error), newDir func() string, drain func(path, dir string) (Result, error)) func() (Result, error) {
	return func() (Result, error) {
		p, err := fresh()
		if err != nil {
			return Result{}, err
		}
		defer removeDB(p)
		d := newDir()
		if d != "" {
			defer os.RemoveAll(d)
		}
		return drain(p, d)
	}
}

// removeDB deletes a database file and its WAL and shared-memory files.
func removeDB(path string) {
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(path + suffix)
	}
}
