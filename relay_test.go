package edgeoutbox

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func TestStartWithoutTransportSaysWhatToSet(t *testing.T) {
	e := openTest(t, Config{})
	err := e.Start(context.Background())
	if !errors.Is(err, ErrNoTransport) || err.Error() != ErrNoTransport.Error() {
		t.Fatalf("Start without transport: %v", err)
	}
	if want := "set Config.Transport"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
}

func TestLifecycleIsSafe(t *testing.T) {
	ctx := context.Background()
	mt := NewMemoryTransport()
	e := openTest(t, Config{Transport: mt})
	if err := e.Stop(ctx); err != nil {
		t.Fatalf("Stop before Start: %v", err)
	}
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.Start(ctx); err != nil {
		t.Fatalf("second Start: %v", err)
	}
	if _, err := e.Emit(ctx, "order_placed", orderInputs(1, 1)); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := mt.WaitFor(wctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := e.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.Stop(ctx); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if lease, err := e.Lease(ctx); err != nil || lease != nil {
		t.Fatalf("lease after Stop: %+v %v", lease, err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := e.Emit(ctx, "order_placed", orderInputs(2, 1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Emit after Close: %v", err)
	}
	if err := e.Start(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("Start after Close: %v", err)
	}
}

func TestStartContextCancelStopsRelay(t *testing.T) {
	mt := NewMemoryTransport()
	e := openTest(t, Config{Transport: mt, PollInterval: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "lease", func() bool { l, _ := e.Lease(context.Background()); return l != nil })
	cancel()
	if err := e.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// Two engines on one file: only the lease holder publishes; when it stops the other
// takes over within the lease period, and nothing is published twice.
func TestOnlyLeaseHolderPublishesAndTakeover(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shared.db")
	m1, m2 := NewMemoryTransport(), NewMemoryTransport()
	const ttl = 2 * time.Second // renewals every 667ms: a loaded machine must not lose the lease to the standby
	cfg := func(mt *MemoryTransport) Config {
		return Config{Transport: mt, LeaseTTL: ttl, PollInterval: 10 * time.Millisecond, BatchSize: 7}
	}
	e1 := openTestAt(t, path, cfg(m1))
	e2 := openTestAt(t, path, cfg(m2))
	if err := e1.Start(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "e1 holds the lease", func() bool { l, _ := e1.Lease(ctx); return l != nil })
	if err := e2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		e := e1
		if i%2 == 1 {
			e = e2 // the standby's emits go to the holder through the shared file
		}
		if _, err := e.Emit(ctx, "order_placed", orderInputs(i%5, i)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 10*time.Second, "first 50 published", func() bool { return m1.Len() == 50 })
	if m2.Len() != 0 {
		t.Fatalf("the standby published %d events", m2.Len())
	}
	stopped := time.Now()
	if err := e1.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 50; i < 80; i++ {
		if _, err := e1.Emit(ctx, "order_placed", orderInputs(i%5, i)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 10*time.Second, "the standby takes over", func() bool { return m2.Len() == 30 })
	if took := time.Since(stopped); took > ttl+time.Second {
		t.Errorf("takeover took %v, lease period %v", took, ttl)
	}
	seen := map[string]bool{}
	for _, ev := range append(m1.Events(), m2.Events()...) {
		if seen[ev.IdempotencyKey] {
			t.Errorf("event %d published twice", ev.ID)
		}
		seen[ev.IdempotencyKey] = true
	}
	if len(seen) != 80 {
		t.Errorf("%d distinct events published, want 80", len(seen))
	}
}

// A crashed holder (lease not released) is replaced once its lease expires.
func TestExpiredLeaseIsTakenOver(t *testing.T) {
	ctx := context.Background()
	e := openTest(t, Config{Transport: NewMemoryTransport(), LeaseTTL: 300 * time.Millisecond})
	if ok, err := e.acquireLease(ctx, "crashed-relay", 300*time.Millisecond, false); err != nil || !ok {
		t.Fatalf("seed lease: %v %v", ok, err)
	}
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "takeover of the expired lease", func() bool {
		l, _ := e.Lease(ctx)
		return l != nil && l.Owner != "crashed-relay"
	})
}

func TestInlineDeliveryPublishesBeforeEmitReturns(t *testing.T) {
	ctx := context.Background()
	mt := NewMemoryTransport()
	e := openTest(t, Config{Transport: mt, Delivery: DeliveryInline, PollInterval: 10 * time.Millisecond})
	r, err := e.Emit(ctx, "order_placed", orderInputs(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	if mt.Len() != 1 {
		t.Fatalf("inline: %d events published when Emit returned", mt.Len())
	}
	if ev, _ := e.GetEvent(ctx, r.ID); ev.Status != StatusPublished {
		t.Fatalf("inline event status %s", ev.Status)
	}
	// On failure the event stays for the relay, which publishes it once started.
	mt.SetOffline(true)
	r2, err := e.Emit(ctx, "order_placed", orderInputs(1, 2))
	if err != nil {
		t.Fatalf("emit must succeed once stored: %v", err)
	}
	mt.SetOffline(false)
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "relay publishes the inline failure", func() bool {
		ev, _ := e.GetEvent(ctx, r2.ID)
		return ev.Status == StatusPublished
	})
	if mt.Len() != 2 {
		t.Fatalf("%d published, want 2", mt.Len())
	}
}

func TestSlowHookDoesNotStallRelay(t *testing.T) {
	ctx := context.Background()
	mt := NewMemoryTransport()
	release := make(chan struct{})
	var calls atomic.Int64
	e := openTest(t, Config{Transport: mt, Hooks: Hooks{
		QueueSize:   4,
		OnPublished: func(EventInfo) { calls.Add(1); <-release },
	}})
	defer close(release)
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		if _, err := e.Emit(ctx, "order_placed", orderInputs(i, 1)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 10*time.Second, "all published despite a stuck hook", func() bool { return mustStats(t, e).Published == 50 })
	if st := mustStats(t, e); st.HooksDropped == 0 {
		t.Errorf("no dropped hook notifications counted")
	}
}

func TestHooksCarryTheFields(t *testing.T) {
	ctx := context.Background()
	mt := NewMemoryTransport()
	emitted := make(chan EventInfo, 1)
	published := make(chan EventInfo, 1)
	e := openTest(t, Config{Transport: mt, Hooks: Hooks{
		OnEmitted:   func(i EventInfo) { emitted <- i },
		OnPublished: func(i EventInfo) { published <- i },
	}})
	r, err := e.Emit(ctx, "order_placed", orderInputs(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []chan EventInfo{emitted, published} {
		select {
		case i := <-ch:
			if i.Name != "order_placed" || i.Version != 1 || i.EventID != r.ID || i.IdempotencyKey != r.IdempotencyKey {
				t.Errorf("hook info %+v", i)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("hook not called")
		}
	}
}

func TestBackoffGrowsWithJitterAndCap(t *testing.T) {
	e := &Engine{cfg: Config{BackoffBase: 100 * time.Millisecond, BackoffMax: time.Second}}
	for attempt, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 10: time.Second} {
		for i := 0; i < 50; i++ {
			d := e.backoff(attempt)
			if d < want/2 || d > want {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", attempt, d, want/2, want)
			}
		}
	}
}

func TestLoggerIsInjectedAndSilentByDefault(t *testing.T) {
	ctx := context.Background()
	var buf safeBuffer
	e := openTest(t, Config{Transport: NewMemoryTransport(), Logger: zerolog.New(&buf)})
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); !strings.Contains(out, `"component":"edgeoutbox"`) || !strings.Contains(out, `"message":"relay started"`) {
		t.Errorf("log output %q", out)
	}
}

// safeBuffer is a bytes.Buffer safe for the relay's goroutines.
type safeBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *safeBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *safeBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Stop publishes what is due before it returns; an unavailable transport ends the
// drain at once instead of holding Stop up.
func TestStopDrainsDueEvents(t *testing.T) {
	ctx := context.Background()
	mt := NewMemoryTransport()
	e := openTest(t, Config{Transport: mt, BatchSize: 50})
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	batch := make([]Emission, 2000)
	for i := range batch {
		batch[i] = Emission{Name: "order_placed", Inputs: orderInputs(i%20, i)}
	}
	if _, err := e.EmitBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	stopCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := e.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
	if st := mustStats(t, e); st.Published != 2000 || st.Pending != 0 {
		t.Fatalf("after Stop: %d published, %d pending; want all 2000 published", st.Published, st.Pending)
	}

	// Offline: Stop waits for the transport as long as its context allows, then gives
	// up with the context's error, the event still pending.
	mt.SetOffline(true)
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Emit(ctx, "order_placed", orderInputs(1, 1)); err != nil {
		t.Fatal(err)
	}
	shortCtx, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancelShort()
	if err := e.Stop(shortCtx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop with an offline transport: %v, want the context's deadline", err)
	}
	if st := mustStats(t, e); st.Pending != 1 {
		t.Errorf("offline event: %d pending, want 1", st.Pending)
	}

	// The transport comes back while Stop waits: Stop publishes the event.
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	go func() {
		// Once the relay is running and has met the offline transport, bring it back.
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if st := e.RelayState(); st.HoldsLease && !st.TransportOnline {
				break
			}
		}
		mt.SetOffline(false)
	}()
	if err := e.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
	if st := mustStats(t, e); st.Pending != 0 || st.Published != 2001 {
		t.Errorf("after Stop with the transport back: %d pending, %d published; want 0 and 2001", st.Pending, st.Published)
	}
}
