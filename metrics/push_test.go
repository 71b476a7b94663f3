package metrics_test

import (
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/edgeoutbox/edgeoutbox/metrics"
)

type pushed struct {
	method, auth string
	series       map[string]float64
}

func pushReceiver(t *testing.T) (*httptest.Server, func() []pushed) {
	var mu sync.Mutex
	var got []pushed
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = zr
		}
		series, err := parseText(body)
		if err != nil {
			t.Errorf("pushed body: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		p := pushed{method: r.Method, auth: r.Header.Get("Authorization"), series: series}
		mu.Lock()
		got = append(got, p)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []pushed {
		mu.Lock()
		defer mu.Unlock()
		return append([]pushed(nil), got...)
	}
}

func TestPushSendsLabelledExposition(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, received := pushReceiver(t)
	e, _ := openEngine(t, edgeoutbox.Config{})
	m := newMetrics(t, e)
	if _, err := e.Emit(ctx, "order_placed", inputs("Order", 1)); err != nil {
		t.Fatal(err)
	}
	cfg := metrics.PushConfig{
		URL: srv.URL + "/api/v1/import/prometheus", Labels: map[string]string{"instance": "till-7"},
		Headers: map[string]string{"Authorization": "Bearer push-key"}, Interval: 20 * time.Millisecond,
	}
	if err := m.PushOnce(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	p := received()[0]
	if p.method != http.MethodPost || p.auth != "Bearer push-key" {
		t.Fatalf("push used %s with Authorization %q", p.method, p.auth)
	}
	if v := p.series[`edgeoutbox_events_emitted_total{instance="till-7",event="order_placed"}`]; v != 1 {
		t.Fatalf("pushed emitted counter = %v; series: %v", v, p.series)
	}
	if v, ok := p.series[`edgeoutbox_pending_events{instance="till-7"}`]; !ok || v != 1 {
		t.Fatalf("pushed pending = %v (present %v)", v, ok)
	}

	if err := m.StartPush(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	eventually(t, "periodic pushes", func() bool { return len(received()) >= 3 })
	if err := m.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.StartPush(ctx, cfg); err == nil {
		t.Fatal("StartPush after Close started a push loop nobody would stop")
	}
	if err := m.PushOnce(ctx, metrics.PushConfig{URL: "ftp://x"}); err == nil {
		t.Fatal("a push URL that is not http(s) was accepted")
	}
}
