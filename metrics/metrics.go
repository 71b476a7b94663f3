package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	vm "github.com/VictoriaMetrics/metrics"
	"github.com/rs/zerolog"
)

// Metric families written by Metrics.
const (
	familyEmitted      = "edgeoutbox_events_emitted_total"
	familyPublished    = "edgeoutbox_events_published_total"
	familyFailed       = "edgeoutbox_publish_failures_total"
	familyDeadLettered = "edgeoutbox_events_dead_lettered_total"
)

// DefaultLatencyBuckets are the publish-latency histogram's upper bounds in seconds:
// from a prompt publish (milliseconds) to an outbox that waited out an outage (hours).
var DefaultLatencyBuckets = []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400}

// DefaultStatsTimeout bounds the read of the outbox counters on each scrape or push.
const DefaultStatsTimeout = 2 * time.Second

// Options configures Metrics. The zero value is ready to use.
type Options struct {
	// LatencyBuckets are the histogram's upper bounds in seconds, ascending. Default
	// DefaultLatencyBuckets.
	LatencyBuckets []float64
	// StatsTimeout bounds the counters read on each scrape. Default 2 s.
	StatsTimeout time.Duration
	// Logger receives push failures. Default: silent.
	Logger zerolog.Logger
}

// Metrics exposes an engine in the Prometheus text format. Counters and the latency
// histogram count what this process's engine did since New (from an Observer, so they
// are exact, unlike hooks); gauges are read from the outbox's own counters on each
// scrape, at O(1) cost however large the backlog, and cover every process writing the
// database file.
type Metrics struct {
	eng    Engine
	opts   Options
	log    zerolog.Logger
	set    *vm.Set
	remove func()

	counters sync.Map // counterKey → *vm.Counter
	latency  *vm.PrometheusHistogram

	scrape          sync.Mutex // one refresh-and-write at a time, so the gauges match the output
	pending         *vm.Gauge
	oldestAge       *vm.Gauge
	deadLetters     *vm.Gauge
	published       *vm.Gauge
	outboxBytes     *vm.Gauge
	relayRunning    *vm.Gauge
	holdsLease      *vm.Gauge
	transportOnline *vm.Gauge

	closeOnce sync.Once
	pushMu    sync.Mutex
	pushers   []*pusher
	closed    bool
}

type counterKey struct{ family, event, class string }

// New registers the metrics with eng. Call Close to unregister them.
func New(eng Engine, opts Options) (*Metrics, error) {
	if eng == nil {
		return nil, errors.New("metrics: no engine: pass the *edgeoutbox.Engine to metrics.New")
	}
	if opts.LatencyBuckets == nil {
		opts.LatencyBuckets = DefaultLatencyBuckets
	}
	if err := vm.ValidateBuckets(opts.LatencyBuckets); err != nil {
		return nil, fmt.Errorf("metrics: Options.LatencyBuckets: %w", err)
	}
	if opts.StatsTimeout < 0 {
		return nil, errors.New("metrics: Options.StatsTimeout must not be negative (0 means 2 s)")
	}
	if opts.StatsTimeout == 0 {
		opts.StatsTimeout = DefaultStatsTimeout
	}
	s := vm.NewSet()
	m := &Metrics{
		eng:             eng,
		opts:            opts,
		log:             opts.Logger.With().Str("component", "metrics").Logger(),
		set:             s,
		latency:         s.NewPrometheusHistogramExt("edgeoutbox_publish_latency_seconds", opts.LatencyBuckets),
		pending:         s.NewGauge("edgeoutbox_pending_events", nil),
		oldestAge:       s.NewGauge("edgeoutbox_oldest_pending_age_seconds", nil),
		deadLetters:     s.NewGauge("edgeoutbox_dead_letters", nil),
		published:       s.NewGauge("edgeoutbox_published_events", nil),
		outboxBytes:     s.NewGauge("edgeoutbox_outbox_bytes", nil),
		relayRunning:    s.NewGauge("edgeoutbox_relay_running", nil),
		holdsLease:      s.NewGauge("edgeoutbox_relay_holds_lease", nil),
		transportOnline: s.NewGauge("edgeoutbox_transport_online", nil),
	}
	// Every event of the schema starts at 0, so rate() and alerts see the first event.
	if sc := eng.Schema(); sc != nil {
		for _, name := range sc.Events() {
			for _, f := range []string{familyEmitted, familyPublished, familyDeadLettered} {
				m.counter(f, name, "")
			}
		}
	}
	m.remove = eng.Observe(observer{m})
	return m, nil
}

// counter returns the counter of one family and label set, creating it once.
func (m *Metrics) counter(family, event, class string) *vm.Counter {
	k := counterKey{family, event, class}
	if c, ok := m.counters.Load(k); ok {
		return c.(*vm.Counter)
	}
	name := family + `{event="` + escape(event) + `"`
	if family == familyFailed {
		name += `,class="` + escape(class) + `"`
	}
	c := m.set.GetOrCreateCounter(name + "}")
	m.counters.Store(k, c)
	return c
}

// escape makes s a valid label value of the text format.
func escape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// WritePrometheus reads the outbox counters and the relay state and writes every
// metric to w in the Prometheus text exposition format.
func (m *Metrics) WritePrometheus(ctx context.Context, w io.Writer) error {
	m.scrape.Lock()
	defer m.scrape.Unlock()
	if err := m.refresh(ctx); err != nil {
		return err
	}
	m.set.WritePrometheus(w)
	return nil
}

// refresh sets the gauges from one Stats read (O(1): counters kept by the engine).
func (m *Metrics) refresh(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, m.opts.StatsTimeout)
	defer cancel()
	st, err := m.eng.Stats(ctx)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	m.pending.Set(float64(st.Pending))
	m.oldestAge.Set(st.OldestPendingAge.Seconds())
	m.deadLetters.Set(float64(st.DeadLettered))
	m.published.Set(float64(st.Published))
	m.outboxBytes.Set(float64(st.OutboxBytes))
	m.setRelay()
	return nil
}

// Close unregisters the observer and stops every push loop, waiting for them until
// ctx ends. Close twice is safe.
func (m *Metrics) Close(ctx context.Context) error {
	var err error
	m.closeOnce.Do(func() {
		m.remove()
		m.pushMu.Lock()
		ps := m.pushers
		m.pushers, m.closed = nil, true
		m.pushMu.Unlock()
		for _, p := range ps {
			err = errors.Join(err, p.stop(ctx))
		}
	})
	return err
}
