package edgeoutbox

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// steppedClock is the wall clock plus an offset a test can step.
type steppedClock struct{ offset atomic.Int64 }

func (c *steppedClock) Now() time.Time              { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *steppedClock) step(d time.Duration)        { c.offset.Add(int64(d)) }
func (c *steppedClock) set(d time.Duration)         { c.offset.Store(int64(d)) }
func (c *steppedClock) stamp(d time.Duration) int64 { return c.Now().Add(d).UnixNano() }

const year = 365 * 24 * time.Hour

// TestClockStepsHeal: a device whose clock jumps a year (either way) after times were
// stored recovers within one LeaseTTL or poll, for leases, retries, the inline grace,
// retention and stats.
func TestClockStepsHeal(t *testing.T) {
	for _, jump := range []time.Duration{-year, year} {
		t.Run(map[bool]string{true: "back a year", false: "forward a year"}[jump < 0], func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			clock := &steppedClock{}
			mt := NewMemoryTransport()
			e := openTest(t, Config{Transport: mt, Clock: clock, LeaseTTL: 300 * time.Millisecond, PollInterval: 50 * time.Millisecond,
				RetentionPeriod: time.Hour, DeadLetterRetention: time.Hour, RetentionInterval: -1})

			// Before the step: a dead relay's lease, a retry due in a minute, an event
			// held for inline delivery, a published and a dead-lettered event.
			if _, err := e.db.Exec(`INSERT INTO edgeoutbox_leases (name, owner, expires_at, ttl) VALUES ('relay', 'dead-relay', ?, ?)`,
				clock.stamp(time.Minute), int64(time.Minute)); err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for i := range 4 {
				r, err := e.Emit(ctx, "order_placed", orderInputs(i, 1))
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, r.ID)
			}
			mustExec(t, e, `UPDATE edgeoutbox_events SET next_attempt_at = ?, attempts = 1 WHERE id = ?`, clock.stamp(time.Minute), ids[0])
			mustExec(t, e, `UPDATE edgeoutbox_events SET next_attempt_at = ? WHERE id = ?`, clock.stamp(inlineGrace), ids[1])
			mustExec(t, e, `UPDATE edgeoutbox_events SET published_at = ? WHERE id = ?`, clock.stamp(0), ids[2])
			mustExec(t, e, `UPDATE edgeoutbox_events SET dead_lettered_at = ? WHERE id = ?`, clock.stamp(0), ids[3])
			mustExec(t, e, `UPDATE edgeoutbox_usage SET pending = pending - 2, published = published + 1, dead_lettered = dead_lettered + 1`)

			clock.step(jump)
			if jump < 0 {
				// Stats: the pending events were created "in the future"; they still read
				// as waiting.
				if st := mustStats(t, e); st.OldestPendingAge <= 0 {
					t.Errorf("oldest pending age %v after the clock stepped back: a stuck event must not read as none", st.OldestPendingAge)
				}
				if lease, err := e.Lease(ctx); err != nil || lease != nil {
					t.Errorf("Lease() after the clock stepped back: %+v, %v; want none (stamped ahead by more than its ttl)", lease, err)
				}
			}
			// The relay takes the lease over, and publishes the retry and the inline
			// event at once (back: their due times lie a year ahead; forward: long past).
			if err := e.Start(ctx); err != nil {
				t.Fatal(err)
			}
			eventually(t, 10*time.Second, "held events published", func() bool { return mt.Len() == 2 })
			if lease, err := e.Lease(ctx); err != nil || lease == nil || lease.Owner == "dead-relay" {
				t.Fatalf("lease after the step: %+v, %v; want this relay's", lease, err)
			}
			stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := e.Stop(stopCtx); err != nil {
				t.Fatal(err)
			}

			// Retention: forward, the published and dead events are a year old and go.
			// Back, their stamps lie a year ahead: cleanup treats them as now, so they
			// go once the retention period has passed from here.
			res, err := e.Cleanup(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if jump > 0 {
				if res.Published < 1 || res.DeadLettered != 1 {
					t.Fatalf("cleanup after a step forward: %+v; want the old published and dead events gone", res)
				}
				return
			}
			if res.Published != 0 || res.DeadLettered != 0 {
				t.Fatalf("cleanup right after a step back: %+v; nothing is older than an hour yet", res)
			}
			clock.step(2 * time.Hour)
			if res, err = e.Cleanup(ctx); err != nil || res.Published < 1 || res.DeadLettered != 1 {
				t.Fatalf("cleanup two hours after the step back: %+v, %v; want the events stamped ahead gone", res, err)
			}
		})
	}
}

func mustExec(t testing.TB, e *Engine, query string, args ...any) {
	t.Helper()
	if _, err := e.db.Exec(query, args...); err != nil {
		t.Fatal(err)
	}
}

// TestEmitInsideDBTransactionSaysUseEmitTx: Emit called while the caller holds the
// writer connection in a transaction on Engine.DB() returns an error naming EmitTx
// after the busy timeout, instead of hanging every emit of the process.
func TestEmitInsideDBTransactionSaysUseEmitTx(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := openTest(t, Config{BusyTimeout: 300 * time.Millisecond})
	tx, err := e.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Emit(ctx, "order_placed", orderInputs(1, 1))
	if err == nil || !strings.Contains(err.Error(), "use EmitTx") || !errors.Is(err, errWriterHeld) {
		t.Fatalf("Emit inside a transaction on Engine.DB(): %v; want an error that says to use EmitTx", err)
	}
	if _, err := e.EmitTx(ctx, tx, "order_placed", orderInputs(1, 1)); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Emit(ctx, "order_placed", orderInputs(2, 1)); err != nil {
		t.Fatalf("Emit after the transaction: %v", err)
	}
	if st := mustStats(t, e); st.Pending != 2 {
		t.Fatalf("pending %d, want 2 (the EmitTx and the later Emit)", st.Pending)
	}
}
