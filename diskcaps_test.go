package edgeoutbox

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// outboxFootprint is what a refused emit must leave as it was.
type outboxFootprint struct {
	rows, usage int64
	maxID       int64
}

func footprint(t testing.TB, e *Engine) outboxFootprint {
	t.Helper()
	var f outboxFootprint
	if err := e.DB().QueryRowContext(context.Background(), `SELECT (SELECT COUNT(*) FROM edgeoutbox_events),
		(SELECT bytes FROM edgeoutbox_usage WHERE id = 1), (SELECT COALESCE(MAX(id), 0) FROM edgeoutbox_events)`).
		Scan(&f.rows, &f.usage, &f.maxID); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestOutboxFullWritesNothing fills the outbox to its caps (pending events, then
// bytes) with the relay's transport offline and checks that a refused EmitBatch
// stores none of its events (not even those before the one over the cap), a refused
// EmitTx writes nothing and leaves the caller's transaction usable, the byte count is
// unchanged; and that once the relay has drained the backlog (and, for the byte cap,
// retention has removed the published events) the same emits succeed.
func TestOutboxFullWritesNothing(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"MaxPendingEvents", Config{MaxPendingEvents: 10}},
		{"MaxOutboxBytes", Config{MaxOutboxBytes: 10 * int64(len(`{"total":1.5}`))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			tr := NewMemoryTransport()
			tr.SetOffline(true)
			cfg := tc.cfg
			cfg.Transport, cfg.PollInterval, cfg.OfflineProbeInterval = tr, 10*time.Millisecond, 20*time.Millisecond
			e := openTest(t, cfg)
			if _, err := e.DB().ExecContext(ctx, "CREATE TABLE app_orders (id INTEGER PRIMARY KEY)"); err != nil {
				t.Fatal(err)
			}
			if err := e.Start(ctx); err != nil {
				t.Fatal(err)
			}
			// Fill to exactly the cap: 8 single emits, then 2 in the application's
			// transaction.
			for i := range 8 {
				if _, err := e.Emit(ctx, "order_placed", orderInputs(1, i+1)); err != nil {
					t.Fatal(err)
				}
			}
			tx, err := e.DB().BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO app_orders (id) VALUES (1)"); err != nil {
				t.Fatal(err)
			}
			for i := range 2 {
				if _, err := e.EmitTx(ctx, tx, "order_placed", orderInputs(2, i+1)); err != nil {
					t.Fatal(err)
				}
			}
			// Over the cap inside the transaction: refused, nothing written, tx usable.
			if _, err := e.EmitTx(ctx, tx, "order_placed", orderInputs(2, 3), WithIdempotencyKey("tx-refused")); !errors.Is(err, ErrOutboxFull) {
				t.Fatalf("EmitTx over the cap: %v, want ErrOutboxFull", err)
			}
			var inTx int64
			if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM edgeoutbox_events WHERE idempotency_key = 'tx-refused'").Scan(&inTx); err != nil || inTx != 0 {
				t.Fatalf("refused EmitTx wrote %d rows (%v)", inTx, err)
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO app_orders (id) VALUES (2)"); err != nil {
				t.Fatalf("transaction unusable after ErrOutboxFull: %v", err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			full := footprint(t, e)
			if full.rows != 10 {
				t.Fatalf("%d events stored, want 10", full.rows)
			}

			batch := func(prefix string) []Emission {
				var b []Emission
				for i := range 3 {
					b = append(b, Emission{Name: "order_placed", Inputs: orderInputs(3, i+1),
						Options: []EmitOption{WithIdempotencyKey(fmt.Sprintf("%s-%d", prefix, i))}})
				}
				return b
			}
			_, err = e.EmitBatch(ctx, batch("batch"))
			var be *BatchError
			if !errors.Is(err, ErrOutboxFull) || !errors.As(err, &be) || be.Index != 0 {
				t.Fatalf("EmitBatch over the cap: %v, want a BatchError at index 0 matching ErrOutboxFull", err)
			}
			if _, err := e.Emit(ctx, "order_placed", orderInputs(4, 1)); !errors.Is(err, ErrOutboxFull) {
				t.Fatalf("Emit over the cap: %v, want ErrOutboxFull", err)
			}
			if got := footprint(t, e); got != full {
				t.Fatalf("refused emits changed the outbox: %+v, was %+v", got, full)
			}

			tr.SetOffline(false)
			eventually(t, 10*time.Second, "backlog drained", func() bool { return mustStats(t, e).Pending == 0 })
			if tc.cfg.MaxOutboxBytes > 0 {
				if _, err := e.CleanupOlderThan(ctx, 0, -1); err != nil {
					t.Fatal(err)
				}
			}
			tr.SetOffline(true)
			for i := range 8 {
				if _, err := e.Emit(ctx, "order_placed", orderInputs(5, i+1)); err != nil {
					t.Fatalf("emit after drain: %v", err)
				}
			}
			// A batch that only partly fits is refused whole.
			before := footprint(t, e)
			if _, err := e.EmitBatch(ctx, batch("partial")); !errors.As(err, &be) || be.Index != 2 || !errors.Is(err, ErrOutboxFull) {
				t.Fatalf("EmitBatch of 3 with room for 2: %v, want a BatchError at index 2", err)
			}
			if got := footprint(t, e); got != before {
				t.Fatalf("a refused batch left events behind: %+v, was %+v", got, before)
			}
			tr.SetOffline(false)
			eventually(t, 10*time.Second, "backlog drained", func() bool { return mustStats(t, e).Pending == 0 })
			if tc.cfg.MaxOutboxBytes > 0 {
				if _, err := e.CleanupOlderThan(ctx, 0, -1); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := e.EmitBatch(ctx, batch("batch")); err != nil {
				t.Fatalf("the refused batch, again after the drain: %v", err)
			}
			eventually(t, 10*time.Second, "every event published", func() bool { return mustStats(t, e).Pending == 0 })
			if n := tr.Len(); n != 10+8+3 {
				t.Fatalf("transport got %d events, want %d", n, 10+8+3)
			}
		})
	}
}
