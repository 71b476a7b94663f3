package edgeoutbox

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// plantLease writes the relay lease as a process that was killed a moment after
// renewing it leaves it: owner "killed-process", valid for another until.
func plantLease(t *testing.T, e *Engine, until, ttl time.Duration) {
	t.Helper()
	now := e.now()
	if _, err := e.execWrite(context.Background(), true,
		"INSERT INTO edgeoutbox_leases (name, owner, expires_at, ttl) VALUES (?, 'killed-process', ?, ?)",
		relayLease, now.Add(until).UnixNano(), int64(ttl)); err != nil {
		t.Fatal(err)
	}
}

// A program killed while the broker was down leaves its lease behind. The next run's
// Stop must not take that lease for a live relay that will publish: it waits for the
// lease to expire, takes over and publishes (the quickstart, run again).
func TestStopWaitsOutTheLeaseOfAKilledProcess(t *testing.T) {
	t.Parallel()
	mem := NewMemoryTransport()
	e := openTest(t, Config{Transport: mem, LeaseTTL: 600 * time.Millisecond})
	plantLease(t, e, 500*time.Millisecond, 600*time.Millisecond)
	if _, err := e.Emit(context.Background(), "order_placed", orderInputs(1, 1)); err != nil {
		t.Fatal(err)
	}
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if st := mustStats(t, e); st.Pending != 0 || mem.Len() != 1 {
		t.Fatalf("after Stop returned nil: %d pending, %d published to the transport; want 0 and 1", st.Pending, mem.Len())
	}
}

// When Stop's context ends before the dead holder's lease does, Stop says that the
// events are still pending and why.
func TestStopErrorNamesPendingEventsAndTheStaleLease(t *testing.T) {
	t.Parallel()
	mem := NewMemoryTransport()
	e := openTest(t, Config{Transport: mem, LeaseTTL: 10 * time.Second})
	plantLease(t, e, 9*time.Second, 10*time.Second)
	if _, err := e.Emit(context.Background(), "order_placed", orderInputs(1, 1)); err != nil {
		t.Fatal(err)
	}
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	err := e.Stop(ctx)
	if err == nil {
		t.Fatalf("Stop returned nil with the event pending (%d published)", mem.Len())
	}
	for _, want := range []string{"1 events still pending", "killed-process", "has not renewed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Stop's error %q does not say %q", err, want)
		}
	}
}

// A relay that is alive and renewing holds the lease: Stop leaves the events to it
// and returns nil once it has seen a renewal.
func TestStopLeavesEventsToALiveRelay(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "outbox.db")
	holderMem := NewMemoryTransport()
	holder := openTestAt(t, path, Config{Transport: holderMem, LeaseTTL: 600 * time.Millisecond})
	if err := holder.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the holder takes the lease", func() bool {
		l, _ := holder.Lease(context.Background())
		return l != nil
	})
	mem := NewMemoryTransport()
	e := openTestAt(t, path, Config{Transport: mem, LeaseTTL: 600 * time.Millisecond})
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Emit(context.Background(), "order_placed", orderInputs(1, 1)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.Stop(ctx); err != nil {
		t.Fatalf("Stop with a live relay holding the lease: %v", err)
	}
	if err := holderMem.WaitFor(ctx, 1); err != nil {
		t.Fatalf("the live holder did not publish the event: %v", err)
	}
}
