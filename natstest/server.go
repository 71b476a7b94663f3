// Package natstest runs a real NATS server (with JetStream) inside a test process,
// for testing code that publishes through edgeoutbox's NATS transport, including
// outages: Shutdown stops the server, Restart brings it back on the same port with the
// same store, so clients reconnect and streams survive.
package natstest

import (
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// ReadyTimeout bounds how long StartServer and Restart wait for the server to accept
// connections.
const ReadyTimeout = 10 * time.Second

// Option adjusts the server options before the first start, e.g. to set MaxPayload.
// Options are kept and apply to every restart.
type Option func(*server.Options)

// WithoutJetStream starts a core-only server.
func WithoutJetStream() Option {
	return func(o *server.Options) { o.JetStream = false }
}

// WithMaxPayload sets the server's maximum message payload in bytes.
func WithMaxPayload(n int32) Option {
	return func(o *server.Options) { o.MaxPayload = n }
}

// Server is an in-process NATS server owned by a test.
type Server struct {
	t testing.TB

	mu   sync.Mutex
	opts *server.Options // template; cloned for every start, never used directly
	srv  *server.Server
}

// StartServer starts a NATS server on 127.0.0.1 with a free port, JetStream on, its
// store in t.TempDir(), no logging and no signal handlers, and shuts it down when the
// test ends. It fails the test if the server does not become ready.
func StartServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	o := &server.Options{
		Host:      "127.0.0.1",
		Port:      -1,
		JetStream: true,
		StoreDir:  t.TempDir(),
		NoLog:     true,
		NoSigs:    true,
	}
	for _, opt := range opts {
		opt(o)
	}
	s := &Server{t: t, opts: o}
	s.start()
	// The first start picked a free port; restarts must reuse it so that clients
	// reconnect to the same URL.
	s.mu.Lock()
	s.opts.Port = s.srv.Addr().(*net.TCPAddr).Port
	s.mu.Unlock()
	t.Cleanup(s.Shutdown)
	return s
}

func (s *Server) start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	srv, err := server.NewServer(s.opts.Clone())
	if err != nil {
		s.t.Fatalf("natstest: new server: %v", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(ReadyTimeout) {
		srv.Shutdown()
		s.t.Fatalf("natstest: server not ready for connections within %s", ReadyTimeout)
	}
	s.srv = srv
}

// URL returns the client URL, nats://127.0.0.1:PORT. It stays the same across
// restarts.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return s.srv.ClientURL()
	}
	return "nats://" + net.JoinHostPort(s.opts.Host, strconv.Itoa(s.opts.Port))
}

// Server returns the running *server.Server, or nil while shut down.
func (s *Server) Server() *server.Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.srv
}

// StoreDir returns the JetStream store directory, kept across restarts.
func (s *Server) StoreDir() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opts.StoreDir
}

// Running reports whether the server is up.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.srv != nil
}

// Shutdown stops the server and waits until it has stopped. Clients see a
// disconnect. It is safe to call more than once.
func (s *Server) Shutdown() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		srv.Shutdown()
		srv.WaitForShutdown()
	}
}

// Restart shuts the server down if it is running, then starts a new one on the same
// port with the same store directory, so streams and their de-duplication state
// survive and clients with reconnect enabled come back.
func (s *Server) Restart() {
	s.t.Helper()
	s.Shutdown()
	s.start()
}

// Connect returns a client connection to the server that retries forever across
// restarts and is closed when the test ends.
func (s *Server) Connect(t testing.TB, opts ...nats.Option) *nats.Conn {
	t.Helper()
	base := []nats.Option{
		nats.MaxReconnects(-1),
		nats.ReconnectWait(20 * time.Millisecond),
		nats.RetryOnFailedConnect(true),
	}
	nc, err := nats.Connect(s.URL(), append(base, opts...)...)
	if err != nil {
		t.Fatalf("natstest: connect: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// WaitFor polls cond every few milliseconds until it returns true, failing the test
// with msg if timeout passes first.
func WaitFor(t testing.TB, timeout time.Duration, msg string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("natstest: timed out after %s waiting for %s", timeout, msg)
		}
		<-tick.C
	}
}
