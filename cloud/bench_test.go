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

// modes are the reporter set-ups compared: off twice (the baseline, and a second one
// whose gap to the first shows the noise), and on against endpoints that answer 500,
// hang (cut by the default 5 s timeout) or are down. Every other reporter setting is
// the default.
var modes = []string{"off", "off2", "500", "slow", "down"}

func modeConfigs(b *testing.B) map[string]cloud.Config {
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
		"off2": {},
		"500":  {Endpoint: broken.URL, APIKey: "k"},
		"slow": {Endpoint: slow.URL, APIKey: "k"},
		"down": {Endpoint: down, APIKey: "k"},
	}
}

// BenchmarkReporterImpact compares, in one run, Emit latency and relay throughput with
// the reporter off and against broken endpoints. The modes are interleaved (one emit,
// or one drain, per mode in turn) so that the machine's load drifts equally over all
// of them, each going first in turn; synchronous=OFF keeps fsync noise from hiding a CPU cost. One op is 500
// emits per mode, or one drain of 2000 events per mode:
//
//	go test -run '^$' -bench ReporterImpact -benchtime 6x ./cloud/
func BenchmarkReporterImpact(b *testing.B) {
	cfgs := modeConfigs(b)
	open := func(b *testing.B) (map[string]*edgeoutbox.Engine, map[string]*edgeoutbox.MemoryTransport) {
		es, mems := map[string]*edgeoutbox.Engine{}, map[string]*edgeoutbox.MemoryTransport{}
		for _, mode := range modes {
			es[mode], mems[mode] = openEngine(b, edgeoutbox.Config{Synchronous: edgeoutbox.SyncOff})
			startReporter(b, es[mode], cfgs[mode])
		}
		return es, mems
	}
	b.Run("emit", func(b *testing.B) {
		const perRound = 500
		es, _ := open(b)
		took := map[string]time.Duration{}
		for _, mode := range modes {
			emit(b, es[mode], 0)
		}
		b.ResetTimer()
		for i := range b.N * perRound {
			for _, mode := range rotate(modes, i) {
				t0 := time.Now()
				emit(b, es[mode], i+1)
				took[mode] += time.Since(t0)
			}
		}
		for _, mode := range modes {
			b.ReportMetric(float64(took[mode].Nanoseconds())/float64(b.N*perRound), "ns/emit-"+mode)
		}
	})
	b.Run("relay", func(b *testing.B) {
		const perDrain = 2000
		es, mems := open(b)
		took := map[string]time.Duration{}
		batch := make([]edgeoutbox.Emission, 0, 500)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		b.ResetTimer()
		for round := range b.N {
			for _, mode := range rotate(modes, round) {
				b.StopTimer()
				for i := range perDrain {
					id := strconv.Itoa(round*perDrain+i) + sentinel
					batch = append(batch, edgeoutbox.Emission{Name: "order_placed",
						Inputs: edgeoutbox.Inputs{"order": order{ClassName: "Order", ID: id, Note: sentinel}}})
					if len(batch) == cap(batch) {
						if _, err := es[mode].EmitBatch(ctx, batch); err != nil {
							b.Fatal(err)
						}
						batch = batch[:0]
					}
				}
				b.StartTimer()
				t0 := time.Now()
				if err := es[mode].Start(ctx); err != nil {
					b.Fatal(err)
				}
				if err := mems[mode].WaitFor(ctx, (round+1)*perDrain); err != nil {
					b.Fatal(err)
				}
				took[mode] += time.Since(t0)
				if err := es[mode].Stop(ctx); err != nil {
					b.Fatal(err)
				}
			}
		}
		for _, mode := range modes {
			b.ReportMetric(float64(b.N*perDrain)/took[mode].Seconds(), "events/s-"+mode)
		}
	})
}

// rotate returns s starting at index i mod len(s), so no mode always goes first.
func rotate(s []string, i int) []string {
	i %= len(s)
	return append(append([]string(nil), s[i:]...), s[:i]...)
}
