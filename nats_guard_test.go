package edgeoutbox

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/edgeoutbox/edgeoutbox/natstest"
)

// guardFixture is a DialNATS connection (the guarded one) and a plain subscriber that
// counts what reaches the server on subject "g".
type guardFixture struct {
	srv  *natstest.Server
	nc   *nats.Conn
	g    *wireGuard
	seen atomic.Int64
}

func newGuardFixture(t *testing.T) *guardFixture {
	t.Helper()
	f := &guardFixture{srv: natstest.StartServer(t, natstest.WithoutJetStream())}
	sub := f.srv.Connect(t)
	if _, err := sub.Subscribe("g", func(*nats.Msg) { f.seen.Add(1) }); err != nil {
		t.Fatal(err)
	}
	if err := sub.Flush(); err != nil {
		t.Fatal(err)
	}
	nc, err := DialNATS(f.srv.URL(), nats.ReconnectWait(10*time.Millisecond), nats.ReconnectJitter(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	f.nc, f.g = nc, guardOf(nc)
	if f.g == nil {
		t.Fatal("DialNATS installed no write guard")
	}
	return f
}

// publish publishes one message on "g" and flushes; it returns the flush error.
func (f *guardFixture) publish(t *testing.T) error {
	t.Helper()
	if err := f.nc.Publish("g", []byte("x")); err != nil {
		return err
	}
	return f.nc.FlushTimeout(2 * time.Second)
}

// waitConnected waits until the connection is up again on a new socket.
func (f *guardFixture) waitConnected(t *testing.T, gen uint64) {
	t.Helper()
	natstest.WaitFor(t, 10*time.Second, "the guarded connection to reconnect", func() bool {
		return f.nc.Status() == nats.CONNECTED && f.g.generation() > gen
	})
}

// openTerm returns a lease term valid until the test drops it.
func openTerm(t *testing.T) (*leaseFence, *leaseTerm) {
	t.Helper()
	fence := new(leaseFence)
	fence.extend(context.Background(), time.Now().Add(time.Hour))
	t.Cleanup(fence.drop)
	ctx, ok := fence.context()
	if !ok {
		t.Fatal("fence down right after extend")
	}
	lt := leaseTermOf(ctx)
	if lt == nil || !lt.valid() {
		t.Fatal("the fence's context carries no valid lease term")
	}
	return fence, lt
}

// TestGuardRefusesMessagesAfterLeaseTerm arms the guard under a lease term, ends the
// term, and publishes: the write is refused (nothing reaches the server), the
// connection is replaced, and once the batch is over the new connection carries
// messages again.
func TestGuardRefusesMessagesAfterLeaseTerm(t *testing.T) {
	t.Parallel()
	f := newGuardFixture(t)
	fence, lt := openTerm(t)
	gen := f.g.generation()
	f.g.enter(gen, lt)
	if err := f.publish(t); err != nil {
		t.Fatalf("publish within the lease term: %v", err)
	}
	natstest.WaitFor(t, 5*time.Second, "the message within the term", func() bool { return f.seen.Load() == 1 })

	fence.drop() // the lease is gone while the batch is unanswered
	if lt.valid() {
		t.Fatal("term still valid after drop")
	}
	if err := f.nc.FlushTimeout(2 * time.Second); err != nil {
		t.Fatalf("a PING (no message) was refused: %v", err)
	}
	if err := f.publish(t); err == nil {
		t.Fatal("publish after the lease term was flushed without error")
	}
	if f.g.refused.Load() == 0 {
		t.Fatal("the guard refused nothing")
	}
	f.waitConnected(t, gen)
	f.g.leave(gen, true)
	if err := f.publish(t); err != nil {
		t.Fatalf("publish with no batch unanswered: %v", err)
	}
	natstest.WaitFor(t, 5*time.Second, "the message after the batch", func() bool { return f.seen.Load() == 2 })
	// The refused message must never arrive, not even late.
	if err := f.nc.FlushTimeout(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	if n := f.seen.Load(); n != 2 {
		t.Fatalf("server delivered %d messages, want 2 (the refused one must never arrive)", n)
	}
}

// TestGuardIdleConnectionIsNeverRefused: with no batch armed (an idle standby, or the
// application's own traffic) nothing is refused, whatever the lease.
func TestGuardIdleConnectionIsNeverRefused(t *testing.T) {
	t.Parallel()
	f := newGuardFixture(t)
	fence, lt := openTerm(t)
	gen := f.g.generation()
	f.g.enter(gen, lt)
	f.g.leave(gen, true) // answered: nothing of the term left in the buffer
	fence.drop()
	for range 3 {
		if err := f.publish(t); err != nil {
			t.Fatalf("publish on an idle guarded connection: %v", err)
		}
	}
	natstest.WaitFor(t, 5*time.Second, "three messages", func() bool { return f.seen.Load() == 3 })
	if n := f.g.refused.Load(); n != 0 {
		t.Fatalf("%d writes refused on an idle connection", n)
	}
}

// TestGuardKeepsUnansweredBatchFenced: a batch left unanswered (an ack given up on)
// keeps its connection fenced after the term ends, until the connection is replaced.
func TestGuardKeepsUnansweredBatchFenced(t *testing.T) {
	t.Parallel()
	f := newGuardFixture(t)
	fence, lt := openTerm(t)
	gen := f.g.generation()
	f.g.enter(gen, lt)
	f.g.leave(gen, false)
	fence.drop()
	if err := f.publish(t); err == nil {
		t.Fatal("publish on a connection with an unanswered batch of an ended term went through")
	}
	f.waitConnected(t, gen)
	if err := f.publish(t); err != nil {
		t.Fatalf("publish on the new connection: %v", err)
	}
	natstest.WaitFor(t, 5*time.Second, "the message on the new connection", func() bool { return f.seen.Load() == 1 })
}

// TestGuardRefusesMessagesOnUnopenedConnection: a batch opened on one connection
// whose messages would go out on the next one (a reconnect between the transport's
// check and the publish) is refused there.
func TestGuardRefusesMessagesOnUnopenedConnection(t *testing.T) {
	t.Parallel()
	f := newGuardFixture(t)
	gen := f.g.generation()
	f.g.enter(gen, nil) // no lease: only the connection matters
	kickClients(t, f.srv.Server(), "edgeoutbox")
	f.waitConnected(t, gen)
	if err := f.publish(t); err == nil {
		t.Fatal("a message of a batch opened on the old connection went out on the new one")
	}
	if f.seen.Load() != 0 || f.g.refused.Load() == 0 {
		t.Fatalf("server got %d messages, guard refused %d writes; want 0 and some", f.seen.Load(), f.g.refused.Load())
	}
	f.g.leave(gen, true)
	f.waitConnected(t, gen+1) // the refusal replaced the connection once more
	newGen := f.g.generation()
	f.g.enter(newGen, nil)
	defer f.g.leave(newGen, true)
	if err := f.publish(t); err != nil {
		t.Fatalf("publish on the connection opened for the batch: %v (status %v, last error %v, reconnects %d)", err, f.nc.Status(), f.nc.LastError(), f.nc.Stats().Reconnects)
	}
}

// kickClients makes the server close every client connection named name.
func kickClients(t *testing.T, s *server.Server, name string) {
	t.Helper()
	cz, err := s.Connz(&server.ConnzOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range cz.Conns {
		if c.Name == name {
			if err := s.DisconnectClientByID(c.Cid); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatalf("no client named %q to disconnect", name)
	}
}
