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
