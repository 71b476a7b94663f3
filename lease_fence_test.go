package edgeoutbox

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// freezingTransport records every publish and blocks one of them until released: the
// relay that calls it is "frozen" mid-batch.
type freezingTransport struct {
	mu       sync.Mutex
	calls    int
	freezeAt int
	frozen   chan struct{} // closed when the freezing call starts
	release  chan struct{}
	// foreign reports whether the database says another relay holds the lease; a
	// call made then is a send the lease should have fenced off.
	foreign  func() bool
	offLease int
}

func (f *freezingTransport) Publish(ctx context.Context, ev *Event) error {
	f.mu.Lock()
	isForeign := f.foreign
	f.mu.Unlock()
	foreign := isForeign != nil && isForeign()
	f.mu.Lock()
	f.calls++
	n := f.calls
	if foreign {
		f.offLease++
	}
	f.mu.Unlock()
	if n == f.freezeAt {
		close(f.frozen)
		<-f.release
	}
	return nil
}

func (f *freezingTransport) sendsOffLease() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.offLease
}

// TestFrozenRelaySendsNothingAfterTakeover freezes a relay in the middle of a batch
// (its publish blocked, its lease renewals starved) until another relay has taken the
// lease over, then lets it run again: the frozen relay makes no further send, because
// every send runs under the lease's fence.
func TestFrozenRelaySendsNothingAfterTakeover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "outbox.db")
	const ttl = time.Second
	ta := &freezingTransport{freezeAt: 5, frozen: make(chan struct{}), release: make(chan struct{})}
	a := openTestAt(t, path, Config{Transport: ta, LeaseTTL: ttl, PollInterval: 20 * time.Millisecond})
	// The rest of A freezes with its transport call: its lease renewals wait at their
	// await point until A runs again.
	var leaseFrozen sync.Mutex
	a.sched = func(p schedPoint) {
		if p == schedLease {
			leaseFrozen.Lock()
			leaseFrozen.Unlock() // it only waits while the test holds the lock
		}
	}
	tb := NewMemoryTransport()
	b := openTestAt(t, path, Config{Transport: tb, LeaseTTL: ttl, PollInterval: 20 * time.Millisecond})
	batch := make([]Emission, 50)
	for i := range batch {
		batch[i] = Emission{Name: "order_placed", Inputs: orderInputs(i, 1)}
	}
	if _, err := a.EmitBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	a.mu.Lock()
	ownerA := a.relay.owner
	a.mu.Unlock()
	ta.mu.Lock()
	ta.foreign = func() bool {
		lease, err := b.Lease(ctx)
		return err == nil && lease != nil && lease.Owner != ownerA
	}
	ta.mu.Unlock()
	select {
	case <-ta.frozen:
	case <-time.After(10 * time.Second):
		t.Fatal("relay A never reached its fifth publish")
	}
	// Freeze the rest of A: its lease renewals wait.
	leaseFrozen.Lock()
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "relay B takes the lease over and publishes everything", func() bool {
		return b.RelayState().HoldsLease && tb.Len() == len(batch) && mustStats(t, b).Pending == 0
	})

	// A runs again.
	close(ta.release)
	leaseFrozen.Unlock()
	// Stop returns once A's batch in flight has landed: with no lease, there is
	// nothing more for it to do.
	stopCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := a.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
	if n := ta.sendsOffLease(); n != 0 {
		t.Fatalf("relay A made %d sends while relay B held the lease", n)
	}
	if st := mustStats(t, b); st.Pending != 0 || st.DeadLettered != 0 {
		t.Fatalf("after the takeover: %+v", st)
	}
}
