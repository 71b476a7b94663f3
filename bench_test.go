package edgeoutbox_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/edgeoutbox/edgeoutbox/internal/bench"
)

// Emit throughput at the durable default, each beside raw SQLite inserts of the same rows
// with the same rows per transaction. Compare the events/s metrics of neighbouring
// lines; "go run ./cmd/edgeoutbox bench" prints the ratios.
func BenchmarkEmit(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("raw_rows_per_tx=%d", n), func(b *testing.B) {
			report3(b)(bench.RawInsert(ctx, b.TempDir(), n, b.N))
		})
		b.Run(fmt.Sprintf("emitters=%d", n), func(b *testing.B) {
			report3(b)(bench.EmitConcurrent(ctx, b.TempDir(), n, b.N))
		})
	}
	b.Run("raw_rows_per_tx=1000", func(b *testing.B) {
		report3(b)(bench.RawInsert(ctx, b.TempDir(), 1000, b.N))
	})
	b.Run("batch=1000", func(b *testing.B) {
		report3(b)(bench.EmitBatches(ctx, b.TempDir(), 1000, b.N))
	})
}

// report3 reports a bench result as an events/s metric.
func report3(b *testing.B) func(bench.Result, error) {
	return func(r bench.Result, err error) {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(r.Rate(), "events/s")
	}
}

// Relay drains of a backlog (200 000 events; 20 000 with -short) beside their baselines,
// measured in the same run: run with -benchtime=1x. Metrics: each side's events/s and
// the ratio.
func BenchmarkDrain(b *testing.B) {
	ctx := context.Background()
	n := 200000
	if testing.Short() {
		n = 20000
	}
	b.Run("memory", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			c, err := bench.DrainSuite(ctx, b.TempDir(), n, 1)
			reportComparison(b, c, err)
		}
	})
	b.Run("nats", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			cs, err := bench.NATSSuite(ctx, b.TempDir(), n, 1)
			if err != nil {
				b.Fatal(err)
			}
			reportComparison(b, cs[0], nil) // JetStream beside raw JetStream
			b.ReportMetric(cs[2].Subject.Rate(), "core-events/s")
			b.ReportMetric(cs[2].Ratio(), "core-ratio")
		}
	})
}

func reportComparison(b *testing.B, c bench.Comparison, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(c.Subject.Rate(), "events/s")
	b.ReportMetric(c.Baseline.Rate(), "baseline-events/s")
	b.ReportMetric(c.Ratio(), "ratio")
}
