// Package metrics exposes an edgeoutbox engine in the Prometheus text exposition
// format, for scraping ([Metrics.Handler]) or pushing to a Prometheus-compatible
// endpoint from a device behind NAT ([Metrics.StartPush], [Metrics.PushOnce]).
//
// Counters (emitted, published, failed by error class and dead-lettered, per event
// name) and the publish-latency histogram are fed by an Observer registered with the
// engine, so they are exact for this process (unlike hooks, whose queue may drop).
// Gauges (pending, oldest pending age, dead letters, published, outbox bytes) are read
// on each scrape from engine.Stats, whose counters live in the database: O(1) however
// large the backlog, and covering every process writing the file. Relay gauges
// (running, holds lease, transport online) come from engine.RelayState.
//
// It uses github.com/VictoriaMetrics/metrics: small (0.37 MiB in a stripped binary
// against 2.70 MiB for client_golang) with the text format, Prometheus
// histograms and push built in.
package metrics
