package edgeoutbox

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// meteredPipeline is an ordered pipeline whose acks take a moment: it keeps every
// batch it is given and the most the batches sent and not yet awaited cost at once.
type meteredPipeline struct {
	mu          sync.Mutex
	outstanding int64
	peak        int64
	biggest     int64 // the costliest batch
	published   []*Event
}

func (m *meteredPipeline) Publish(ctx context.Context, ev *Event) error {
	return m.PublishBatch(ctx, []*Event{ev})[0]
}

func (m *meteredPipeline) PublishBatch(ctx context.Context, events []*Event) []error {
	return m.StartBatch(ctx, events)()
}

func (m *meteredPipeline) PipelineDepth(int) int { return 64 }

func (m *meteredPipeline) StartBatch(_ context.Context, events []*Event) func() []error {
	cost := batchCost(events)
	m.mu.Lock()
	m.outstanding += cost
	m.peak = max(m.peak, m.outstanding)
	m.biggest = max(m.biggest, cost)
	for _, ev := range events {
		cp := *ev
		m.published = append(m.published, &cp)
	}
	m.mu.Unlock()
	return func() []error {
		time.Sleep(time.Millisecond) // the ack's round trip
		m.mu.Lock()
		m.outstanding -= cost
		m.mu.Unlock()
		return make([]error, len(events))
	}
}

// The relay keeps what it has sent and not yet recorded within MaxInFlightBytes (plus
// the batch just sent), cuts batches at a quarter of it, and still publishes every
// event once, in order, with its payload.
func TestRelayKeepsInFlightBytesWithinBudget(t *testing.T) {
	t.Parallel()
	const budget = 256 << 10
	tr := &meteredPipeline{}
	e := openTest(t, Config{Transport: tr, Synchronous: SyncOff, MaxInFlightBytes: budget, LeaseTTL: time.Minute})
	note := strings.Repeat("n", 2000)
	const n = 1500
	batch := make([]Emission, 0, n)
	for i := 0; i < n; i++ {
		batch = append(batch, Emission{Name: "order_placed", Inputs: Inputs{
			"order":    testOrder{ClassName: "Order", ID: i % 7, Version: i, Total: 1},
			"customer": map[string]any{"name": note}}})
	}
	if _, err := e.EmitBatch(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := e.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	perEvent := eventCost(tr.published[0])
	if limit := int64(budget/4) + perEvent; tr.biggest > limit {
		t.Errorf("the costliest batch cost %d bytes; batches are cut at %d", tr.biggest, limit)
	}
	if limit := int64(budget) + tr.biggest; tr.peak > limit {
		t.Errorf("batches in flight cost %d bytes at most; the budget is %d plus one batch (%d)", tr.peak, budget, limit)
	}
	if len(tr.published) != n {
		t.Fatalf("published %d events, want %d", len(tr.published), n)
	}
	for i, ev := range tr.published {
		if int(*ev.Entity.Version) != i || !strings.Contains(string(ev.Payload), note) {
			t.Fatalf("event %d: version %d, payload of %d bytes: want version %d with the note", i, *ev.Entity.Version, len(ev.Payload), i)
		}
	}
	if st := mustStats(t, e); st.Pending != 0 || st.Published != n {
		t.Fatalf("stats after Stop: %+v", st)
	}
	t.Logf("budget %d B: peak in flight %d B, costliest batch %d B (%d B per event)", budget, tr.peak, tr.biggest, perEvent)
}
