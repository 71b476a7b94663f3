// Package linksim simulates a slow network link for benchmarks and tests: a TCP proxy
// on 127.0.0.1 that adds a round-trip delay and a bandwidth cap in each direction, and
// can cut its connections and refuse new ones, the way a cellular or satellite uplink
// behaves. Bytes keep their order within a connection, as TCP promises.
package linksim

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Link is the behaviour of the simulated link.
type Link struct {
	// RTT is the round-trip delay added: each direction delays every byte by RTT/2.
	RTT time.Duration
	// Bandwidth caps each direction in bytes per second (0: no cap). Bytes beyond the
	// cap queue up, as on a real link, and the queue holds at most QueueBytes.
	Bandwidth int64
	// QueueBytes bounds the bytes in flight in each direction of a connection; the
	// proxy stops reading from the sender while it is full, so TCP pushes back.
	// Default: 8 MiB, or a quarter of a second of Bandwidth (at least 64 KiB).
	QueueBytes int
}

// Proxy forwards TCP connections to a target address through a simulated [Link].
type Proxy struct {
	ln     net.Listener
	target string
	link   Link

	up, down atomic.Int64 // bytes delivered: client to target, target to client

	mu       sync.Mutex
	conns    map[*pipe]struct{}
	refusing bool // refusing connections
	closed   bool
	cuts     int
	wg       sync.WaitGroup
}

// Start listens on a free port of 127.0.0.1 and forwards every connection to target
// (host:port) through link.
func Start(target string, link Link) (*Proxy, error) {
	if link.RTT < 0 || link.Bandwidth < 0 || link.QueueBytes < 0 {
		return nil, fmt.Errorf("linksim: negative RTT, Bandwidth or QueueBytes in %+v", link)
	}
	if link.QueueBytes == 0 {
		link.QueueBytes = 8 << 20
		if link.Bandwidth > 0 {
			link.QueueBytes = int(max(link.Bandwidth/4, 64<<10))
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("linksim: listen: %w", err)
	}
	p := &Proxy{ln: ln, target: target, link: link, conns: map[*pipe]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the proxy's address, 127.0.0.1:PORT: connect here instead of the target.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Link returns the link's behaviour, with defaults filled in.
func (p *Proxy) Link() Link { return p.link }

// BytesUp is how many bytes the proxy has delivered (or was delivering when a cut came) from clients to the target.
func (p *Proxy) BytesUp() int64 { return p.up.Load() }

// BytesDown is how many bytes the proxy has delivered from the target to clients.
func (p *Proxy) BytesDown() int64 { return p.down.Load() }

// Conns is the number of open connections.
func (p *Proxy) Conns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// Cuts is how many connections Cut and SetDown have closed so far.
func (p *Proxy) Cuts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cuts
}

// Cut closes every open connection at once, both ends, dropping the bytes still on
// the link. New connections are still accepted (see SetDown).
func (p *Proxy) Cut() {
	p.mu.Lock()
	open := make([]*pipe, 0, len(p.conns))
	for c := range p.conns {
		open = append(open, c)
	}
	p.cuts += len(open)
	p.mu.Unlock()
	for _, c := range open {
		c.close()
	}
}

// SetDown(true) cuts every connection and refuses new ones (they are accepted and
// closed at once, like a link that drops everything); SetDown(false) lets new ones
// through again.
func (p *Proxy) SetDown(down bool) {
	p.mu.Lock()
	p.refusing = down
	p.mu.Unlock()
	if down {
		p.Cut()
	}
}

// Close stops listening, cuts every connection and waits for the proxy's goroutines.
// It is safe to call more than once.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	err := p.ln.Close()
	p.Cut()
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		p.mu.Lock()
		refuse := p.refusing || p.closed
		p.mu.Unlock()
		if refuse {
			client.Close()
			continue
		}
		p.wg.Add(1)
		go p.serve(client)
	}
}

// serve dials the target for client and runs both directions until either ends.
func (p *Proxy) serve(client net.Conn) {
	defer p.wg.Done()
	server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		client.Close()
		return
	}
	c := &pipe{client: client, server: server, done: make(chan struct{})}
	p.mu.Lock()
	if p.refusing || p.closed {
		p.mu.Unlock()
		c.close()
		return
	}
	p.conns[c] = struct{}{}
	p.mu.Unlock()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.direction(c, client, server, &p.up) }()
	go func() { defer wg.Done(); p.direction(c, server, client, &p.down) }()
	wg.Wait()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// pipe is one proxied connection.
type pipe struct {
	client, server net.Conn
	once           sync.Once
	done           chan struct{} // closed by close
}

func (c *pipe) close() {
	c.once.Do(func() {
		close(c.done)
		c.client.Close()
		c.server.Close()
	})
}
