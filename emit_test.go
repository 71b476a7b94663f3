package edgeoutbox

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestEmitStoresEventWithAllAttributes(t *testing.T) {
	ctx := context.Background()
	e := openTest(t, Config{})
	occurred := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	r, err := e.Emit(ctx, "order_placed", Inputs{
		"order":    &testOrder{ClassName: "Order", ID: 42, Version: 3, Total: 9.75},
		"customer": map[string]any{"name": "Ada"},
	}, WithOccurredAt(occurred), WithMetadata(map[string]string{"request_id": "r-1"}))
	if err != nil {
		t.Fatal(err)
	}
	key, err := uuid.Parse(r.IdempotencyKey)
	if err != nil || key.Version() != 7 {
		t.Fatalf("idempotency key %q is not a UUIDv7 (%v)", r.IdempotencyKey, err)
	}
	ev, err := e.GetEvent(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Name != "order_placed" || ev.Type != "domain" || ev.Version != 1 || ev.Status != StatusPending {
		t.Errorf("stored %+v", ev)
	}
	if ev.Entity.Class != "Order" || ev.Entity.ID != "42" || ev.Entity.Version == nil || *ev.Entity.Version != 3 {
		t.Errorf("entity %+v", ev.Entity)
	}
	var payload map[string]any
	if err := json.Unmarshal(ev.Payload, &payload); err != nil || payload["total"] != 9.75 || payload["customer_name"] != "Ada" {
		t.Errorf("payload %s (%v)", ev.Payload, err)
	}
	if !ev.OccurredAt.Equal(occurred) || ev.Metadata["request_id"] != "r-1" || ev.Attempts != 0 {
		t.Errorf("occurred %v metadata %v attempts %d", ev.OccurredAt, ev.Metadata, ev.Attempts)
	}
}

func TestEmitErrors(t *testing.T) {
	ctx := context.Background()
	e := openTest(t, Config{})
	_, err := e.Emit(ctx, "no_such_event", orderInputs(1, 1))
	if !errors.Is(err, ErrUnknownEvent) {
		t.Errorf("unknown event: %v", err)
	}
	_, err = e.Emit(ctx, "order_placed", orderInputs(1, 1), WithVersion(9))
	if !errors.Is(err, ErrUnknownVersion) {
		t.Errorf("unknown version: %v", err)
	}
	for _, v := range []int{0, -1} {
		_, err = e.Emit(ctx, "order_placed", orderInputs(1, 1), WithVersion(v))
		if !errors.Is(err, ErrUnknownVersion) || !strings.Contains(err.Error(), "versions start at 1") {
			t.Errorf("WithVersion(%d): %v, want ErrUnknownVersion saying versions start at 1", v, err)
		}
	}
	_, err = e.Emit(ctx, "order_placed", Inputs{})
	var ie *InputError
	if !errors.As(err, &ie) || !errors.Is(err, ErrInvalidInput) || ie.Field != "order" {
		t.Errorf("missing input: %v", err)
	}
	_, err = e.Emit(ctx, "order_placed", Inputs{"order": map[string]any{"class_name": "Order", "id": "x1", "version": 1, "total": 1}})
	if !errors.As(err, &ie) || ie.Event != "order_placed" || ie.Field != "id" || ie.GoType != "string" {
		t.Errorf("bad cast: %v (%+v)", err, ie)
	}
	if st := mustStats(t, e); st.Pending != 0 {
		t.Errorf("failed emits stored %d events", st.Pending)
	}
}

func TestDuplicateKeyIsRejectedAndWritesNothing(t *testing.T) {
	ctx := context.Background()
	e := openTest(t, Config{})
	if _, err := e.Emit(ctx, "order_placed", orderInputs(1, 1), WithIdempotencyKey("k-1")); err != nil {
		t.Fatal(err)
	}
	_, err := e.Emit(ctx, "order_placed", orderInputs(2, 1), WithIdempotencyKey("k-1"))
	if !errors.Is(err, ErrDuplicateEvent) || !strings.Contains(err.Error(), "k-1") {
		t.Fatalf("duplicate: %v", err)
	}
	if st := mustStats(t, e); st.Pending != 1 {
		t.Errorf("pending = %d, want 1", st.Pending)
	}
}

func TestEmitTxCommitsAndRollsBackWithTheCaller(t *testing.T) {
	ctx := context.Background()
	e := openTest(t, Config{})
	if _, err := e.DB().ExecContext(ctx, "CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL)"); err != nil {
		t.Fatal(err)
	}
	// Rolled back: neither the order nor the event exists.
	tx, err := e.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO orders VALUES (1, 1.5)"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.EmitTx(ctx, tx, "order_placed", orderInputs(1, 1)); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if st := mustStats(t, e); st.Pending != 0 {
		t.Fatalf("rolled back EmitTx left %d events", st.Pending)
	}
	// Committed, with a duplicate in the middle that leaves the transaction usable.
	tx, err = e.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := e.EmitTx(ctx, tx, "order_placed", orderInputs(2, 1), WithIdempotencyKey("dup")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.EmitTx(ctx, tx, "order_placed", orderInputs(3, 1), WithIdempotencyKey("dup")); !errors.Is(err, ErrDuplicateEvent) {
		t.Fatalf("duplicate in tx: %v", err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO orders VALUES (2, 2.5)"); err != nil {
		t.Fatalf("tx unusable after duplicate: %v", err)
	}
	if _, err := e.EmitTx(ctx, tx, "order_placed", orderInputs(4, 1)); err != nil {
		t.Fatalf("emit after duplicate: %v", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var orders int
	if err := e.DB().QueryRowContext(ctx, "SELECT COUNT(*) FROM orders").Scan(&orders); err != nil || orders != 1 {
		t.Fatalf("orders = %d (%v), want 1", orders, err)
	}
	if st := mustStats(t, e); st.Pending != 2 {
		t.Fatalf("pending = %d, want 2", st.Pending)
	}
	if _, err := e.EmitTx(ctx, nil, "order_placed", orderInputs(5, 1)); err == nil {
		t.Error("EmitTx with a nil tx succeeded")
	}
}

func TestEmitBatchIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	e := openTest(t, Config{})
	batch := make([]Emission, 10)
	for i := range batch {
		batch[i] = Emission{Name: "order_placed", Inputs: orderInputs(i, 1)}
	}
	rs, err := e.EmitBatch(ctx, batch)
	if err != nil || len(rs) != 10 {
		t.Fatalf("EmitBatch = %d, %v", len(rs), err)
	}
	for i := 1; i < len(rs); i++ {
		if rs[i].ID <= rs[i-1].ID {
			t.Errorf("ids not increasing: %v", rs)
		}
	}
	// A duplicate key (repeated inside the batch) fails the whole batch.
	batch2 := []Emission{
		{Name: "order_placed", Inputs: orderInputs(20, 1), Options: []EmitOption{WithIdempotencyKey("same")}},
		{Name: "order_placed", Inputs: orderInputs(21, 1), Options: []EmitOption{WithIdempotencyKey("same")}},
	}
	_, err = e.EmitBatch(ctx, batch2)
	var be *BatchError
	if !errors.As(err, &be) || be.Index != 1 || !errors.Is(err, ErrDuplicateEvent) {
		t.Fatalf("batch with duplicate: %v", err)
	}
	// A bad input fails it before anything is written.
	_, err = e.EmitBatch(ctx, []Emission{{Name: "order_placed", Inputs: orderInputs(30, 1)}, {Name: "nope"}})
	if !errors.As(err, &be) || be.Index != 1 || !errors.Is(err, ErrUnknownEvent) {
		t.Fatalf("batch with unknown event: %v", err)
	}
	if st := mustStats(t, e); st.Pending != 10 {
		t.Fatalf("pending = %d, want 10", st.Pending)
	}
}

func TestOldVersionStaysEmittable(t *testing.T) {
	ctx := context.Background()
	v2 := Define("order_placed", EventType("domain"), Input("order"),
		EntityClass("class_name", From("order"), String),
		EntityID("id", From("order"), Int),
		RequiredPayload("total", From("order"), Float),
		RequiredPayload("currency", From("order"), String))
	s1 := testSchema(t)
	s2, res, err := s1.With(v2)
	if err != nil || len(res.Changed) != 1 {
		t.Fatalf("With: %+v %v", res, err)
	}
	e := openTest(t, Config{Schema: s2})
	// Latest (2) needs currency; version 1 does not.
	if _, err := e.Emit(ctx, "order_placed", orderInputs(1, 1)); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("v2 without currency: %v", err)
	}
	r, err := e.Emit(ctx, "order_placed", orderInputs(1, 1), WithVersion(1))
	if err != nil {
		t.Fatal(err)
	}
	ev, _ := e.GetEvent(ctx, r.ID)
	if ev.Version != 1 {
		t.Errorf("version %d, want 1", ev.Version)
	}
}

func TestReopenKeepsEvents(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "outbox.db")
	e, err := Open(ctx, path, Config{Schema: testSchema(t)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for i := 0; i < 5; i++ {
		r, err := e.Emit(ctx, "order_placed", orderInputs(i, 1))
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, r.IdempotencyKey)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e2 := openTestAt(t, path, Config{})
	list, err := e2.ListEvents(ctx, EventFilter{})
	if err != nil || len(list) != 5 {
		t.Fatalf("after reopen: %d events, %v", len(list), err)
	}
	for i, ev := range list {
		if ev.IdempotencyKey != keys[len(keys)-1-i] {
			t.Errorf("event %d key %s", i, ev.IdempotencyKey)
		}
	}
}

func TestMigrationsRerunAndNewerDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "outbox.db")
	e := openTestAt(t, path, Config{})
	st, err := Migrate(ctx, e.DB())
	if err != nil || len(st.Applied) != 0 || st.Current != st.Latest {
		t.Fatalf("re-run: %+v %v", st, err)
	}
	if _, err := e.DB().ExecContext(ctx, "INSERT INTO edgeoutbox_migrations VALUES (?, 'future.sql', 0)", st.Latest+1); err != nil {
		t.Fatal(err)
	}
	e.Close()
	_, err = Open(ctx, path, Config{Schema: testSchema(t)})
	if !errors.Is(err, ErrDatabaseTooNew) || !strings.Contains(err.Error(), "upgrade edgeoutbox") {
		t.Fatalf("newer database: %v", err)
	}
}

func TestOpenVerifiesSettings(t *testing.T) {
	ctx := context.Background()
	e := openTest(t, Config{Synchronous: SyncNormal})
	var mode string
	var sync, busy, fk int
	db := e.DB()
	db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode)
	db.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync)
	db.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy)
	db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk)
	if mode != "wal" || sync != 1 || busy != 5000 || fk != 1 {
		t.Errorf("journal_mode=%s synchronous=%d busy_timeout=%d foreign_keys=%d", mode, sync, busy, fk)
	}
	if _, err := Open(ctx, filepath.Join(t.TempDir(), "x.db"), Config{Schema: testSchema(t), Synchronous: "SOMETIMES"}); err == nil ||
		!strings.Contains(err.Error(), "SyncFull") {
		t.Errorf("bad synchronous level: %v", err)
	}
}

