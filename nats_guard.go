package edgeoutbox

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"

	"github.com/nats-io/nats.go"
)

// errWriteFenced is returned by a guarded connection's Write that would have carried
// a client message the transport no longer allows: the relay's lease fence passed
// while a batch was unanswered, or the bytes were about to go out on a connection
// the transport had not opened for the batch. The connection is closed with it, so
// nats.go reconnects; none of that write reached the broker.
var errWriteFenced = errors.New("edgeoutbox: nats write refused: it carried a message the relay may no longer send")

// wireGuard is the dialer [DialNATS] installs: it wraps every connection nats.go
// dials in a guardedConn, which checks at the moment of each socket write whether
// the bytes carry client messages (PUB/HPUB) and whether the transport still allows
// them. It closes the gap that a check before PublishMsgAsync cannot: nats.go copies
// a message into its own buffer, and a flusher goroutine writes it later. A process
// frozen in between (SIGSTOP, a starved VM) would otherwise send it after its lease
// passed to another relay.
//
// The permission: while the transport has a batch unanswered (or may have left
// unanswered bytes in a connection's buffer), messages may be written only on the
// connection it opened for that batch, and only while the batch's lease term is
// valid. Otherwise every write goes through, so an idle standby's PINGs, JetStream
// API requests and the application's own traffic are never refused.
type wireGuard struct {
	inner nats.CustomDialer

	mu      sync.Mutex
	gen     uint64     // generation of the latest connection dialed
	armed   int        // batches started and not yet awaited
	open    uint64     // the generation opened for those batches
	term    *leaseTerm // the lease term they run under (nil: no relay fence)
	dirty   uint64     // a generation whose buffer may hold unanswered messages (0: none)
	dirtyLT *leaseTerm // the term of those messages

	refused atomic.Uint64 // writes refused, for tests and diagnostics
}

var _ nats.CustomDialer = (*wireGuard)(nil)

// Dial implements nats.CustomDialer.
func (g *wireGuard) Dial(network, address string) (net.Conn, error) {
	c, err := g.inner.Dial(network, address)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	g.gen++
	gc := &guardedConn{Conn: c, g: g, gen: g.gen}
	g.mu.Unlock()
	return gc, nil
}

// guardOf returns the wireGuard of a connection made by DialNATS, or nil.
func guardOf(nc *nats.Conn) *wireGuard {
	g, _ := nc.Opts.CustomDialer.(*wireGuard)
	return g
}

// generation returns the generation of the connection dialed last.
func (g *wireGuard) generation() uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.gen
}

// enter admits a batch on the connection of generation gen under term lt (nil: no
// lease). The caller's own fence (NATSTransport.enterFence) already keeps every
// batch in flight on one generation.
func (g *wireGuard) enter(gen uint64, lt *leaseTerm) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.armed++
	g.open = gen
	g.term = lt
}

// leave ends a batch. answered is false when some of its messages may still sit in
// the connection's buffer unanswered (an ack given up on, a flush that timed out): the
// guard then keeps refusing messages on that connection once the term is over, until
// a later batch on it is answered (the buffer is written in order) or the connection
// is replaced.
func (g *wireGuard) leave(gen uint64, answered bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.armed--
	switch {
	case !answered:
		g.dirty, g.dirtyLT = gen, g.term
	case g.dirty == gen:
		g.dirty, g.dirtyLT = 0, nil
	}
}

// allow decides a write on the connection of generation gen that carries message
// bytes.
func (g *wireGuard) allow(gen uint64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.armed > 0 && (gen != g.open || !g.term.valid()) {
		return false
	}
	// Messages left unanswered in this connection's buffer under a term that is over
	// must never go out, whatever the batch now writing.
	return g.dirty != gen || g.dirtyLT.valid()
}

// guardedConn is one dialed connection under a wireGuard.
type guardedConn struct {
	net.Conn
	g   *wireGuard
	gen uint64

	mu      sync.Mutex
	scan    protoScanner
	started bool // the first write was seen
	plain   bool // it began with CONNECT: the stream is the NATS protocol in clear
	closed  bool // a write was refused
}

// Write passes b to the socket unless it carries a client message the guard does not
// allow; then it closes the connection and returns errWriteFenced, having written
// nothing. A stream that is not the plain NATS protocol (TLS, WebSocket) cannot be
// read and is passed through unguarded.
func (c *guardedConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return 0, fmt.Errorf("write to nats: %w", errWriteFenced)
	}
	if !c.started && len(b) > 0 {
		c.started = true
		c.plain = len(b) >= 8 && string(b[:8]) == "CONNECT "
	}
	if c.plain && c.scan.feed(b) && !c.g.allow(c.gen) {
		c.closed = true
		c.mu.Unlock()
		c.g.refused.Add(1)
		_ = c.Conn.Close()
		return 0, fmt.Errorf("write to nats: %w", errWriteFenced)
	}
	c.mu.Unlock()
	// The check and the write are not atomic: a process frozen between them writes
	// once resumed. That window is the length of one write call.
	return c.Conn.Write(b)
}

// baseDialer returns the dialer nats.go would use with opts: the caller's custom
// dialer, or a net.Dialer like nats.go's own default.
func baseDialer(opts []nats.Option) nats.CustomDialer {
	o := nats.GetDefaultOptions()
	for _, opt := range opts {
		if opt != nil {
			_ = opt(&o) // a bad option fails again in nats.Connect, with its message
		}
	}
	if o.CustomDialer != nil {
		return o.CustomDialer
	}
	if o.Dialer != nil {
		d := *o.Dialer
		return &d
	}
	return &net.Dialer{Timeout: o.Timeout}
}
