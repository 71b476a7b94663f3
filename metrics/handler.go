package metrics

import (
	"bytes"
	"net/http"
)

// Handler returns the http.Handler serving the metrics (mount it at /metrics, behind
// whatever authentication the application uses). A failed read of the outbox
// counters answers 500, so the scrape is marked failed instead of showing stale
// gauges.
func (m *Metrics) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "metrics: use GET", http.StatusMethodNotAllowed)
			return
		}
		var buf bytes.Buffer
		if err := m.WritePrometheus(r.Context(), &buf); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_, _ = w.Write(buf.Bytes())
	})
}
