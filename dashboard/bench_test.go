package dashboard

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
)

// benchDB lets repeated benchmark runs reuse one large outbox file (built if missing).
var benchDB = flag.String("dashboard.benchdb", "", "outbox file for BenchmarkPages to reuse (built there if missing)")

// benchEvents is the size of the benchmark's outbox.
const benchEvents = 1_000_000

// discard publishes by dropping the event, and refuses poison events for good, so the
// benchmark's relay dead-letters one event in a thousand without keeping a million
// copies in memory.
type discard struct{}

func (discard) Publish(_ context.Context, ev *edgeoutbox.Event) error {
	if bytes.Contains(ev.Payload, []byte(poison)) {
		return edgeoutbox.Permanent(errors.New("broker refused the event"))
	}
	return nil
}

func (d discard) PublishBatch(ctx context.Context, evs []*edgeoutbox.Event) []error {
	errs := make([]error, len(evs))
	for i, ev := range evs {
		errs[i] = d.Publish(ctx, ev)
	}
	return errs
}

// buildBacklog fills e with benchEvents events through EmitBatch while the relay
// publishes them (one in a thousand becomes a dead letter), then leaves 10 000 pending.
func buildBacklog(b *testing.B, e *edgeoutbox.Engine) {
	ctx := context.Background()
	if err := e.Start(ctx); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	names := []string{"order_noted", "payment_captured", "parcel_shipped"}
	emit := func(from, n int) {
		batch := make([]edgeoutbox.Emission, 0, 1000)
		for i := from; i < from+n; i++ {
			note := "fine"
			if i%1000 == 999 {
				note = poison
			}
			var em edgeoutbox.Emission
			switch name := names[i%3]; name {
			case "order_noted":
				em = edgeoutbox.Emission{Name: name, Inputs: edgeoutbox.Inputs{"order": map[string]any{"class_name": "Order", "id": i, "note": note, "total": 12.5}}}
			case "payment_captured":
				em = edgeoutbox.Emission{Name: name, Inputs: edgeoutbox.Inputs{"payment": map[string]any{"class_name": "Payment", "id": i, "amount": 12.5, "currency": note}}}
			default:
				em = edgeoutbox.Emission{Name: name, Inputs: edgeoutbox.Inputs{"parcel": map[string]any{"class_name": "Parcel", "id": strconv.Itoa(i), "carrier": note}}}
			}
			batch = append(batch, em)
			if len(batch) == cap(batch) {
				if _, err := e.EmitBatch(ctx, batch); err != nil {
					b.Fatal(err)
				}
				batch = batch[:0]
			}
		}
		if len(batch) > 0 {
			if _, err := e.EmitBatch(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
	}
	emit(0, benchEvents-10_000)
	for {
		s, err := e.Stats(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if s.Pending == 0 {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	stopCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := e.Stop(stopCtx); err != nil {
		b.Fatal(err)
	}
	emit(benchEvents-10_000, 10_000)
	b.Logf("built a %d-event outbox in %v", benchEvents, time.Since(start).Round(time.Second))
}

// BenchmarkPages renders every page of the dashboard over a 1 000 000-event outbox
// (990 000 published, ~1 000 dead letters, 10 000 pending) and reports each page's p50
// and p99 render time. Target: p99 ≤ 50 ms.
//
//	go test ./dashboard/ -run '^$' -bench Pages -benchtime 300x
func BenchmarkPages(b *testing.B) {
	if testing.Short() {
		b.Skip("builds a 1 000 000-event outbox: not under -short")
	}
	ctx := context.Background()
	path := *benchDB
	if path == "" {
		path = filepath.Join(b.TempDir(), "bench.db")
	}
	_, statErr := os.Stat(path)
	schema, _, err := edgeoutbox.NewSchema("").With(orderNoted, paymentCaptured, parcelShipped)
	if err != nil {
		b.Fatal(err)
	}
	e, err := edgeoutbox.Open(ctx, path, edgeoutbox.Config{
		Schema: schema, Transport: discard{}, Synchronous: edgeoutbox.SyncOff, BatchSize: 1000,
		RetentionInterval: -1, PollInterval: 50 * time.Millisecond,
	})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	if statErr != nil {
		buildBacklog(b, e)
	}
	s, err := e.Stats(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("outbox: %d pending, %d published, %d dead letters", s.Pending, s.Published, s.DeadLettered)
	hh, err := New(e, Options{Authorize: BearerToken(testToken)})
	if err != nil {
		b.Fatal(err)
	}
	h := hh.(*handler)
	dead, err := e.DeadLetters(ctx, 1, 0)
	if err != nil || len(dead) == 0 {
		b.Fatalf("no dead letter in the benchmark outbox: %v", err)
	}
	mid := strconv.Itoa(benchEvents / 2)
	pages := []struct{ name, path string }{
		{"overview", "/"},
		{"events", "/events"},
		{"events-deep-page", "/events?before=" + mid},
		{"events-pending", "/events?status=pending"},
		{"events-published-by-name", "/events?status=published&name=parcel_shipped&before=" + mid},
		{"events-dead", "/events?status=dead_lettered"},
		{"events-entity", "/events?entity_class=Order&entity_id=" + strconv.Itoa(benchEvents/2+2)},
		{"events-time-range", "/events?from=2000-01-01T00:00&to=2100-01-01T00:00"},
		{"event", "/events/" + mid},
		{"dead-letters", "/dead-letters"},
		{"dead-letters-by-name", "/dead-letters?name=payment_captured"},
		{"dead-letter", "/events/" + strconv.FormatInt(dead[0].ID, 10)},
		{"confirm", "/dead-letters/confirm?name=order_noted"},
	}
	for _, p := range pages {
		for _, cached := range []bool{true, false} {
			name := p.name
			if p.name == "overview" && !cached {
				name += "-uncached"
			} else if !cached {
				continue
			}
			b.Run(name, func(b *testing.B) {
				ttl := statsTTL
				if !cached {
					ttl = 0
				}
				h.stats.mu.Lock()
				h.stats.ttl = ttl
				h.stats.mu.Unlock()
				took := make([]time.Duration, 0, b.N)
				for b.Loop() {
					req := httptest.NewRequest(http.MethodGet, p.path, nil)
					req.Header.Set("Authorization", "Bearer "+testToken)
					rec := httptest.NewRecorder()
					t0 := time.Now()
					h.ServeHTTP(rec, req)
					took = append(took, time.Since(t0))
					if rec.Code != http.StatusOK {
						b.Fatalf("GET %s: %d\n%s", p.path, rec.Code, rec.Body)
					}
				}
				slices.Sort(took)
				q := func(f float64) float64 {
					return float64(took[int(f*float64(len(took)-1))]) / float64(time.Millisecond)
				}
				b.ReportMetric(q(0.5), "p50-ms")
				b.ReportMetric(q(0.99), "p99-ms")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}
