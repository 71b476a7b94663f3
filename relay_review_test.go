package edgeoutbox

import (
	"context"
	"database/sql"
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
	t.Parallel()
	if testing.Short() {
		t.Skip("writes more than maxClaimScan events")
	}
	mt := NewMemoryTransport()
	e := openTest(t, Config{Transport: mt, Synchronous: SyncOff, BackoffMax: 2 * time.Hour}) // a retry an hour ahead is legitimate, not a clock step
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
	t.Parallel()
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

// pipeProbe is a PipelinedTransport that holds the acks of the first batch until the
// second batch is sent (or a second has passed), then fails the first event of the
// first batch. It records whether the second batch went out while the first was still
// waiting for its acks.
type pipeProbe struct {
	mu           sync.Mutex
	calls        int
	second       chan struct{}
	overlapped   bool // the second batch was sent before the first one's acks were in
	firstLanding bool
}

func newPipeProbe() *pipeProbe { return &pipeProbe{second: make(chan struct{})} }

func (p *pipeProbe) Publish(ctx context.Context, ev *Event) error {
	return p.PublishBatch(ctx, []*Event{ev})[0]
}

func (p *pipeProbe) PublishBatch(ctx context.Context, evs []*Event) []error {
	return p.StartBatch(ctx, evs)()
}

func (p *pipeProbe) StartBatch(ctx context.Context, evs []*Event) func() []error {
	p.mu.Lock()
	p.calls++
	n := p.calls
	if n == 2 {
		p.overlapped = p.firstLanding
		close(p.second)
	}
	if n == 1 {
		p.firstLanding = true
	}
	p.mu.Unlock()
	errs := make([]error, len(evs))
	return func() []error {
		if n != 1 {
			return errs
		}
		select {
		case <-p.second:
		case <-time.After(time.Second):
		}
		p.mu.Lock()
		p.firstLanding = false
		p.mu.Unlock()
		errs[0] = errors.New("stream rejected the message")
		return errs
	}
}

func (p *pipeProbe) result() (calls int, overlapped bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls, p.overlapped
}

// runPipeProbe emits four events for the given orders in two batches of two and
// returns the probe once the first event's failure is recorded.
func runPipeProbe(t *testing.T, orders [4]int) (*Engine, *pipeProbe) {
	p := newPipeProbe()
	e := openTest(t, Config{Transport: p, BatchSize: 2, BackoffBase: time.Hour, BackoffMax: time.Hour})
	ctx := context.Background()
	for _, order := range orders {
		if _, err := e.Emit(ctx, "order_placed", orderInputs(order, 1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the first event's failure recorded", func() bool {
		a, _ := e.GetEvent(ctx, 1)
		return a.Attempts == 1
	})
	return e, p
}

// A batch holding a later event of an entity in the batch in flight waits for that
// batch's acks: if the earlier event fails, the later one never reaches the broker
// before it.
func TestPipelineWaitsWhenBatchesShareAnEntity(t *testing.T) {
	t.Parallel()
	e, p := runPipeProbe(t, [4]int{1, 2, 1, 3}) // A(order 1) C(order 2) | B(order 1) D(order 3)
	if _, overlapped := p.result(); overlapped {
		t.Fatal("the batch with order 1's second event was sent before the first event's outcome was known")
	}
	eventually(t, 10*time.Second, "D published", func() bool {
		d, _ := e.GetEvent(context.Background(), 4)
		return d.Status == StatusPublished
	})
	if b, _ := e.GetEvent(context.Background(), 3); b.Status != StatusPending || b.Attempts != 0 {
		t.Fatalf("B of order 1: status %s, attempts %d; want pending behind A with no attempt", b.Status, b.Attempts)
	}
}

// Batches of different entities are pipelined: the next one goes out while the acks
// of the one in flight are on their way.
func TestPipelineOverlapsBatchesOfOtherEntities(t *testing.T) {
	e, p := runPipeProbe(t, [4]int{1, 2, 3, 4})
	if calls, overlapped := p.result(); !overlapped {
		t.Fatalf("the second batch (other entities) was not sent while the first was in flight (%d batches sent)", calls)
	}
	eventually(t, 10*time.Second, "the second batch published", func() bool {
		c, _ := e.GetEvent(context.Background(), 3)
		d, _ := e.GetEvent(context.Background(), 4)
		return c.Status == StatusPublished && d.Status == StatusPublished
	})
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
	if ok, err := e.acquireLease(ctx, "the-new-holder", time.Minute, false); err != nil || !ok {
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

// Close during another goroutine's draining Stop waits for the relay to end before it
// closes the database.
func TestCloseWaitsForAConcurrentStop(t *testing.T) {
	ctx := context.Background()
	mt := NewMemoryTransport()
	release := make(chan struct{})
	publishing := make(chan struct{}, 1)
	var once sync.Once
	mt.FailWhere(func(*Event) error { // a slow broker
		publishing <- struct{}{}
		<-release
		return nil
	})
	e, err := Open(ctx, t.TempDir()+"/outbox.db", Config{Schema: testSchema(t), Transport: mt, BatchSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Emit(ctx, "order_placed", orderInputs(1, 1)); err != nil {
		t.Fatal(err)
	}
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	<-publishing
	stopped := make(chan error, 1)
	go func() { stopped <- e.Stop(ctx) }()
	closed := make(chan error, 1)
	go func() { closed <- e.Close() }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while the relay was still publishing", err)
	case <-time.After(50 * time.Millisecond):
	}
	once.Do(func() { close(release) })
	if err := <-stopped; err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if mt.Len() != 1 {
		t.Fatalf("%d events published, want 1", mt.Len())
	}
}

// A relay that lost its lease reports no failure to the hooks either.
func TestFencedFailuresRunNoHooks(t *testing.T) {
	ctx := context.Background()
	dead := make(chan EventInfo, 1)
	e := openTest(t, Config{Hooks: Hooks{OnDeadLettered: func(i EventInfo) { dead <- i }}})
	r, _ := e.Emit(ctx, "order_placed", orderInputs(1, 1))
	ev, _ := e.GetEvent(ctx, r.ID)
	if _, err := e.recordOutcome(ctx, "not-the-holder", []*Event{&ev.Event}, []error{Permanent(errors.New("no"))}, time.Now()); err != nil {
		t.Fatal(err)
	}
	e.hooks.close() // runs what was queued
	select {
	case info := <-dead:
		t.Fatalf("dead-letter hook ran for a fenced failure: %+v", info)
	default:
	}
}

// A refused row does not let a later row with the same key past the cap.
func TestCapRefusesRepeatedKeyInOneCommit(t *testing.T) {
	ctx := context.Background()
	e := openTest(t, Config{MaxPendingEvents: 1})
	if _, err := e.Emit(ctx, "order_placed", orderInputs(1, 1)); err != nil {
		t.Fatal(err)
	}
	r1, _ := e.prepareRow("order_placed", orderInputs(2, 1), []EmitOption{WithIdempotencyKey("same")})
	r2, _ := e.prepareRow("order_placed", orderInputs(3, 1), []EmitOption{WithIdempotencyKey("same")})
	var ids []int64
	err := e.inWriteTx(ctx, "test", func(tx *sql.Tx) error {
		var err error
		ids, err = e.insertWithCaps(ctx, tx, []*row{r1, r2})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if ids[0] != -1 || ids[1] != -1 {
		t.Fatalf("ids %v, want both refused by the cap", ids)
	}
	if st := mustStats(t, e); st.Pending != 1 {
		t.Fatalf("pending %d, want 1", st.Pending)
	}
}
