package edgeoutboxtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
)

// Harness is one transport under test for RunTransportConformance.
type Harness struct {
	// Transport is the transport under test, connected and ready.
	Transport edgeoutbox.Transport
	// Received returns every event the broker has received so far, in arrival order,
	// decoded back into Events. Duplicates must be included: the suite checks there are
	// none.
	Received func(ctx context.Context) ([]*edgeoutbox.Event, error)
	// StopBroker and StartBroker, when both set, take the transport's own broker down
	// (clients see a real disconnect) and bring it back on the same address with the
	// same storage, so that what it stored before is still there. Without them the
	// outage subtests are skipped.
	StopBroker  func(t *testing.T)
	StartBroker func(t *testing.T)
	// OutageEvents is how many events the broker-outage subtest emits while the
	// broker is down (default 1000; a tenth, at least 100, under -short).
	OutageEvents int
	// AtLeastOnce says the broker cannot drop a re-send (core NATS): a batch whose
	// outcome was unknown around the outage (a flush that timed out although the
	// server had the messages) arrives twice. The outage subtest then checks that
	// every event arrived and that first arrivals keep each entity's order.
	AtLeastOnce bool
}

// RunTransportConformance runs the transport conformance suite: every transport
// shipped with edgeoutbox passes it, and so should a custom one. newHarness is called
// once per subtest and must return a fresh, empty broker (or a distinct subject space).
// Faults are injected in front of the transport (FaultyTransport), so the suite checks
// the engine and transport together: attributes survive the trip, batch boundaries,
// per-entity order under failures, a long outage with no attempts counted, permanent
// errors, max attempts, dead-letter retry and retention. It also calls every optional
// capability the transport offers (PublishBatch, StartBatch, WaitAvailable) directly,
// and, when the harness can stop and start the broker, drives the relay through a
// real outage of the broker itself.
func RunTransportConformance(t *testing.T, newHarness func(t *testing.T) *Harness) {
	t.Run("DeliversEveryEventOnceIntact", func(t *testing.T) { testDeliversOnce(t, newHarness(t)) })
	t.Run("BatchBoundaries", func(t *testing.T) { testBatchBoundaries(t, newHarness(t)) })
	t.Run("PerEntityOrderUnderFailures", func(t *testing.T) { testOrderUnderFailures(t, newHarness(t)) })
	t.Run("OfflineCountsNoAttempts", func(t *testing.T) { testOffline(t, newHarness(t)) })
	t.Run("PermanentErrorDeadLettersAtOnce", func(t *testing.T) { testPermanent(t, newHarness(t)) })
	t.Run("MaxAttemptsDeadLetters", func(t *testing.T) { testMaxAttempts(t, newHarness(t)) })
	t.Run("RetryDeadLetters", func(t *testing.T) { testRetryDeadLetters(t, newHarness(t)) })
	t.Run("RetentionKeepsPendingAndRecent", func(t *testing.T) { testRetention(t, newHarness(t)) })
	t.Run("Capabilities", func(t *testing.T) { testCapabilities(t, newHarness(t)) })
	t.Run("BrokerOutage", func(t *testing.T) { testBrokerOutage(t, newHarness(t)) })
}

// suite is one subtest's engine over a faulty wrapper of the harness transport.
type suite struct {
	t      *testing.T
	h      *Harness
	faults *FaultyTransport
	e      *edgeoutbox.Engine
	ctx    context.Context
}

const conformanceMaxAttempts = 3

func newSuite(t *testing.T, h *Harness, batchSize int, hooks edgeoutbox.Hooks) *suite {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	faults := NewFaultyTransport(h.Transport)
	e, err := edgeoutbox.Open(ctx, filepath.Join(t.TempDir(), "outbox.db"), edgeoutbox.Config{
		Schema:               ConformanceSchema(t),
		Transport:            faults.Wrap(),
		BatchSize:            batchSize,
		MaxAttempts:          conformanceMaxAttempts,
		BackoffBase:          5 * time.Millisecond,
		BackoffMax:           20 * time.Millisecond,
		PollInterval:         20 * time.Millisecond,
		OfflineProbeInterval: 5 * time.Millisecond,
		Synchronous:          edgeoutbox.SyncNormal,
		Hooks:                hooks,
	})
	if err != nil {
		t.Fatalf("open engine: %v", err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("close engine: %v", err)
		}
	})
	return &suite{t: t, h: h, faults: faults, e: e, ctx: ctx}
}

func (s *suite) start() {
	s.t.Helper()
	if err := s.e.Start(s.ctx); err != nil {
		s.t.Fatalf("start relay: %v", err)
	}
}

