package edgeoutbox

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// schedule is one seeded interleaving: it decides the delay at every await point of
// the relay (Engine.sched) and of the fake broker below, and which faults happen.
// Goroutines still race, but the seed fixes every delay and fault a run chooses.
type schedule struct {
	seed int64

	mu       sync.Mutex
	rng      *rand.Rand
	longLeft int // long lease stalls this schedule may still inject
}

func newSchedule(seed int64) *schedule {
	return &schedule{seed: seed, rng: rand.New(rand.NewSource(seed)), longLeft: 2}
}

func (s *schedule) intn(n int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rng.Intn(n)
}

// chance reports true with probability percent/100.
func (s *schedule) chance(percent int) bool { return s.intn(100) < percent }

// pause waits at an await point: not at all, a few yields or a short sleep; at a
// lease point, at most twice a schedule, long enough for the lease's fence to drop
// and the other relay to take the lease.
func (s *schedule) pause(p schedPoint) {
	if (p == schedLease || p == schedLeaseNews) && s.chance(50) && s.takeLong() {
		time.Sleep(time.Duration(110+s.intn(110)) * time.Millisecond)
		return
	}
	r := s.intn(1000)
	switch {
	case r < 450:
	case r < 850:
		for n := 1 + s.intn(16); n > 0; n-- {
			runtime.Gosched()
		}
	case r < 985:
		time.Sleep(time.Duration(s.intn(1500)) * time.Microsecond)
	default:
		time.Sleep(time.Duration(s.intn(4000)) * time.Microsecond)
	}
}

// takeLong reports whether a long lease stall may still be injected, and counts it.
func (s *schedule) takeLong() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.longLeft == 0 {
		return false
	}
	s.longLeft--
	return true
}

// fakeBroker stores messages as a stream does: in the order their connections write
// them, each idempotency key once.
type fakeBroker struct {
	mu       sync.Mutex
	stored   []*Event
	seen     map[string]bool
	lastFrom *fakePipeline // the pipeline whose message was stored last
	switches int           // how often the storing pipeline changed: lease handovers
	dups     int           // re-sends dropped as duplicates
}

func (b *fakeBroker) store(from *fakePipeline, ev *Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lastFrom != from {
		if b.lastFrom != nil {
			b.switches++
		}
		b.lastFrom = from
	}
	if b.seen[ev.IdempotencyKey] {
		b.dups++
		return
	}
	if b.seen == nil {
		b.seen = map[string]bool{}
	}
	b.seen[ev.IdempotencyKey] = true
	b.stored = append(b.stored, ev)
}

func (b *fakeBroker) snapshot() []*Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]*Event(nil), b.stored...)
}

var errFakeDisconnected = errors.New("fake broker: disconnected")

// fakeMsg is a message written into a connection's buffer, waiting for its ack.
type fakeMsg struct {
	ev  *Event
	lt  *leaseTerm
	ack chan error // buffered: exactly one answer
}

// fakeConn is one connection to the fake broker. Like a socket it delivers in order
// and, when it dies, loses everything not yet delivered (a suffix); its writer checks
// the lease term of each message at the moment of the write, as DialNATS's guard
// does, and a refused write kills the connection.
type fakeConn struct {
	gen    uint64
	from   *fakePipeline
	broker *fakeBroker
	sched  *schedule

	mu    sync.Mutex
	cond  sync.Cond
	queue []*fakeMsg
	dead  bool
}

func newFakeConn(gen uint64, from *fakePipeline, b *fakeBroker, s *schedule, wg *sync.WaitGroup, onDeath func(*fakeConn)) *fakeConn {
	c := &fakeConn{gen: gen, from: from, broker: b, sched: s}
	c.cond.L = &c.mu
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.pump()
		onDeath(c)
	}()
	return c
}

// enqueue hands m to the connection; false when it is dead.
func (c *fakeConn) enqueue(m *fakeMsg) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return false
	}
	c.queue = append(c.queue, m)
	c.cond.Signal()
	return true
}

// kill drops the connection: what it has not delivered is lost, unanswered acks fail.
func (c *fakeConn) kill() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.killLocked()
}

func (c *fakeConn) killLocked() {
	if c.dead {
		return
	}
	c.dead = true
	for _, m := range c.queue {
		m.ack <- errFakeDisconnected
	}
	c.queue = nil
	c.cond.Broadcast()
}

// pump writes queued messages to the broker in order and answers them, until the
// connection dies.
func (c *fakeConn) pump() {
	for {
		c.mu.Lock()
		for len(c.queue) == 0 && !c.dead {
			c.cond.Wait()
		}
		if c.dead {
			c.mu.Unlock()
			return
		}
		m := c.queue[0]
		c.queue[0] = nil
		c.queue = c.queue[1:]
		c.mu.Unlock()

		c.sched.pause("fake-write")
		c.mu.Lock()
		if c.dead {
			c.mu.Unlock()
			m.ack <- errFakeDisconnected
			return
		}
		if !m.lt.valid() {
			// The guard refuses a message whose lease term is over: nothing of it is
			// written, and the connection closes.
			c.killLocked()
			c.mu.Unlock()
			m.ack <- errFakeDisconnected
			return
		}
		c.broker.store(c.from, m.ev)
		c.mu.Unlock()

		c.sched.pause("fake-ack")
		c.mu.Lock()
		if c.dead {
			m.ack <- errFakeDisconnected // stored, but the ack was lost with the connection
		} else {
			m.ack <- nil
		}
		c.mu.Unlock()
	}
}

