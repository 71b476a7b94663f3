package edgeoutbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeoutbox/edgeoutbox/migrations"
)

// countedStats reads what Stats' counters must equal, the slow way.
func countedStats(t testing.TB, e *Engine) (pending, published, dead, bytes int64) {
	t.Helper()
	err := e.reader.QueryRow(`SELECT
		(SELECT COUNT(*) FROM edgeoutbox_events WHERE published_at IS NULL AND dead_lettered_at IS NULL),
		(SELECT COUNT(*) FROM edgeoutbox_events WHERE published_at IS NOT NULL),
		(SELECT COUNT(*) FROM edgeoutbox_events WHERE published_at IS NULL AND dead_lettered_at IS NOT NULL),
		(SELECT COALESCE(SUM(size_bytes), 0) FROM edgeoutbox_events)`).Scan(&pending, &published, &dead, &bytes)
	if err != nil {
		t.Fatal(err)
	}
	return
}

func checkCounters(t testing.TB, e *Engine, step string) {
	t.Helper()
	st := mustStats(t, e)
	p, pub, d, b := countedStats(t, e)
	if st.Pending != p || st.Published != pub || st.DeadLettered != d || st.OutboxBytes != b {
		t.Fatalf("%s: counters say pending %d, published %d, dead %d, bytes %d; the table holds %d, %d, %d, %d",
			step, st.Pending, st.Published, st.DeadLettered, st.OutboxBytes, p, pub, d, b)
	}
}

