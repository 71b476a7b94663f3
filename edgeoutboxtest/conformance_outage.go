package edgeoutboxtest

import (
	"testing"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
)

// testBrokerOutage stops the transport's own broker while the relay runs, emits many
// events, starts the broker again and checks that every event arrives exactly once, in
// order per entity, with no attempt counted and nothing dead-lettered.
func testBrokerOutage(t *testing.T, h *Harness) {
	if h.StopBroker == nil || h.StartBroker == nil {
		t.Skip("the harness sets no StopBroker/StartBroker: the broker's own outage is not tested")
	}
	n := h.OutageEvents
	if n <= 0 {
		n = 1000
	}
	if testing.Short() {
		n = max(n/10, 100)
	}
	const orders = 50
	s := newSuite(t, h, 250, edgeoutbox.Hooks{})
	s.start()
	receipts := s.emit(40, 8)
	s.waitStats("the events before the outage published", func(st edgeoutbox.Stats) bool { return st.Published == 40 })

	h.StopBroker(t)
	for start := 0; start < n; start += 500 {
		batch := make([]edgeoutbox.Emission, 0, 500)
		for i := start; i < min(start+500, n); i++ {
			batch = append(batch, edgeoutbox.Emission{Name: ConformanceEvent.Name(), Inputs: line(i, orders)})
		}
		rs, err := s.e.EmitBatch(s.ctx, batch)
		if err != nil {
			t.Fatalf("emit during the outage: %v", err)
		}
		receipts = append(receipts, rs...)
	}
	// Bring the broker back only once the relay has met the outage, so that the
	// restart really happens under a relay that is waiting for it.
	waitUntil(t, 60*time.Second, "the relay to meet the outage", func() (bool, error) {
		return s.faults.Unavailable.Load() > 0, nil
	})
	st, err := s.e.Stats(s.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Published != 40 || st.DeadLettered != 0 {
		t.Errorf("during the outage: %d published, %d dead letters; want 40 and 0", st.Published, st.DeadLettered)
	}
	h.StartBroker(t)

	st = s.waitStats("every event published", func(st edgeoutbox.Stats) bool { return st.Published == int64(len(receipts)) })
	var got []*edgeoutbox.Event
	waitUntil(t, 60*time.Second, "every event at the broker", func() (bool, error) {
		var err error
		got, err = h.Received(s.ctx)
		if h.AtLeastOnce {
			got = firstArrivals(got)
		}
		return len(got) >= len(receipts), err
	})
	checkOnceInOrder(t, got, receipts)
	if st.DeadLettered != 0 {
		t.Errorf("%d dead letters, want 0", st.DeadLettered)
	}
	for _, r := range receipts {
		ev, err := s.e.GetEvent(s.ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Attempts != 0 {
			t.Fatalf("event %d: %d attempts counted for the outage, want 0 (last error: %s)", r.ID, ev.Attempts, ev.LastError)
		}
	}
}

// firstArrivals drops every event whose idempotency key arrived before.
func firstArrivals(got []*edgeoutbox.Event) []*edgeoutbox.Event {
	seen := make(map[string]bool, len(got))
	out := got[:0:0]
	for _, ev := range got {
		if !seen[ev.IdempotencyKey] {
			seen[ev.IdempotencyKey] = true
			out = append(out, ev)
		}
	}
	return out
}