func TestNewOverApplicationDB(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "app.db")
	db, err := sql.Open("sqlite", DSN(path, SyncFull, 0))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	defer db.Close()
	e, err := New(ctx, db, Config{Schema: testSchema(t)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Emit(ctx, "order_placed", orderInputs(1, 1)); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.PingContext(ctx); err != nil {
		t.Fatalf("Close closed the caller's db: %v", err)
	}
	if _, err := New(ctx, nil, Config{Schema: testSchema(t)}); err == nil {
		t.Error("New(nil) succeeded")
	}
	plain, _ := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "plain.db"))
	defer plain.Close()
	if _, err := New(ctx, plain, Config{Schema: testSchema(t)}); err == nil || !strings.Contains(err.Error(), "edgeoutbox.DSN") {
		t.Errorf("New over a non-WAL db: %v", err)
	}
}

func TestConcurrentEmittersStoreEveryEventOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := openTest(t, Config{})
	const workers = 64
	perWorker := 40
	if testing.Short() {
		perWorker = 10
	}
	var wg sync.WaitGroup
	keys := make([][]string, workers)
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				key := fmt.Sprintf("w%d-%d", w, i)
				if i%10 == 3 { // a few duplicates of a worker's own earlier key
					if _, err := e.Emit(ctx, "order_placed", orderInputs(w, i), WithIdempotencyKey(fmt.Sprintf("w%d-%d", w, i-1))); !errors.Is(err, ErrDuplicateEvent) {
						errs <- fmt.Errorf("duplicate emit: %v", err)
						return
					}
				}
				if _, err := e.Emit(ctx, "order_placed", orderInputs(w, i), WithIdempotencyKey(key)); err != nil {
					errs <- err
					return
				}
				keys[w] = append(keys[w], key)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var stored, distinct int
	if err := e.DB().QueryRowContext(ctx, "SELECT COUNT(*), COUNT(DISTINCT idempotency_key) FROM edgeoutbox_events").Scan(&stored, &distinct); err != nil {
		t.Fatal(err)
	}
	if stored != workers*perWorker || distinct != stored {
		t.Fatalf("stored %d (%d distinct), want %d", stored, distinct, workers*perWorker)
	}
}

