package metrics_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sort"
	"testing"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
)

// BenchmarkScrapeLargeBacklog scrapes an outbox holding 1M pending events and reports
// the p50 and p99 time of a scrape through the handler (the target is p99 ≤ 5 ms):
//
//	go test -run '^$' -bench ScrapeLargeBacklog -benchtime 200x ./metrics/
func BenchmarkScrapeLargeBacklog(b *testing.B) {
	if testing.Short() {
		b.Skip("builds a 1M-event backlog; skipped under -short")
	}
	const backlog = 1_000_000
	ctx := context.Background()
	e, _ := openEngine(b, edgeoutbox.Config{Synchronous: edgeoutbox.SyncOff, MaxCommitBatch: 1000})
	batch := make([]edgeoutbox.Emission, 1000)
	start := time.Now()
	for n := 0; n < backlog; n += len(batch) {
		for i := range batch {
			batch[i] = edgeoutbox.Emission{Name: "order_placed", Inputs: inputs("Order", n+i)}
		}
		if _, err := e.EmitBatch(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("built a backlog of %d pending events in %v", backlog, time.Since(start).Round(time.Millisecond))
	m := newMetrics(b, e)
	if st, err := e.Stats(ctx); err != nil || st.Pending != backlog {
		b.Fatalf("pending = %d (%v), want %d", st.Pending, err, backlog)
	}
	h, req := m.Handler(), httptest.NewRequest(http.MethodGet, "/metrics", nil)
	runtime.GC() // the backlog's garbage is not the scrape's
	b.Run("pending=1M", func(b *testing.B) {
		b.ReportAllocs()
		took := make([]time.Duration, 0, b.N)
		for range b.N {
			rec := httptest.NewRecorder()
			t0 := time.Now()
			h.ServeHTTP(rec, req)
			took = append(took, time.Since(t0))
			if rec.Code != http.StatusOK {
				b.Fatalf("scrape answered %d: %s", rec.Code, rec.Body)
			}
		}
		sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
		at := func(q float64) float64 { return float64(took[int(q*float64(len(took)-1))].Microseconds()) / 1000 }
		b.ReportMetric(at(0.5), "p50-ms")
		b.ReportMetric(at(0.99), "p99-ms")
	})
}
