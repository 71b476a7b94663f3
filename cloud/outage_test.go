package cloud_test

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/edgeoutbox/edgeoutbox/cloud"
)

// eventsOnly answers heartbeats with 202 and hands event batches to answer.
func eventsOnly(answer func(n int, w http.ResponseWriter)) func(int, http.ResponseWriter, *http.Request) {
	n := 0
	return func(_ int, w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(cloud.HeaderKind) != cloud.KindEvents {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		answer(n, w)
		n++
	}
}

func eventRequests(t *testing.T, reqs []request) []request {
	var out []request
	for _, r := range reqs {
		if r.envelope(t).Kind == cloud.KindEvents {
			out = append(out, r)
		}
	}
	return out
}

// 500 and 429 answers are retried with the same batch id until accepted; the 429's
// Retry-After is honoured.
func TestReporterRetriesWithSameBatchID(t *testing.T) {
	t.Parallel()
	col := newCollector(t, eventsOnly(func(n int, w http.ResponseWriter) {
		switch n {
		case 0:
			w.WriteHeader(http.StatusInternalServerError)
		case 1:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			w.WriteHeader(http.StatusAccepted)
		}
	}))
	e, _ := openEngine(t, edgeoutbox.Config{})
	cfg := fast(col.URL)
	cfg.BackoffMax = 2 * time.Second
	cfg.BatchSize, cfg.FlushInterval = 3, time.Hour // one batch of exactly the three entries
	r := startReporter(t, e, cfg)
	for i := range 3 {
		emit(t, e, i)
	}
	reqs := eventRequests(t, col.waitFor(t, "an accepted batch", func(reqs []request) bool {
		return len(eventRequests(t, reqs)) >= 3
	}))
	first := reqs[0].envelope(t)
	for _, req := range reqs[1:3] {
		if id := req.envelope(t).BatchID; id != first.BatchID {
			t.Fatalf("re-sent batch has id %s, want %s", id, first.BatchID)
		}
	}
	if len(first.Events) != 3 {
		t.Fatalf("batch has %d entries, want 3", len(first.Events))
	}
	if gap := reqs[2].at.Sub(reqs[1].at); gap < time.Second {
		t.Fatalf("retry came %v after a 429 with Retry-After: 1", gap)
	}
	eventually(t, "the counters", func() bool {
		h := r.Health()
		return h.SentBatches == 1 && h.FailedRequests == 2 && h.Buffered == 0
	})
}

// A refused batch (4xx other than 408/429) is dropped and counted, not retried.
func TestReporterDropsRefusedBatch(t *testing.T) {
	t.Parallel()
	col := newCollector(t, eventsOnly(func(n int, w http.ResponseWriter) {
		if n == 0 {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	e, _ := openEngine(t, edgeoutbox.Config{})
	cfg := fast(col.URL)
	cfg.BatchSize = 1
	r := startReporter(t, e, cfg)
	emit(t, e, 1)
	eventually(t, "the refusal counted", func() bool { return r.Health().RejectedBatches == 1 })
	emit(t, e, 2)
	reqs := eventRequests(t, col.waitFor(t, "the next batch", func(reqs []request) bool { return len(eventRequests(t, reqs)) == 2 }))
	if reqs[0].envelope(t).BatchID == reqs[1].envelope(t).BatchID {
		t.Fatal("the refused batch was sent again")
	}
}

// An endpoint that is down, hangs (30 s, cut by the timeout) or fails changes nothing
// for the application: every Emit succeeds and the relay publishes everything; the
// reporter only counts failed requests, then catches up when the endpoint recovers.
func TestReporterBrokenEndpointChangesNothing(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	downURL := "http://" + ln.Addr().String()
	ln.Close()

	for name, setup := range map[string]func(t *testing.T) string{
		"down": func(t *testing.T) string { return downURL },
		"slow": func(t *testing.T) string { return newCollector(t, hang30s).URL },
		"500": func(t *testing.T) string {
			return newCollector(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }).URL
		},
		"429": func(t *testing.T) string {
			return newCollector(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", "3600")
				w.WriteHeader(http.StatusTooManyRequests)
			}).URL
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			url := setup(t)
			e, mem := openEngine(t, relayConfig())
			cfg := fast(url)
			cfg.Timeout = 100 * time.Millisecond
			r := startReporter(t, e, cfg)
			if err := e.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			n := 30
			if testing.Short() {
				n = 10
			}
			for i := range n {
				emit(t, e, i)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			if err := mem.WaitFor(ctx, n); err != nil {
				t.Fatalf("relay did not publish everything: %v", err)
			}
			eventually(t, "failed requests counted", func() bool { return r.Health().FailedRequests >= 2 })
			if h := r.Health(); h.SentBatches != 0 || h.DroppedTotal != 0 {
				t.Fatalf("health = %+v", h)
			}
			// Stop tries the buffered batch once (bounded by the timeout) and returns.
			stopCtx, stopCancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer stopCancel()
			if err := r.Stop(stopCtx); err != nil {
				t.Fatalf("Stop against a broken endpoint: %v", err)
			}
		})
	}
}

// hang30s answers after 30 s (or when the client gives up): a stuck endpoint.
func hang30s(_ int, w http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(30 * time.Second):
	}
	w.WriteHeader(http.StatusAccepted)
}

// The buffer is bounded: while the sender is stuck, the oldest entries are dropped and
// counted, and the count travels with the next batch.
func TestReporterDropsOldestAndCounts(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	col := newCollector(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 0 { // the start heartbeat: hold the sender until the buffer overflowed
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		w.WriteHeader(http.StatusAccepted)
	})
	e, _ := openEngine(t, edgeoutbox.Config{})
	cfg := fast(col.URL)
	cfg.BufferSize, cfg.BatchSize, cfg.Timeout = 10, 10, 20*time.Second
	r := startReporter(t, e, cfg)
	col.waitFor(t, "the start heartbeat", func(reqs []request) bool { return len(reqs) == 1 })
	for i := range 25 {
		emit(t, e, i)
	}
	if h := r.Health(); h.DroppedTotal != 15 || h.Buffered != 10 {
		t.Fatalf("health after 25 entries into a buffer of 10 = %+v, want 15 dropped, 10 buffered", h)
	}
	close(release)
	reqs := col.waitFor(t, "the batch", func(reqs []request) bool { return len(reqs) == 2 })
	env := reqs[1].envelope(t)
	if env.DroppedTotal != 15 || len(env.Events) != 10 {
		t.Fatalf("batch says %d dropped with %d entries, want 15 and 10", env.DroppedTotal, len(env.Events))
	}
	// The newest survive: event ids 16..25.
	if first := env.Events[0].EventID; first != 16 {
		t.Fatalf("oldest entry kept is event %d, want 16", first)
	}
}

// Stop sends what is buffered before it returns.
func TestReporterStopSendsBuffered(t *testing.T) {
	t.Parallel()
	col := newCollector(t, nil)
	e, _ := openEngine(t, edgeoutbox.Config{})
	cfg := fast(col.URL)
	cfg.FlushInterval, cfg.BatchSize = time.Hour, 50
	r := startReporter(t, e, cfg)
	for i := range 5 {
		emit(t, e, i)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(entries(t, col.requests())); got != 5 {
		t.Fatalf("after Stop the collector has %d entries, want 5", got)
	}
	if err := r.Stop(ctx); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if err := r.Start(ctx); err == nil {
		t.Fatal("Start after Stop succeeded")
	}
}
