package edgeoutbox

import (
	"context"
	"testing"
	"time"
)

// TestRelayResumesAfterLateLeaseRenewal covers a relay whose lease renewal came late
// (its writer connection was busy, say with another process holding the write lock):
// the publishing loop saw the lease as not held and waited for the lease keeper, and
// the keeper, finding it had never lost the lease, used to stay silent, so the relay
// stopped publishing for good. Found by TestTwoProcessesOneDatabase.
func TestRelayResumesAfterLateLeaseRenewal(t *testing.T) {
	tr := NewMemoryTransport()
	e := openTest(t, Config{Transport: tr, LeaseTTL: 300 * time.Millisecond, PollInterval: 20 * time.Millisecond})
	ctx := context.Background()
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Emit(ctx, "order_placed", orderInputs(1, 1)); err != nil {
		t.Fatal(err)
	}
	if err := tr.WaitFor(withTimeout(t, 10*time.Second), 1); err != nil {
		t.Fatal(err)
	}
	// Make the lease look nearly expired without zeroing it, as a late renewal does.
	e.mu.Lock()
	r := e.relay
	e.mu.Unlock()
	r.leaseUntil.Store(time.Now().UnixNano())
	if _, err := e.Emit(ctx, "order_placed", orderInputs(1, 2)); err != nil {
		t.Fatal(err)
	}
	if err := tr.WaitFor(withTimeout(t, 10*time.Second), 2); err != nil {
		t.Fatalf("relay did not publish after a late lease renewal: %v", err)
	}
}

// withTimeout returns a context that ends after d or when the test ends.
func withTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
