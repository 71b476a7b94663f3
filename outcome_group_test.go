package edgeoutbox

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// TestRecordOutcomesGroupsBatches records three landed batches in one transaction: each
// event ends as if its batch had been recorded alone (published, retry scheduled with
// one attempt, or pending with no attempt when held back or the transport was
// unavailable), the counters stay exact, and the hooks still run once per batch.
func TestRecordOutcomesGroupsBatches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var mu sync.Mutex
	var batches []int
	failed := 0
	e := openTest(t, Config{Hooks: Hooks{
		OnBatchPublished: func(b BatchInfo) { mu.Lock(); batches = append(batches, b.Count); mu.Unlock() },
		OnPublishFailed:  func(EventInfo) { mu.Lock(); failed++; mu.Unlock() },
	}})
	// Orders 1..3: order 1 is the entity whose event fails, then waits behind it.
	inputs := []int{2, 1, 2, 1, 3, 3}
	em := make([]Emission, len(inputs))
	for i, order := range inputs {
		em[i] = Emission{Name: "order_placed", Inputs: orderInputs(order, i+1)}
	}
	ids, err := e.EmitBatch(ctx, em)
	if err != nil {
		t.Fatal(err)
	}
	evs := make([]*Event, len(ids))
	for i, id := range ids {
		se, err := e.GetEvent(ctx, id.ID)
		if err != nil {
			t.Fatal(err)
		}
		evs[i] = &se.Event
	}
	down := Unavailable(errors.New("link down"))
	outs := []outcome{
		{batch: evs[0:2], errs: []error{nil, errors.New("stream full")}, started: time.Now()},
		{batch: evs[2:4], errs: []error{nil, errHeldBack}, started: time.Now()},
		{batch: evs[4:6], errs: []error{nil, down}, started: time.Now()},
	}
	unavailable, err := e.recordOutcomes(ctx, "", outs)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(unavailable, ErrTransportUnavailable) {
		t.Fatalf("unavailable = %v, want the third batch's error", unavailable)
	}
	want := []struct {
		status   Status
		attempts int
	}{{StatusPublished, 0}, {StatusPending, 1}, {StatusPublished, 0}, {StatusPending, 0}, {StatusPublished, 0}, {StatusPending, 0}}
	for i, w := range want {
		se, err := e.GetEvent(ctx, ids[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		if se.Status != w.status || se.Attempts != w.attempts {
			t.Errorf("event %d: %s with %d attempts, want %s with %d", i, se.Status, se.Attempts, w.status, w.attempts)
		}
	}
	checkCounters(t, e, "after three batches recorded together")
	// Hooks run on their own goroutine.
	eventually(t, 10*time.Second, "hooks for three batches and one failure", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(batches) == 3 && failed == 1
	})
	mu.Lock()
	defer mu.Unlock()
	if batches[0] != 1 || batches[1] != 1 || batches[2] != 1 {
		t.Fatalf("hooks saw batches %v, want [1 1 1]", batches)
	}
}