// line returns the inputs of event i: entities cycle over n orders, seq counts per order.
func line(i, orders int) edgeoutbox.Inputs {
	return edgeoutbox.Inputs{"line": map[string]any{
		"kind":   "order",
		"order":  "o-" + strconv.Itoa(i%orders),
		"seq":    i / orders,
		"amount": float64(i) + 0.25,
		"note":   fmt.Sprintf("line %d", i),
	}}
}

// emit emits n events over the given number of orders and returns their receipts.
func (s *suite) emit(n, orders int, opts ...edgeoutbox.EmitOption) []edgeoutbox.Receipt {
	s.t.Helper()
	out := make([]edgeoutbox.Receipt, n)
	for i := 0; i < n; i++ {
		r, err := s.e.Emit(s.ctx, ConformanceEvent.Name(), line(i, orders), opts...)
		if err != nil {
			s.t.Fatalf("emit %d: %v", i, err)
		}
		out[i] = r
	}
	return out
}

// waitUntil polls cond until it holds or the deadline passes.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitStats waits until cond holds for the engine's stats.
func (s *suite) waitStats(what string, cond func(edgeoutbox.Stats) bool) edgeoutbox.Stats {
	s.t.Helper()
	var st edgeoutbox.Stats
	waitUntil(s.t, 60*time.Second, what, func() (bool, error) {
		var err error
		st, err = s.e.Stats(s.ctx)
		return err == nil && cond(st), err
	})
	return st
}

// received waits until the broker holds n events and returns them.
func (s *suite) received(n int) []*edgeoutbox.Event {
	s.t.Helper()
	var got []*edgeoutbox.Event
	waitUntil(s.t, 60*time.Second, fmt.Sprintf("%d events at the broker", n), func() (bool, error) {
		var err error
		got, err = s.h.Received(s.ctx)
		return len(got) >= n, err
	})
	return got
}

// checkOnceInOrder checks that got holds each receipt exactly once and that events of
// one entity arrived in emission order.
func checkOnceInOrder(t *testing.T, got []*edgeoutbox.Event, want []edgeoutbox.Receipt) {
	t.Helper()
	seen := map[string]int{}
	lastByEntity := map[string]int64{}
	for _, ev := range got {
		seen[ev.IdempotencyKey]++
		k := ev.Entity.Class + "/" + ev.Entity.ID
		if ev.ID <= lastByEntity[k] {
			t.Errorf("entity %s: event %d arrived after event %d", k, ev.ID, lastByEntity[k])
		}
		lastByEntity[k] = ev.ID
	}
	for _, r := range want {
		if seen[r.IdempotencyKey] != 1 {
			t.Errorf("event %d (%s) received %d times, want once", r.ID, r.IdempotencyKey, seen[r.IdempotencyKey])
		}
	}
	if len(got) != len(want) {
		t.Errorf("broker holds %d events, want %d", len(got), len(want))
	}
}

func testDeliversOnce(t *testing.T, h *Harness) {
	s := newSuite(t, h, 50, edgeoutbox.Hooks{})
	occurred := time.Date(2026, 1, 2, 3, 4, 5, 600000000, time.UTC)
	meta := map[string]string{"request_id": "req-1", "source": "conformance"}
	receipts := s.emit(120, 7, edgeoutbox.WithOccurredAt(occurred), edgeoutbox.WithMetadata(meta))
	s.start()
	got := s.received(len(receipts))
	s.waitStats("all published", func(st edgeoutbox.Stats) bool { return st.Published == int64(len(receipts)) })
	checkOnceInOrder(t, got, receipts)
	byKey := map[string]*edgeoutbox.Event{}
	for _, ev := range got {
		byKey[ev.IdempotencyKey] = ev
	}
	for i, r := range receipts {
		ev := byKey[r.IdempotencyKey]
		if ev == nil {
			continue
		}
		if ev.ID != r.ID || ev.Name != ConformanceEvent.Name() || ev.Type != "domain" || ev.Version != 1 {
			t.Errorf("event %d: id/name/type/version = %d/%s/%s/%d", i, ev.ID, ev.Name, ev.Type, ev.Version)
		}
		if ev.Entity.Class != "order" || ev.Entity.ID != "o-"+strconv.Itoa(i%7) || ev.Entity.Version == nil || *ev.Entity.Version != int64(i/7) {
			t.Errorf("event %d: entity = %+v", i, ev.Entity)
		}
		var payload map[string]any
		if err := json.Unmarshal(ev.Payload, &payload); err != nil {
			t.Errorf("event %d: payload %s: %v", i, ev.Payload, err)
		} else if payload["amount"] != float64(i)+0.25 || payload["note"] != fmt.Sprintf("line %d", i) {
			t.Errorf("event %d: payload = %s", i, ev.Payload)
		}
		if !ev.OccurredAt.Equal(occurred) {
			t.Errorf("event %d: occurred at %v, want %v", i, ev.OccurredAt, occurred)
		}
		if ev.Metadata["request_id"] != "req-1" || ev.Metadata["source"] != "conformance" {
			t.Errorf("event %d: metadata = %v", i, ev.Metadata)
		}
	}
}

