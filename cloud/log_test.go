package cloud_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/edgeoutbox/edgeoutbox"
)

// syncBuffer is a log sink safe for the reporter's goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Start logs one line saying where reports go; the API key and URL credentials never
// reach the log.
func TestReporterLogsWhereItReports(t *testing.T) {
	t.Parallel()
	col := newCollector(t, nil)
	e, _ := openEngine(t, edgeoutbox.Config{})
	var logs syncBuffer
	cfg := fast(col.URL + "/ingest?token=query-secret")
	cfg.APIKey = "key-secret"
	cfg.Logger = zerolog.New(&logs)
	r := startReporter(t, e, cfg)
	col.waitFor(t, "the start heartbeat", func(reqs []request) bool { return len(reqs) >= 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if !strings.Contains(out, `"message":"cloud reporter started`) || !strings.Contains(out, `"endpoint":"`+col.URL+`/ingest"`) ||
		!strings.Contains(out, `"instance_id":"device-1"`) {
		t.Fatalf("no start line naming the endpoint and instance:\n%s", out)
	}
	for _, secret := range []string{"key-secret", "query-secret"} {
		if strings.Contains(out, secret) {
			t.Fatalf("the log holds %q:\n%s", secret, out)
		}
	}
}