func TestOutboxCapsRejectAndRecover(t *testing.T) {
	ctx := context.Background()
	mt := NewMemoryTransport()
	mt.SetOffline(true)
	e := openTest(t, Config{Transport: mt, MaxPendingEvents: 5, PollInterval: 10 * time.Millisecond})
	for i := 0; i < 5; i++ {
		if _, err := e.Emit(ctx, "order_placed", orderInputs(i, 1)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.Emit(ctx, "order_placed", orderInputs(9, 1)); !errors.Is(err, ErrOutboxFull) {
		t.Fatalf("over the cap: %v", err)
	}
	if _, err := e.EmitBatch(ctx, []Emission{{Name: "order_placed", Inputs: orderInputs(10, 1)}}); !errors.Is(err, ErrOutboxFull) {
		t.Fatalf("batch over the cap: %v", err)
	}
	if st := mustStats(t, e); st.Pending != 5 {
		t.Fatalf("pending %d, want 5", st.Pending)
	}
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	mt.SetOffline(false)
	eventually(t, 10*time.Second, "backlog drained", func() bool { return mustStats(t, e).Pending == 0 })
	if _, err := e.Emit(ctx, "order_placed", orderInputs(11, 1)); err != nil {
		t.Fatalf("after drain: %v", err)
	}
}

func TestOutboxBytesCap(t *testing.T) {
	ctx := context.Background()
	e := openTest(t, Config{MaxOutboxBytes: 200})
	var n int
	for ; n < 100; n++ {
		_, err := e.Emit(ctx, "order_placed", orderInputs(n, 1))
		if errors.Is(err, ErrOutboxFull) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	st := mustStats(t, e)
	if n == 0 || n == 100 || st.OutboxBytes > 200 || st.Pending != int64(n) {
		t.Fatalf("accepted %d events, %d bytes, %d pending", n, st.OutboxBytes, st.Pending)
	}
}
