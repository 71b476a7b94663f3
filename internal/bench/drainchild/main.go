// Command drainchild is the process the memory benchmark measures (edgeoutbox bench
// --only memory): it opens a backlog, relays it to a JetStream server through
// edgeoutbox.DialNATS and the NATS transport, as an application would, and prints one
// JSON line with the drain's duration and the peak of its Go heap, sampled every
// 100 ms. Its parent samples its resident set size from outside.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/edgeoutbox/edgeoutbox/internal/bench"
)

// result is the line drainchild prints.
type result struct {
	Events    int   `json:"events"`
	ElapsedNS int64 `json:"elapsed_ns"`
	PeakHeap  int64 `json:"peak_heap_bytes"`
	HighWater int64 `json:"high_water_bytes"` // VmHWM (Linux), 0 elsewhere
}

func main() {
	db := flag.String("db", "", "the backlog database")
	url := flag.String("url", "", "the NATS server")
	events := flag.Int("events", 0, "how many events the backlog holds")
	flag.Parse()
	if err := run(*db, *url, *events); err != nil {
		fmt.Fprintln(os.Stderr, "drainchild:", err)
		os.Exit(1)
	}
}

func run(db, url string, n int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	nc, err := edgeoutbox.DialNATS(url)
	if err != nil {
		return err
	}
	defer nc.Close()
	tr, err := edgeoutbox.NewNATSTransport(nc, edgeoutbox.WithEnsureStream("BENCH", nil, 0), edgeoutbox.WithPublishTimeout(30*time.Second))
	if err != nil {
		return err
	}
	if err := tr.EnsureStream(ctx); err != nil {
		return err
	}
	var peak atomic.Int64
	stopSampling := sampleHeap(&peak)
	defer stopSampling()
	res, err := bench.RelayDrain(ctx, db, n, "drain", tr)
	if err != nil {
		return err
	}
	stopSampling()
	return json.NewEncoder(os.Stdout).Encode(result{Events: n, ElapsedNS: int64(res.Elapsed), PeakHeap: peak.Load(), HighWater: highWater()})
}

// highWater returns this process's peak resident set size (VmHWM) in bytes, on Linux.
func highWater() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// sampleHeap records the largest Go heap (bytes of live and not yet swept objects)
// seen every 100 ms until the returned function is called.
func sampleHeap(peak *atomic.Int64) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			if v := int64(s[0].Value.Uint64()); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	var once atomic.Bool
	return func() {
		if once.CompareAndSwap(false, true) {
			close(done)
			<-finished
		}
	}
}
