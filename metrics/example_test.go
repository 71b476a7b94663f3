package metrics_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/edgeoutbox/edgeoutbox/metrics"
)

// Metrics over an engine: counters from what this process did, gauges from the
// outbox's own counters.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "edgeoutbox-metrics-example")
	defer os.RemoveAll(dir)
	schema, _, err := edgeoutbox.NewSchema(edgeoutbox.DefaultSchemaFile).With(orderPlaced)
	if err != nil {
		fmt.Println(err)
		return
	}
	engine, err := edgeoutbox.Open(ctx, filepath.Join(dir, "app.db"), edgeoutbox.Config{Schema: schema})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer engine.Close()

	m, err := metrics.New(engine, metrics.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close(ctx)
	// Serve it with http.Handle("/metrics", m.Handler()) behind your authentication.

	for i := range 3 {
		if _, err := engine.Emit(ctx, "order_placed", inputs("Order", i)); err != nil {
			fmt.Println(err)
			return
		}
	}
	var buf bytes.Buffer
	if err := m.WritePrometheus(ctx, &buf); err != nil {
		fmt.Println(err)
		return
	}
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "edgeoutbox_events_emitted_total") || strings.HasPrefix(line, "edgeoutbox_pending_events") {
			fmt.Println(line)
		}
	}
	// Output:
	// edgeoutbox_events_emitted_total{event="order_placed"} 3
	// edgeoutbox_pending_events 3
}
