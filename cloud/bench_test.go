package cloud_test

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/edgeoutbox/edgeoutbox/cloud"
)

// reporterModes are the reporter set-ups compared in one run: off (the baseline), and
// on against endpoints that answer 500, hang (cut by the default 5 s timeout) or are
// down. Every other setting is the default.
func reporterModes(b *testing.B) map[string]cloud.Config {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close()
	broken := newCollector(b, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) })
	slow := newCollector(b, hang30s)
	return map[string]cloud.Config{
		"off":  {},
		"500":  {Endpoint: broken.URL, APIKey: "k"},
		"slow": {Endpoint: slow.URL, APIKey: "k"},
		"down": {Endpoint: down, APIKey: "k"},
	}
}

// BenchmarkReporterImpact measures Emit latency (ns/op) and relay throughput
// (events/s) with the reporter off and against broken endpoints, in the same run:
//
//	go test -run '^$' -bench ReporterImpact -benchtime 2000x -count 3 ./cloud/
func BenchmarkReporterImpact(b *testing.B) {
	modes := reporterModes(b)
	names := []string{"off", "500", "slow", "down"}
	for _, mode := range names {
		b.Run("emit/"+mode, func(b *testing.B) {
			e, _ := openEngine(b, edgeoutbox.Config{})
			startReporter(b, e, modes[mode])
			emit(b, e, 0)
			b.ResetTimer()
			for i := range b.N {
				emit(b, e, i+1)
			}
		})
	}
	for _, mode := range names {
		b.Run("relay/"+mode, func(b *testing.B) {
			e, mem := openEngine(b, edgeoutbox.Config{})
			startReporter(b, e, modes[mode])
			batch := make([]edgeoutbox.Emission, 0, 500)
			for i := range b.N {
				batch = append(batch, edgeoutbox.Emission{Name: "order_placed",
					Inputs: edgeoutbox.Inputs{"order": order{ClassName: "Order", ID: strconv.Itoa(i) + sentinel, Note: sentinel}}})
				if len(batch) == cap(batch) || i == b.N-1 {
					if _, err := e.EmitBatch(context.Background(), batch); err != nil {
						b.Fatal(err)
					}
					batch = batch[:0]
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			b.ResetTimer()
			start := time.Now()
			if err := e.Start(ctx); err != nil {
				b.Fatal(err)
			}
			if err := mem.WaitFor(ctx, b.N); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
		})
	}
}
