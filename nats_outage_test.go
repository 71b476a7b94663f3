package edgeoutbox_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/edgeoutbox/edgeoutbox/edgeoutboxtest"
	"github.com/edgeoutbox/edgeoutbox/natstest"
	"github.com/nats-io/nats.go"
)

// outageRig is an engine relaying to JetStream through a connection made with DialNATS.
type outageRig struct {
	srv *natstest.Server
	nc  *nats.Conn
	e   *edgeoutbox.Engine
	ctx context.Context
}

func newOutageRig(t *testing.T, transport func(*nats.Conn) edgeoutbox.Transport) *outageRig {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	srv := natstest.StartServer(t)
	nc, err := edgeoutbox.DialNATS(srv.URL(), nats.ReconnectWait(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	var tr edgeoutbox.Transport
	if transport != nil {
		tr = transport(nc)
	} else {
		tr = mustJetStream(t, nc)
	}
	e, err := edgeoutbox.Open(ctx, filepath.Join(t.TempDir(), "outbox.db"), edgeoutbox.Config{
		Schema:      edgeoutboxtest.ConformanceSchema(t),
		Transport:   tr,
		MaxAttempts: 3, // an outage counted as attempts would dead-letter quickly
		BackoffBase: 10 * time.Millisecond,
		BackoffMax:  50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return &outageRig{srv: srv, nc: nc, e: e, ctx: ctx}
}

func mustJetStream(t *testing.T, nc *nats.Conn) *edgeoutbox.NATSTransport {
	t.Helper()
	tr, err := edgeoutbox.NewNATSTransport(nc, edgeoutbox.WithPublishTimeout(time.Second),
		edgeoutbox.WithEnsureStream("EVENTS", nil, 10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func conformanceLine(i, entities int) edgeoutbox.Inputs {
	return edgeoutbox.Inputs{"line": map[string]any{
		"kind": "order", "order": fmt.Sprintf("o-%d", i%entities), "seq": i / entities, "amount": float64(i),
	}}
}

// verifyStream checks that the stream holds each emitted key exactly once, in
// per-entity order, and that the outbox counted no attempts and has no dead letters.
func (r *outageRig) verifyStream(t *testing.T, keys []string) {
	t.Helper()
	var evs []*edgeoutbox.Event
	natstest.WaitFor(t, 2*time.Minute, "every event in the stream", func() bool {
		var err error
		evs, err = streamEvents(r.ctx, r.nc, "EVENTS")
		return err == nil && len(evs) >= len(keys)
	})
	seen := map[string]int{}
	last := map[string]int64{}
	for _, ev := range evs {
		seen[ev.IdempotencyKey]++
		k := ev.Entity.ID
		if ev.ID <= last[k] {
			t.Fatalf("entity %s: event %d stored after event %d", k, ev.ID, last[k])
		}
		last[k] = ev.ID
	}
	for _, k := range keys {
		if seen[k] != 1 {
			t.Fatalf("key %s stored %d times, want once", k, seen[k])
		}
	}
	if len(evs) != len(keys) {
		t.Fatalf("stream holds %d events, want %d", len(evs), len(keys))
	}
	natstest.WaitFor(t, 30*time.Second, "outbox marks everything published", func() bool {
		st, err := r.e.Stats(r.ctx)
		return err == nil && st.Pending == 0
	})
	st, err := r.e.Stats(r.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var attempts int64
	if err := r.e.DB().QueryRowContext(r.ctx, "SELECT COALESCE(SUM(attempts), 0) FROM edgeoutbox_events").Scan(&attempts); err != nil {
		t.Fatal(err)
	}
	if st.DeadLettered != 0 || attempts != 0 || st.Published != int64(len(keys)) {
		t.Fatalf("after the outage: %d published, %d dead letters, %d attempts; want %d, 0, 0",
			st.Published, st.DeadLettered, attempts, len(keys))
	}
}

// The broker is down while 20 000 events are emitted; a new server on the same port
// and store directory comes up and the backlog drains: every event once, in order per
// entity, no attempts counted, no dead letters.
func TestJetStreamOutageDrainsBacklogOnce(t *testing.T) {
	t.Parallel()
	n := 20000
	if testing.Short() {
		n = 2000
	}
	r := newOutageRig(t, nil)
	if err := r.e.Start(r.ctx); err != nil {
		t.Fatal(err)
	}
	// Create the stream while the broker is up, then cut it.
	if _, err := r.e.Emit(r.ctx, edgeoutboxtest.ConformanceEvent.Name(), conformanceLine(0, 50)); err != nil {
		t.Fatal(err)
	}
	natstest.WaitFor(t, 10*time.Second, "first event published", func() bool {
		st, _ := r.e.Stats(r.ctx)
		return st.Published == 1
	})
	keys := []string{}
	evs, _ := r.e.ListEvents(r.ctx, edgeoutbox.EventFilter{})
	keys = append(keys, evs[0].IdempotencyKey)
	r.srv.Shutdown()
	batch := make([]edgeoutbox.Emission, 0, 500)
	for i := 1; i < n; i += 500 {
		batch = batch[:0]
		for j := i; j < min(i+500, n); j++ {
			batch = append(batch, edgeoutbox.Emission{Name: edgeoutboxtest.ConformanceEvent.Name(), Inputs: conformanceLine(j, 50)})
		}
		rs, err := r.e.EmitBatch(r.ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		for _, rc := range rs {
			keys = append(keys, rc.IdempotencyKey)
		}
	}
	if st, _ := r.e.Stats(r.ctx); st.Pending != int64(n-1) {
		t.Fatalf("while down: %d pending, want %d", st.Pending, n-1)
	}
	r.srv.Restart()
	r.verifyStream(t, keys)
}

// The server restarts every second while events are emitted from several goroutines
// (paced so that emission spans every restart): same guarantees as a single outage.
func TestJetStreamFlappingBroker(t *testing.T) {
	t.Parallel()
	flaps := 5
	if testing.Short() {
		flaps = 3
	}
	r := newOutageRig(t, nil)
	if err := r.e.Start(r.ctx); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var keys []string
	var wg sync.WaitGroup
	stop := make(chan struct{})
	const workers = 8
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pace := time.NewTicker(2 * time.Millisecond)
			defer pace.Stop()
			for i := w; ; i += workers {
				select {
				case <-stop:
					return
				case <-pace.C:
				}
				rc, err := r.e.Emit(r.ctx, edgeoutboxtest.ConformanceEvent.Name(), conformanceLine(i, 40))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				keys = append(keys, rc.IdempotencyKey)
				mu.Unlock()
			}
		}()
	}
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	for f := 0; f < flaps; f++ {
		<-ticker.C
		r.srv.Shutdown()
		r.srv.Restart()
	}
	<-ticker.C
	close(stop)
	wg.Wait()
	t.Logf("%d events emitted across %d broker restarts", len(keys), flaps)
	r.verifyStream(t, keys)
}