// TestCountersStayExact walks events through every change of status (emit, EmitTx,
// EmitBatch, publish, retry, dead letter, retry of dead letters, a publish of an event
// that was dead-lettered meanwhile, retention) and checks the running counters against
// a count of the table after each step.
func TestCountersStayExact(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mt := NewMemoryTransport()
	e := openTest(t, Config{Transport: mt, BackoffBase: time.Millisecond, BackoffMax: 2 * time.Millisecond, MaxAttempts: 2})
	checkCounters(t, e, "new")
	for i := range 20 {
		if _, err := e.Emit(ctx, "order_placed", orderInputs(i, 1)); err != nil {
			t.Fatal(err)
		}
	}
	// Duplicate keys write nothing and count nothing: alone, in a group commit beside
	// new events, and repeated inside one batch.
	if _, err := e.Emit(ctx, "order_placed", orderInputs(90, 1), WithIdempotencyKey("dup-1")); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := "dup-1"
			if i%2 == 1 {
				key = fmt.Sprintf("fresh-%d", i)
			}
			_, err := e.Emit(ctx, "order_placed", orderInputs(91+i, 1), WithIdempotencyKey(key))
			if (key == "dup-1") != errors.Is(err, ErrDuplicateEvent) {
				t.Errorf("emit with key %s: %v", key, err)
			}
		}()
	}
	wg.Wait()
	checkCounters(t, e, "emits with duplicate keys")
	if _, err := e.EmitBatch(ctx, []Emission{
		{Name: "order_placed", Inputs: orderInputs(99, 1), Options: []EmitOption{WithIdempotencyKey("dup-2")}},
		{Name: "order_placed", Inputs: orderInputs(99, 2), Options: []EmitOption{WithIdempotencyKey("dup-2")}},
	}); !errors.Is(err, ErrDuplicateEvent) {
		t.Fatalf("a batch repeating a key: %v, want ErrDuplicateEvent", err)
	}
	checkCounters(t, e, "a batch repeating a key")
	tx, err := e.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.EmitTx(ctx, tx, "order_placed", orderInputs(100, 1)); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	checkCounters(t, e, "after a rolled-back EmitTx")
	batch := make([]Emission, 30)
	for i := range batch {
		batch[i] = Emission{Name: "order_placed", Inputs: orderInputs(200+i, 1)}
	}
	if _, err := e.EmitBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	checkCounters(t, e, "after emits")

	// Entity 3's events fail for good, entity 4's fail until they are dead-lettered.
	mt.FailWhere(func(ev *Event) error {
		switch ev.Entity.ID {
		case "3":
			return Permanent(errors.New("refused"))
		case "4":
			return errors.New("flaky")
		}
		return nil
	})
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "all settled", func() bool {
		st := mustStats(t, e)
		return st.Pending == 0 && st.DeadLettered == 2
	})
	checkCounters(t, e, "after the relay settled everything")
	mt.FailWhere(nil)
	if n, err := e.RetryDeadLetters(ctx, []int64{1, 2, 3, 4, 5, 6}); err != nil || n != 2 {
		t.Fatalf("RetryDeadLetters: %d, %v; want 2 retried", n, err)
	}
	eventually(t, 20*time.Second, "retried dead letters published", func() bool { return mustStats(t, e).Pending == 0 })
	checkCounters(t, e, "after retrying dead letters")
	if err := e.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	// A dead letter the relay publishes after all (a slower path dead-lettered it).
	ids, err := e.EmitBatch(ctx, []Emission{{Name: "order_placed", Inputs: orderInputs(300, 1)}})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := e.GetEvent(ctx, ids[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.recordOutcome(ctx, "", []*Event{&ev.Event}, []error{Permanent(errors.New("no"))}, time.Now()); err != nil {
		t.Fatal(err)
	}
	checkCounters(t, e, "after a dead letter")
	if _, err := e.recordOutcome(ctx, "", []*Event{&ev.Event}, []error{nil}, time.Now()); err != nil {
		t.Fatal(err)
	}
	checkCounters(t, e, "after publishing a dead letter")

	if res, err := e.CleanupOlderThan(ctx, 0, 0); err != nil || res.Published == 0 {
		t.Fatalf("cleanup: %+v, %v", res, err)
	}
	checkCounters(t, e, "after retention")
	if st := mustStats(t, e); st.Published != 0 || st.OutboxBytes != 0 {
		t.Fatalf("after deleting everything: %+v", st)
	}
}

// TestUpgradeComputesCountersOnce writes a database as version 1 of the schema left
// it (events in every status, ids deleted at the top) and opens it: the counters are
// computed once, and ids go on after the highest ever given.
func TestUpgradeComputesCountersOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", DSN(path, SyncFull, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	all, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	stmts := []string{
		`CREATE TABLE edgeoutbox_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`,
		all[0].SQL,
		`INSERT INTO edgeoutbox_migrations VALUES (1, '0001_outbox.sql', 0)`,
	}
	for i := 1; i <= 60; i++ {
		state := "NULL, NULL"
		switch {
		case i%3 == 1:
			state = fmt.Sprintf("%d, NULL", i)
		case i%5 == 0:
			state = fmt.Sprintf("NULL, %d", i)
		}
		stmts = append(stmts, fmt.Sprintf(`INSERT INTO edgeoutbox_events (idempotency_key, name, type, version, entity_class, entity_id,
			payload, occurred_at, created_at, published_at, dead_lettered_at, size_bytes)
			VALUES ('k%d', 'order_placed', 'domain', 1, 'Order', '%d', '{"total":1.5}', %d, %d, %s, 13)`, i, i%7, i, i, state))
	}
	// Retention deleted the newest ids once: they must never come back.
	stmts = append(stmts, `DELETE FROM edgeoutbox_events WHERE id > 55`)
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	db.Close()

	e := openTestAt(t, path, Config{})
	checkCounters(t, e, "after the upgrade")
	st := mustStats(t, e)
	if st.Pending == 0 || st.Published == 0 || st.DeadLettered == 0 {
		t.Fatalf("upgrade lost statuses: %+v", st)
	}
	r, err := e.Emit(ctx, "order_placed", orderInputs(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != 61 {
		t.Fatalf("first id after the upgrade is %d, want 61 (ids 56–60 were given before)", r.ID)
	}
	checkCounters(t, e, "after an emit on the upgraded file")
}

// TestQueriesUseIndexes asks SQLite for the plan of every query a list, a stats read, a
// claim or a cap check runs: none may read the events table from end to end.
func TestQueriesUseIndexes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := openTest(t, Config{})
	batch := make([]Emission, 500)
	for i := range batch {
		batch[i] = Emission{Name: "order_placed", Inputs: orderInputs(i%40, i)}
	}
	for range 4 {
		if _, err := e.EmitBatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.db.Exec(`UPDATE edgeoutbox_events SET published_at = created_at WHERE id % 3 = 0`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Exec(`UPDATE edgeoutbox_events SET dead_lettered_at = created_at WHERE id % 7 = 0 AND published_at IS NULL`); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	filters := []EventFilter{
		{}, {Name: "order_placed"}, {EntityClass: "Order", EntityID: "7"}, {IdempotencyKey: "x"},
		{Status: StatusPending}, {Status: StatusPublished}, {Status: StatusDeadLettered},
		{Status: StatusPending, Name: "order_placed"}, {Status: StatusPublished, Name: "order_placed"},
		{Status: StatusDeadLettered, Name: "order_placed"}, {Status: StatusPublished, EntityClass: "Order", EntityID: "3"},
		{Status: StatusDeadLettered, BeforeID: 900}, {AfterID: 10}, {Name: "order_placed", BeforeID: 1000},
		{CreatedFrom: now.Add(-time.Hour), CreatedTo: now}, {Status: StatusPublished, CreatedFrom: now.Add(-time.Minute)},
	}
	type planned struct {
		what string
		sql  string
		args []any
	}
	var queries []planned
	for _, f := range filters {
		qs, err := e.listQueries(ctx, &f)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range qs {
			queries = append(queries, planned{fmt.Sprintf("ListEvents(%+v)", f), q.sql, q.args})
		}
	}
	queries = append(queries,
		planned{"claim", "SELECT id, next_attempt_at, entity_class, entity_id FROM edgeoutbox_events WHERE " + pendingWhere + " AND id > ? AND id <= ? ORDER BY id LIMIT ?", []any{0, 1 << 40, 500}},
		planned{"oldest pending", "SELECT created_at FROM edgeoutbox_events WHERE " + pendingWhere + " ORDER BY id LIMIT 1", nil},
		planned{"last publish", "SELECT MAX(published_at) FROM edgeoutbox_events WHERE published_at IS NOT NULL", nil},
		planned{"latency", "SELECT published_at - created_at FROM edgeoutbox_events WHERE published_at IS NOT NULL ORDER BY published_at DESC LIMIT ?", []any{1000}},
		planned{"inline check", `SELECT 1 FROM edgeoutbox_events WHERE ` + pendingWhere + ` AND id < ? AND entity_class = ? AND entity_id = ? LIMIT 1`, []any{100, "Order", "1"}},
		planned{"revive dead letters", `SELECT 1 FROM edgeoutbox_events WHERE id BETWEEN ? AND ? AND dead_lettered_at IS NOT NULL AND published_at IS NULL`, []any{1, 500}},
		planned{"retention", `SELECT id FROM edgeoutbox_events WHERE published_at IS NOT NULL AND published_at < ? LIMIT ?`, []any{1, 1000}},
		planned{"heal", `SELECT 1 FROM edgeoutbox_events WHERE dead_lettered_at IS NOT NULL AND dead_lettered_at > ?`, []any{1}},
	)
	for _, q := range queries {
		rows, err := e.reader.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q.sql, q.args...)
		if err != nil {
			t.Fatalf("%s: %v", q.what, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		for _, step := range plan {
			// The unfiltered list walks the table newest first and stops at its limit.
			bounded := strings.HasPrefix(q.sql, "SELECT "+storedColumns+" FROM edgeoutbox_events ORDER BY id DESC LIMIT")
			if step == "SCAN edgeoutbox_events" && !bounded || strings.Contains(step, "USE TEMP B-TREE") {
				t.Errorf("%s reads the whole table: %s\n%s", q.what, strings.Join(plan, "; "), q.sql)
			}
		}
	}
}