func testBatchBoundaries(t *testing.T, h *Harness) {
	const batchSize, n = 16, 16*5 + 3
	batches := make(chan edgeoutbox.BatchInfo, 100)
	s := newSuite(t, h, batchSize, edgeoutbox.Hooks{OnBatchPublished: func(b edgeoutbox.BatchInfo) { batches <- b }})
	receipts := s.emit(n, 5)
	s.start()
	checkOnceInOrder(t, s.received(n), receipts)
	total := 0
	for total < n {
		select {
		case b := <-batches:
			if b.Count < 1 || b.Count > batchSize {
				t.Errorf("a batch published %d events, want 1..%d", b.Count, batchSize)
			}
			total += b.Count
		case <-time.After(30 * time.Second):
			t.Fatalf("batch hooks account for %d of %d events", total, n)
		}
	}
	if total != n {
		t.Errorf("batch hooks count %d events, want %d", total, n)
	}
}

func testOrderUnderFailures(t *testing.T, h *Harness) {
	s := newSuite(t, h, 20, edgeoutbox.Hooks{})
	// Every fifth event fails twice before it goes through: its later siblings must wait.
	failures := map[int64]int{}
	s.faults.FailWhere(func(ev *edgeoutbox.Event) error {
		if ev.ID%5 == 0 && failures[ev.ID] < 2 {
			failures[ev.ID]++
			return errors.New("conformance: injected transient failure")
		}
		return nil
	})
	receipts := s.emit(100, 4)
	s.start()
	got := s.received(len(receipts))
	st := s.waitStats("all published", func(st edgeoutbox.Stats) bool { return st.Published == int64(len(receipts)) })
	checkOnceInOrder(t, got, receipts)
	if st.DeadLettered != 0 {
		t.Errorf("%d dead letters, want 0", st.DeadLettered)
	}
}

