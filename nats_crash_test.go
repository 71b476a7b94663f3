package edgeoutbox_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/edgeoutbox/edgeoutbox/edgeoutboxtest"
	"github.com/edgeoutbox/edgeoutbox/natstest"
)

// crashAfterPublish publishes through the real transport, then hangs as a process
// would that dies before it marks the batch published.
type crashAfterPublish struct {
	inner     *edgeoutbox.NATSTransport
	published chan struct{}
}

func (c *crashAfterPublish) Publish(ctx context.Context, ev *edgeoutbox.Event) error {
	return c.PublishBatch(ctx, []*edgeoutbox.Event{ev})[0]
}

func (c *crashAfterPublish) PublishBatch(ctx context.Context, evs []*edgeoutbox.Event) []error {
	if errs := c.inner.PublishBatch(ctx, evs); errs != nil {
		return errs
	}
	close(c.published)
	<-ctx.Done() // "crash": the outcome is never recorded
	errs := make([]error, len(evs))
	for i := range errs {
		errs[i] = edgeoutbox.Unavailable(ctx.Err())
	}
	return errs
}

// The relay dies after JetStream stored a batch but before the outbox marked it
// published. On restart the batch is sent again and the server drops every re-sent
// message by its Nats-Msg-Id: the stream still holds each event once.
func TestCrashBetweenPublishAndMarkIsDeduplicated(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv := natstest.StartServer(t)
	nc := srv.Connect(t)
	path := filepath.Join(t.TempDir(), "outbox.db")
	const n = 300
	crash := &crashAfterPublish{inner: mustJetStream(t, nc), published: make(chan struct{})}
	cfg := edgeoutbox.Config{Schema: edgeoutboxtest.ConformanceSchema(t), Transport: crash, BatchSize: n}
	e, err := edgeoutbox.Open(ctx, path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for i := 0; i < n; i++ {
		r, err := e.Emit(ctx, edgeoutboxtest.ConformanceEvent.Name(), conformanceLine(i, 7))
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, r.IdempotencyKey)
	}
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-crash.published:
	case <-ctx.Done():
		t.Fatal("batch never published")
	}
	stopCtx, stopCancel := context.WithCancel(ctx)
	stopCancel() // no grace: the in-flight batch is abandoned, like a kill
	e.Stop(stopCtx)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	stored, err := streamEvents(ctx, nc, "EVENTS")
	if err != nil || len(stored) != n {
		t.Fatalf("before restart the stream holds %d events (%v), want %d", len(stored), err, n)
	}

	// Restart with the plain transport: everything is pending and is sent again.
	cfg.Transport = mustJetStream(t, nc)
	resent := make(chan int, n)
	cfg.Hooks.OnBatchPublished = func(b edgeoutbox.BatchInfo) { resent <- b.Count }
	e2, err := edgeoutbox.Open(ctx, path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	if st, _ := e2.Stats(ctx); st.Pending != n {
		t.Fatalf("after the crash %d events pending, want %d", st.Pending, n)
	}
	if err := e2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	natstest.WaitFor(t, 30*time.Second, "re-send marked published", func() bool {
		st, _ := e2.Stats(ctx)
		return st.Published == n
	})
	for total := 0; total < n; {
		select {
		case c := <-resent:
			total += c
		case <-ctx.Done():
			t.Fatalf("the restarted relay re-sent %d of %d events", total, n)
		}
	}
	stored, err = streamEvents(ctx, nc, "EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, ev := range stored {
		seen[ev.IdempotencyKey]++
	}
	for _, k := range keys {
		if seen[k] != 1 {
			t.Errorf("key %s stored %d times", k, seen[k])
		}
	}
	if len(stored) != n {
		t.Fatalf("stream holds %d messages after the re-send, want %d", len(stored), n)
	}
}