// fakePipeline is an OrderedPipeline over fakeConns that fails the way JetStream does
// on the client side: not connected at the start of a batch, a message refused by the
// client mid-batch (nats.go's "too many stalled"), a connection that dies with
// messages in it, a reconnect while batches are in flight. It admits batches through
// pipelineFence, as NATSTransport does.
type fakePipeline struct {
	broker *fakeBroker
	sched  *schedule
	depth  int
	pipe   pipelineFence
	wg     sync.WaitGroup

	mu     sync.Mutex
	conn   *fakeConn // nil while reconnecting
	gen    uint64
	closed bool

	kills, clientErrs, refused atomic.Int64 // faults injected, batches the fence refused
}

var _ OrderedPipeline = (*fakePipeline)(nil)
var _ AvailabilityWaiter = (*fakePipeline)(nil)

func newFakePipeline(b *fakeBroker, s *schedule, depth int) *fakePipeline {
	t := &fakePipeline{broker: b, sched: s, depth: depth}
	t.mu.Lock()
	t.connectLocked()
	t.mu.Unlock()
	return t
}

func (t *fakePipeline) connectLocked() {
	t.gen++
	t.conn = newFakeConn(t.gen, t, t.broker, t.sched, &t.wg, t.lost)
}

// lost replaces a dead connection after a seeded pause, as nats.go reconnects.
func (t *fakePipeline) lost(c *fakeConn) {
	t.mu.Lock()
	if t.conn == c {
		t.conn = nil
	}
	t.mu.Unlock()
	time.Sleep(time.Duration(t.sched.intn(3000)) * time.Microsecond)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.conn == nil && !t.closed {
		t.connectLocked()
	}
}

// killConn kills the current connection, if any.
func (t *fakePipeline) killConn() {
	t.mu.Lock()
	c := t.conn
	t.mu.Unlock()
	if c != nil {
		t.kills.Add(1)
		c.kill()
	}
}

func (t *fakePipeline) current() (*fakeConn, uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.conn, t.gen
}

func (t *fakePipeline) close() {
	t.mu.Lock()
	t.closed = true
	c := t.conn
	t.mu.Unlock()
	if c != nil {
		c.kill()
	}
	t.wg.Wait()
}

func (t *fakePipeline) Publish(ctx context.Context, ev *Event) error {
	if errs := t.PublishBatch(ctx, []*Event{ev}); errs != nil {
		return errs[0]
	}
	return nil
}

func (t *fakePipeline) PublishBatch(ctx context.Context, events []*Event) []error {
	return t.StartBatch(ctx, events)()
}

func (t *fakePipeline) PipelineDepth(int) int { return t.depth }

func (t *fakePipeline) WaitAvailable(ctx context.Context) error {
	for {
		if c, _ := t.current(); c != nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

func (t *fakePipeline) StartBatch(ctx context.Context, events []*Event) func() []error {
	errs := make([]error, len(events))
	_, gen := t.current()
	pass, err := t.pipe.start(gen)
	fail := func(err error) func() []error {
		pass.spoil()
		for i := range errs {
			errs[i] = err
		}
		return func() []error { pass.done(); return errs }
	}
	if err != nil {
		t.refused.Add(1)
		return fail(Unavailable(err))
	}
	t.sched.pause("fake-start")
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	conn, _ := t.current()
	if conn == nil || conn.gen != gen {
		return fail(Unavailable(errFakeDisconnected))
	}
	var hold HoldBack
	msgs := make([]*fakeMsg, len(events))
	lt := leaseTermOf(ctx)
	for i, ev := range events {
		if errs[i] = hold.Check(ev); errs[i] != nil {
			continue
		}
		switch {
		case ctx.Err() != nil:
			errs[i] = ctx.Err()
		case t.sched.chance(2):
			t.clientErrs.Add(1)
			errs[i] = Unavailable(fmt.Errorf("fake client: too many stalled messages (event %d)", ev.ID))
		default:
			m := &fakeMsg{ev: ev, lt: lt, ack: make(chan error, 1)}
			if conn.enqueue(m) {
				msgs[i] = m
				continue
			}
			errs[i] = Unavailable(errFakeDisconnected)
		}
		hold.Fail(ev, errs[i])
	}
	if !handedWhole(errs, func(i int) bool { return msgs[i] != nil }) {
		pass.spoil()
	}
	return func() []error {
		defer pass.done()
		for i, m := range msgs {
			if m == nil {
				continue
			}
			select {
			case err := <-m.ack:
				if err != nil {
					errs[i] = Unavailable(err)
				}
			case <-ctx.Done():
				errs[i] = ctx.Err()
			}
			hold.Fail(events[i], errs[i])
		}
		return finishBatch(events, errs)
	}
}