func testOffline(t *testing.T, h *Harness) {
	s := newSuite(t, h, 25, edgeoutbox.Hooks{})
	s.faults.SetOffline(true)
	s.start()
	receipts := s.emit(60, 3)
	// Stay offline for many times MaxAttempts probes: none may count as an attempt.
	waitUntil(t, 30*time.Second, "the relay to probe the offline transport", func() (bool, error) {
		return s.faults.OfflineCalls.Load() >= 20*conformanceMaxAttempts, nil
	})
	st, err := s.e.Stats(s.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Pending != int64(len(receipts)) || st.DeadLettered != 0 {
		t.Fatalf("while offline: %d pending, %d dead letters; want %d and 0", st.Pending, st.DeadLettered, len(receipts))
	}
	s.faults.SetOffline(false)
	got := s.received(len(receipts))
	s.waitStats("all published", func(st edgeoutbox.Stats) bool { return st.Published == int64(len(receipts)) })
	checkOnceInOrder(t, got, receipts)
	for _, r := range receipts {
		ev, err := s.e.GetEvent(s.ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Attempts != 0 {
			t.Errorf("event %d: %d attempts counted for an outage, want 0", r.ID, ev.Attempts)
		}
	}
}

func testPermanent(t *testing.T, h *Harness) {
	dead := make(chan edgeoutbox.EventInfo, 10)
	s := newSuite(t, h, 10, edgeoutbox.Hooks{OnDeadLettered: func(i edgeoutbox.EventInfo) { dead <- i }})
	receipts := s.emit(10, 10)
	poison := receipts[3]
	s.faults.FailWhere(func(ev *edgeoutbox.Event) error {
		if ev.ID == poison.ID {
			return edgeoutbox.Permanent(errors.New("conformance: rejected for good"))
		}
		return nil
	})
	s.start()
	s.waitStats("9 published, 1 dead letter", func(st edgeoutbox.Stats) bool { return st.Published == 9 && st.DeadLettered == 1 })
	ev, err := s.e.GetEvent(s.ctx, poison.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Status != edgeoutbox.StatusDeadLettered || ev.Attempts != 1 || ev.LastErrorClass != edgeoutbox.ErrorClassPermanent {
		t.Errorf("poison event: status %s, attempts %d, class %q; want dead_lettered, 1, permanent", ev.Status, ev.Attempts, ev.LastErrorClass)
	}
	select {
	case info := <-dead:
		if info.EventID != poison.ID || info.ErrorClass != edgeoutbox.ErrorClassPermanent || info.ErrorMessage == "" {
			t.Errorf("dead-letter hook: %+v", info)
		}
	case <-time.After(10 * time.Second):
		t.Error("no dead-letter hook")
	}
	checkOnceInOrder(t, s.received(9), append(receipts[:3:3], receipts[4:]...))
}

func testMaxAttempts(t *testing.T, h *Harness) {
	s := newSuite(t, h, 10, edgeoutbox.Hooks{})
	receipts := s.emit(5, 5)
	bad := receipts[1]
	s.faults.FailWhere(func(ev *edgeoutbox.Event) error {
		if ev.ID == bad.ID {
			return errors.New("conformance: always fails")
		}
		return nil
	})
	s.start()
	s.waitStats("4 published, 1 dead letter", func(st edgeoutbox.Stats) bool { return st.Published == 4 && st.DeadLettered == 1 })
	ev, err := s.e.GetEvent(s.ctx, bad.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Attempts != conformanceMaxAttempts || ev.LastErrorClass != edgeoutbox.ErrorClassMaxAttempts || ev.LastError == "" {
		t.Errorf("failing event: attempts %d, class %q, error %q; want %d, max_attempts, the error", ev.Attempts, ev.LastErrorClass, ev.LastError, conformanceMaxAttempts)
	}
}

func testRetryDeadLetters(t *testing.T, h *Harness) {
	s := newSuite(t, h, 10, edgeoutbox.Hooks{})
	receipts := s.emit(6, 6)
	s.faults.FailWhere(func(ev *edgeoutbox.Event) error {
		if ev.ID%2 == 0 {
			return edgeoutbox.Permanent(errors.New("conformance: broker refuses for now"))
		}
		return nil
	})
	s.start()
	s.waitStats("3 dead letters", func(st edgeoutbox.Stats) bool { return st.Published == 3 && st.DeadLettered == 3 })
	dead, err := s.e.DeadLetters(s.ctx, 10, 0)
	if err != nil || len(dead) != 3 {
		t.Fatalf("DeadLetters = %d, %v; want 3", len(dead), err)
	}
	s.faults.FailWhere(nil)
	if err := s.e.RetryDeadLetter(s.ctx, dead[0].ID); err != nil {
		t.Fatal(err)
	}
	s.waitStats("one retried", func(st edgeoutbox.Stats) bool { return st.Published == 4 && st.DeadLettered == 2 })
	if n, err := s.e.RetryAllDeadLetters(s.ctx); err != nil || n != 2 {
		t.Fatalf("RetryAllDeadLetters = %d, %v; want 2", n, err)
	}
	s.waitStats("all retried", func(st edgeoutbox.Stats) bool { return st.Published == 6 && st.DeadLettered == 0 })
	if err := s.e.RetryDeadLetter(s.ctx, receipts[1].ID); !errors.Is(err, edgeoutbox.ErrNotFound) {
		t.Errorf("retry of a published event: %v, want ErrNotFound", err)
	}
	checkOnceInOrder(t, s.received(6), receipts) // same keys as first emitted
}

func testRetention(t *testing.T, h *Harness) {
	s := newSuite(t, h, 10, edgeoutbox.Hooks{})
	published := s.emit(8, 2)
	s.start()
	s.waitStats("published", func(st edgeoutbox.Stats) bool { return st.Published == int64(len(published)) })
	s.faults.SetOffline(true)
	pending := s.emit(5, 2)
	// Recent published events survive a one-hour retention.
	res, err := s.e.CleanupOlderThan(s.ctx, time.Hour, time.Hour)
	if err != nil || res.Published != 0 {
		t.Fatalf("cleanup keeping an hour: %+v, %v; want nothing deleted", res, err)
	}
	res, err = s.e.CleanupOlderThan(s.ctx, 0, 0)
	if err != nil || res.Published != int64(len(published)) {
		t.Fatalf("cleanup of everything published: %+v, %v; want %d deleted", res, err, len(published))
	}
	for _, r := range pending {
		ev, err := s.e.GetEvent(s.ctx, r.ID)
		if err != nil || ev.Status != edgeoutbox.StatusPending {
			t.Fatalf("pending event %d after cleanup: %v, %v", r.ID, ev, err)
		}
	}
	s.faults.SetOffline(false)
	s.waitStats("pending published after cleanup", func(st edgeoutbox.Stats) bool { return st.Published == int64(len(pending)) && st.Pending == 0 })
}
