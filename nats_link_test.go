package edgeoutbox_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/edgeoutbox/edgeoutbox/edgeoutboxtest"
	"github.com/edgeoutbox/edgeoutbox/internal/linksim"
	"github.com/edgeoutbox/edgeoutbox/natstest"
	"github.com/nats-io/nats.go"
)

// A backlog drains to JetStream through a simulated uplink (40 ms round trip, 2 MiB/s)
// whose connections are all cut every second, so batches are in flight at every cut:
// every event is stored once, in per-entity order, and no attempt is counted.
func TestJetStreamCutLinkEverySecond(t *testing.T) {
	if raceDetector {
		// The ordering window this skip was for (a reconnect between the transport's
		// connection check and its publish call) is closed on DialNATS connections by
		// the write guard (it refused such a write in one -race run). What remains
		// under -race: about 1 run in 6, on main as on the guarded branch, the drain
		// stalls for minutes with nats.go's reconnect Flush awaiting a PONG that never
		// comes through the link simulator (not diagnosed yet), so this test still
		// runs without -race.
		t.Skip("under the race detector the link simulator sometimes stalls a reconnect for minutes; this test runs without -race")
	}
	n, every := 30000, time.Second
	if testing.Short() {
		n, every = 4000, 250*time.Millisecond
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	srv := natstest.StartServer(t)
	proxy, err := linksim.Start(strings.TrimPrefix(srv.URL(), "nats://"), linksim.Link{RTT: 40 * time.Millisecond, Bandwidth: 2 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	relayConn, err := edgeoutbox.DialNATS("nats://"+proxy.Addr(), nats.ReconnectWait(20*time.Millisecond), nats.ReconnectJitter(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(relayConn.Close)
	tr, err := edgeoutbox.NewNATSTransport(relayConn, edgeoutbox.WithPublishTimeout(5*time.Second),
		edgeoutbox.WithEnsureStream("EVENTS", nil, 10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if d := tr.PipelineDepth(500); d < 2 {
		t.Fatalf("PipelineDepth(500) = %d on a connection without reconnect buffer, want several", d)
	}
	e, err := edgeoutbox.Open(ctx, filepath.Join(t.TempDir(), "outbox.db"), edgeoutbox.Config{
		Schema:      edgeoutboxtest.ConformanceSchema(t),
		Transport:   tr,
		MaxAttempts: 3, // a cut counted as an attempt would dead-letter quickly
		BackoffBase: 10 * time.Millisecond,
		BackoffMax:  50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })

	var keys []string
	batch := make([]edgeoutbox.Emission, 0, 1000)
	for i := 0; i < n; i += 1000 {
		batch = batch[:0]
		for j := i; j < min(i+1000, n); j++ {
			batch = append(batch, edgeoutbox.Emission{Name: edgeoutboxtest.ConformanceEvent.Name(), Inputs: conformanceLine(j, 64)})
		}
		rs, err := e.EmitBatch(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		for _, rc := range rs {
			keys = append(keys, rc.IdempotencyKey)
		}
	}
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	cutsWhileDraining := 0
	for {
		st, err := e.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Pending == 0 {
			break
		}
		select {
		case <-tick.C:
			if st.Published > 0 {
				proxy.Cut()
				cutsWhileDraining++
			}
		case <-ctx.Done():
			t.Fatalf("%d of %d events published when the test timed out", st.Published, n)
		}
	}
	t.Logf("%d events drained through %d cuts (%d connections closed)", n, cutsWhileDraining, proxy.Cuts())
	if cutsWhileDraining < 2 || proxy.Cuts() < 2 {
		t.Fatalf("only %d cuts (%d connections closed) while draining: the test proves nothing", cutsWhileDraining, proxy.Cuts())
	}
	direct := srv.Connect(t)
	logFirstDisorder(t, ctx, direct)
	rig := &outageRig{srv: srv, nc: direct, e: e, ctx: ctx}
	rig.verifyStream(t, keys)
}

// logFirstDisorder logs, for the first entity whose events are out of order in stream
// EVENTS, the sequence and id of each of its events: the evidence a failure needs.
func logFirstDisorder(t *testing.T, ctx context.Context, nc *nats.Conn) {
	t.Helper()
	msgs, err := natstest.ReadStream(ctx, nc, "EVENTS")
	if err != nil {
		return
	}
	envs := make([]*edgeoutbox.Envelope, len(msgs))
	last := map[string]int64{}
	bad := ""
	for i, m := range msgs {
		if envs[i], err = edgeoutbox.DecodeEnvelope(m.Data); err != nil {
			t.Fatal(err)
		}
		if k := envs[i].Entity.ID; envs[i].ID < last[k] && bad == "" {
			bad = k
		} else {
			last[k] = envs[i].ID
		}
	}
	for i, env := range envs {
		if bad != "" && env.Entity.ID == bad {
			t.Logf("entity %s: stream sequence %d holds event %d", bad, msgs[i].Sequence, env.ID)
		}
	}
}
