package metrics_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
)

// A known sequence — 5 order_placed (one failing twice before it goes through) and 3
// parcel_sent refused for good — reads back exactly, then pending and the relay's
// state follow the outbox.
func TestScrapeReadsExactValues(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, mem := openEngine(t, edgeoutbox.Config{
		MaxAttempts: 5, BackoffBase: time.Millisecond, BackoffMax: 5 * time.Millisecond,
		PollInterval: 5 * time.Millisecond, OfflineProbeInterval: 10 * time.Millisecond,
	})
	var flaky atomic.Int32
	mem.FailWhere(func(ev *edgeoutbox.Event) error {
		switch {
		case ev.Name == "parcel_sent":
			return edgeoutbox.Permanent(errors.New("refused"))
		case ev.Entity.ID == "2" && flaky.Add(1) <= 2:
			return errors.New("flaky")
		}
		return nil
	})
	m := newMetrics(t, e)
	srv := httptest.NewServer(m.Handler())
	t.Cleanup(srv.Close)

	before := scrape(t, srv.URL)
	for _, s := range []string{
		`edgeoutbox_events_emitted_total{event="order_placed"}`, `edgeoutbox_events_emitted_total{event="parcel_sent"}`,
		`edgeoutbox_events_published_total{event="order_placed"}`, `edgeoutbox_events_dead_lettered_total{event="parcel_sent"}`,
		`edgeoutbox_pending_events`, `edgeoutbox_relay_running`,
	} {
		if v, ok := before[s]; !ok || v != 0 {
			t.Fatalf("before any event %s = %v (present %v), want 0", s, v, ok)
		}
	}

	for i := 1; i <= 5; i++ {
		if _, err := e.Emit(ctx, "order_placed", inputs("Order", i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= 3; i++ {
		if _, err := e.Emit(ctx, "parcel_sent", inputs("Parcel", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "5 published and 3 dead letters", func() bool {
		st, err := e.Stats(ctx)
		return err == nil && st.Published == 5 && st.DeadLettered == 3
	})
	st, err := e.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := scrape(t, srv.URL)
	want := map[string]float64{
		`edgeoutbox_events_emitted_total{event="order_placed"}`:                     5,
		`edgeoutbox_events_emitted_total{event="parcel_sent"}`:                      3,
		`edgeoutbox_events_published_total{event="order_placed"}`:                   5,
		`edgeoutbox_events_published_total{event="parcel_sent"}`:                    0,
		`edgeoutbox_publish_failures_total{event="order_placed",class="transient"}`: 2,
		`edgeoutbox_events_dead_lettered_total{event="order_placed"}`:               0,
		`edgeoutbox_events_dead_lettered_total{event="parcel_sent"}`:                3,
		`edgeoutbox_pending_events`:                                                 0,
		`edgeoutbox_oldest_pending_age_seconds`:                                     0,
		`edgeoutbox_dead_letters`:                                                   3,
		`edgeoutbox_published_events`:                                               5,
		`edgeoutbox_outbox_bytes`:                                                   float64(st.OutboxBytes),
		`edgeoutbox_relay_running`:                                                  1,
		`edgeoutbox_relay_holds_lease`:                                              1,
		`edgeoutbox_transport_online`:                                               1,
		`edgeoutbox_publish_latency_seconds_count`:                                  5,
		`edgeoutbox_publish_latency_seconds_bucket{le="+Inf"}`:                      5,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	for k := range got {
		if strings.HasPrefix(k, "edgeoutbox_publish_failures_total") && k != `edgeoutbox_publish_failures_total{event="order_placed",class="transient"}` {
			t.Errorf("unexpected failure series %s = %v", k, got[k])
		}
	}
	if st.OutboxBytes <= 0 || got[`edgeoutbox_publish_latency_seconds_sum`] <= 0 {
		t.Errorf("outbox bytes %d, latency sum %v: want both above 0", st.OutboxBytes, got[`edgeoutbox_publish_latency_seconds_sum`])
	}

	// Offline transport: the relay says so and the backlog shows.
	mem.SetOffline(true)
	for i := 6; i <= 7; i++ {
		if _, err := e.Emit(ctx, "order_placed", inputs("Order", i)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "transport offline in the scrape", func() bool {
		g := scrape(t, srv.URL)
		return g[`edgeoutbox_transport_online`] == 0 && g[`edgeoutbox_pending_events`] == 2 &&
			g[`edgeoutbox_oldest_pending_age_seconds`] > 0 && g[`edgeoutbox_events_emitted_total{event="order_placed"}`] == 7
	})
	mem.SetOffline(false)
	eventually(t, "back online and drained", func() bool {
		g := scrape(t, srv.URL)
		return g[`edgeoutbox_transport_online`] == 1 && g[`edgeoutbox_pending_events`] == 0 &&
			g[`edgeoutbox_events_published_total{event="order_placed"}`] == 7
	})
	if err := e.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	got = scrape(t, srv.URL)
	if got[`edgeoutbox_relay_running`] != 0 || got[`edgeoutbox_relay_holds_lease`] != 0 {
		t.Errorf("after Stop: running %v, holds lease %v", got[`edgeoutbox_relay_running`], got[`edgeoutbox_relay_holds_lease`])
	}
}

func TestHandlerAnswers(t *testing.T) {
	t.Parallel()
	e, _ := openEngine(t, edgeoutbox.Config{})
	m := newMetrics(t, e)
	srv := httptest.NewServer(m.Handler())
	t.Cleanup(srv.Close)
	resp, err := http.Post(srv.URL, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST answered %s", resp.Status)
	}
	e.Close()
	resp, err = http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("scrape of a closed engine answered %s, want 500", resp.Status)
	}
}
