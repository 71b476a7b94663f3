package edgeoutbox

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func timeoutCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// More than maxClaimScan events waiting for a retry must not starve a due event of
// another entity behind them.
func TestLongRetryBacklogDoesNotStarveOtherEntities(t *testing.T) {
	if testing.Short() {
		t.Skip("writes more than maxClaimScan events")
	}
	mt := NewMemoryTransport()
	e := openTest(t, Config{Transport: mt, Synchronous: SyncOff})
	ctx := context.Background()
	batch := make([]Emission, 0, 2000)
	for i := 0; i < maxClaimScan+100; i++ {
		batch = append(batch, Emission{Name: "order_placed", Inputs: orderInputs(i, 1)})
		if len(batch) == cap(batch) || i == maxClaimScan+99 {
			if _, err := e.EmitBatch(ctx, batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	// All of them failed once and wait an hour for their retry.
	if _, err := e.DB().ExecContext(ctx, "UPDATE edgeoutbox_events SET attempts = 1, next_attempt_at = ?", time.Now().Add(time.Hour).UnixNano()); err != nil {
		t.Fatal(err)
	}
	r, err := e.Emit(ctx, "order_placed", orderInputs(999999, 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := mt.WaitFor(timeoutCtx(t, 10*time.Second), 1); err != nil {
		t.Fatalf("a due event behind %d retrying ones was never published: %v", maxClaimScan, err)
	}
	if got := mt.Events()[0].ID; got != r.ID {
		t.Fatalf("published event %d, want %d", got, r.ID)
	}
}

// Emit racing Close returns (ErrClosed or a result); it never hangs.
func TestEmitRacingCloseNeverHangs(t *testing.T) {
	for iter := 0; iter < 30; iter++ {
		e := openTest(t, Config{})
		var wg sync.WaitGroup
		start := make(chan struct{})
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for i := 0; i < 20; i++ {
					if _, err := e.Emit(context.Background(), "order_placed", orderInputs(i, 1)); errors.Is(err, ErrClosed) {
						return
					}
				}
			}()
		}
		close(start)
		e.Close()
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("iteration %d: Emit hung after Close", iter)
		}
	}
}

// gatedPipe is a PipelinedTransport whose first batch's acks arrive only after the
// second batch was sent, and fail for the first event.
type gatedPipe struct {
	mu    sync.Mutex
	calls int
	gate  chan struct{}
}

func (p *gatedPipe) Publish(ctx context.Context, ev *Event) error {
	return p.PublishBatch(ctx, []*Event{ev})[0]
}

func (p *gatedPipe) PublishBatch(ctx context.Context, evs []*Event) []error {
	return p.StartBatch(ctx, evs)()
}

func (p *gatedPipe) StartBatch(ctx context.Context, evs []*Event) func() []error {
	p.mu.Lock()
	p.calls++
	n := p.calls
	p.mu.Unlock()
	errs := make([]error, len(evs))
	return func() []error {
		if n == 1 {
			<-p.gate
			errs[0] = errors.New("stream rejected the message")
		}
		return errs
	}
}

func (p *gatedPipe) sent() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls
}

// With two batches in flight, an event whose earlier sibling failed in the first batch
// is kept pending behind it, though the broker took it.
func TestPipelinedFailureHoldsBackLaterBatch(t *testing.T) {
	p := &gatedPipe{gate: make(chan struct{})}
	e := openTest(t, Config{Transport: p, BatchSize: 2, BackoffBase: time.Hour, BackoffMax: time.Hour})
	ctx := context.Background()
	// ids 1..4: A(order 1) C(order 2) | B(order 1) D(order 3)
	for _, order := range []int{1, 2, 1, 3} {
		if _, err := e.Emit(ctx, "order_placed", orderInputs(order, 1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the second batch sent", func() bool { return p.sent() >= 2 })
	close(p.gate)
	eventually(t, 5*time.Second, "outcomes recorded", func() bool {
		a, _ := e.GetEvent(ctx, 1)
		d, _ := e.GetEvent(ctx, 4)
		return a.Attempts == 1 && d.Status == StatusPublished
	})
	if b, _ := e.GetEvent(ctx, 3); b.Status != StatusPending || b.Attempts != 0 {
		t.Fatalf("B of order 1: status %s, attempts %d; want pending behind A with no attempt", b.Status, b.Attempts)
	}
}

// After Start's context ends, a new Start runs a relay again.
func TestStartAgainAfterStartContextEnded(t *testing.T) {
	mt := NewMemoryTransport()
	e := openTest(t, Config{Transport: mt, PollInterval: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Emit(context.Background(), "order_placed", orderInputs(1, 1)); err != nil {
		t.Fatal(err)
	}
	if err := mt.WaitFor(timeoutCtx(t, 5*time.Second), 1); err != nil {
		t.Fatalf("no relay after the second Start: %v", err)
	}
}

func TestTooShortLeaseIsRefused(t *testing.T) {
	_, err := Open(context.Background(), t.TempDir()+"/x.db", Config{Schema: testSchema(t), LeaseTTL: 2})
	if err == nil || !strings.Contains(err.Error(), "LeaseTTL") {
		t.Fatalf("Open with a 2ns lease: %v", err)
	}
}

// A relay that lost its lease records what was published but counts no failures.
func TestOutcomeOfARelayWithoutTheLeaseCountsNoAttempts(t *testing.T) {
	ctx := context.Background()
	e := openTest(t, Config{})
	a, _ := e.Emit(ctx, "order_placed", orderInputs(1, 1))
	b, _ := e.Emit(ctx, "order_placed", orderInputs(2, 1))
	evA, _ := e.GetEvent(ctx, a.ID)
	evB, _ := e.GetEvent(ctx, b.ID)
	if ok, err := acquireLease(ctx, e.DB(), "the-new-holder", time.Now(), time.Minute); err != nil || !ok {
		t.Fatal(ok, err)
	}
	_, err := e.recordOutcome(ctx, "the-old-holder", []*Event{&evA.Event, &evB.Event},
		[]error{nil, errors.New("broker said no")}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := e.GetEvent(ctx, a.ID); got.Status != StatusPublished {
		t.Errorf("published event: %s", got.Status)
	}
	if got, _ := e.GetEvent(ctx, b.ID); got.Attempts != 0 || got.Status != StatusPending {
		t.Errorf("failed event of a relay without the lease: %s, %d attempts", got.Status, got.Attempts)
	}
}
