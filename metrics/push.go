package metrics

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	vm "github.com/VictoriaMetrics/metrics"
)

// DefaultPushInterval is how often StartPush pushes when PushConfig.Interval is zero.
const DefaultPushInterval = 15 * time.Second

// PushConfig configures pushing the metrics to a Prometheus-compatible endpoint, for
// devices a server cannot scrape (behind NAT). The body is the text exposition
// format, gzip'd unless DisableCompression.
type PushConfig struct {
	// URL receives the metrics, e.g. VictoriaMetrics or vmagent
	// "https://vm.example.com/api/v1/import/prometheus", or a Pushgateway
	// "https://pushgateway.example.com/metrics/job/edgeoutbox/instance/till-7".
	URL string
	// Interval between pushes. Default 15 s.
	Interval time.Duration
	// Labels are added to every pushed series (e.g. {"instance": "till-7"}).
	Labels map[string]string
	// Headers are added to every request (e.g. {"Authorization": "Bearer ..."}).
	Headers map[string]string
	// Method is the HTTP method. Default POST (Pushgateway: POST adds, PUT replaces).
	Method string
	// DisableCompression sends the body uncompressed.
	DisableCompression bool
}

// PushOnce refreshes and pushes the metrics once.
func (m *Metrics) PushOnce(ctx context.Context, cfg PushConfig) error {
	opts, err := cfg.options()
	if err != nil {
		return err
	}
	return m.push(ctx, cfg.URL, opts)
}

func (m *Metrics) push(ctx context.Context, pushURL string, opts *vm.PushOptions) error {
	var buf bytes.Buffer
	if err := m.WritePrometheus(ctx, &buf); err != nil {
		return err
	}
	if err := vm.PushMetricsExt(ctx, pushURL, func(w io.Writer) { _, _ = w.Write(buf.Bytes()) }, opts); err != nil {
		return fmt.Errorf("metrics: push: %w", err)
	}
	return nil
}

// StartPush pushes the metrics every Interval from a goroutine of its own until ctx
// ends or Close is called. Failures are logged (once per outage) and retried on the
// next tick.
func (m *Metrics) StartPush(ctx context.Context, cfg PushConfig) error {
	opts, err := cfg.options()
	if err != nil {
		return err
	}
	interval := cfg.Interval
	if interval == 0 {
		interval = DefaultPushInterval
	}
	p := &pusher{done: make(chan struct{})}
	var runCtx context.Context
	runCtx, p.cancel = context.WithCancel(ctx)
	m.pushMu.Lock()
	if m.closed {
		m.pushMu.Unlock()
		p.cancel()
		return errors.New("metrics: StartPush after Close: create new Metrics with metrics.New")
	}
	m.pushers = append(m.pushers, p)
	m.pushMu.Unlock()
	go p.run(runCtx, interval, func(ctx context.Context) error { return m.push(ctx, cfg.URL, opts) }, m)
	m.log.Info().Str("url", redactURL(cfg.URL)).Dur("interval", interval).Msg("pushing metrics")
	return nil
}

type pusher struct {
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

func (p *pusher) run(ctx context.Context, interval time.Duration, push func(context.Context) error, m *Metrics) {
	defer close(p.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, interval)
		err := push(pctx)
		cancel()
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			failing = true
			m.log.Warn().Err(err).Msg("metrics push failing; retrying every interval")
		case err == nil && failing:
			failing = false
			m.log.Info().Msg("metrics push works again")
		}
	}
}

func (p *pusher) stop(ctx context.Context) error {
	p.once.Do(p.cancel)
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop metrics push: %w", ctx.Err())
	}
}

// options checks cfg and turns it into the library's options.
func (cfg PushConfig) options() (*vm.PushOptions, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("metrics: push URL %q must be an http(s) URL, e.g. https://vm.example.com/api/v1/import/prometheus", redactURL(cfg.URL))
	}
	if cfg.Interval < 0 {
		return nil, errors.New("metrics: PushConfig.Interval must not be negative (0 means 15 s)")
	}
	method := cfg.Method
	if method == "" {
		method = "POST"
	}
	opts := &vm.PushOptions{Method: method, DisableCompression: cfg.DisableCompression, LogErr: func(string, ...any) {}}
	keys := make([]string, 0, len(cfg.Labels))
	for k := range cfg.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var labels []string
	for _, k := range keys {
		labels = append(labels, k+`="`+escape(cfg.Labels[k])+`"`)
	}
	opts.ExtraLabels = strings.Join(labels, ",")
	if err := vm.ValidateMetric("x{" + opts.ExtraLabels + "}"); opts.ExtraLabels != "" && err != nil {
		return nil, fmt.Errorf("metrics: PushConfig.Labels: %w", err)
	}
	for k, v := range cfg.Headers {
		if strings.ContainsAny(k, ":\r\n") || strings.ContainsAny(v, "\r\n") {
			return nil, fmt.Errorf("metrics: PushConfig.Headers: invalid header %q", k)
		}
		opts.Headers = append(opts.Headers, k+": "+v)
	}
	return opts, nil
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
