// Package natstest runs a real NATS server (with JetStream) inside a process, for
// testing code that publishes through edgeoutbox's NATS transport, including outages:
// Shutdown stops the server, Restart brings it back on the same port with the same
// store, so clients reconnect and streams survive.
//
// [Start] works anywhere (a main program, an example, a demo) and returns errors;
// [StartServer] is the test helper that fails the test instead and cleans up when it
// ends.
package natstest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// ReadyTimeout bounds how long Start, StartServer and Restart wait for the server to
// accept connections.
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

// WithStoreDir keeps the JetStream store in dir instead of a fresh temporary
// directory; Close then leaves dir in place.
func WithStoreDir(dir string) Option {
	return func(o *server.Options) { o.StoreDir = dir }
}

// Server is an in-process NATS server.
type Server struct {
	t        testing.TB // nil unless started by StartServer
	ownStore bool       // StoreDir was created by Start and is removed by Close

	mu   sync.Mutex
	opts *server.Options // template; cloned for every start, never used directly
	srv  *server.Server
}

// Start starts a NATS server on 127.0.0.1 with a free port, JetStream on, its store in
// a new temporary directory (unless [WithStoreDir]), no logging and no signal
// handlers. The caller must call Close, which also removes the temporary store.
func Start(opts ...Option) (*Server, error) {
	o := &server.Options{
		Host:      "127.0.0.1",
		Port:      -1,
		JetStream: true,
		NoLog:     true,
		NoSigs:    true,
	}
	for _, opt := range opts {
		opt(o)
	}
	s := &Server{opts: o}
	if o.StoreDir == "" {
		dir, err := os.MkdirTemp("", "natstest-")
		if err != nil {
			return nil, fmt.Errorf("natstest: create store directory: %w", err)
		}
		o.StoreDir, s.ownStore = dir, true
	}
	if err := s.start(); err != nil {
		s.removeStore()
		return nil, err
	}
	// The first start picked a free port; restarts must reuse it so that clients
	// reconnect to the same URL.
	s.mu.Lock()
	s.opts.Port = s.srv.Addr().(*net.TCPAddr).Port
	s.mu.Unlock()
	return s, nil
}

// StartServer is [Start] for tests: the store lives in t.TempDir(), a failure to start
// fails the test, and the server shuts down when the test ends.
func StartServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := Start(append([]Option{WithStoreDir(t.TempDir())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	s.t = t
	t.Cleanup(s.Shutdown)
	return s
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	srv, err := server.NewServer(s.opts.Clone())
	if err != nil {
		return fmt.Errorf("natstest: new server: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(ReadyTimeout) {
		srv.Shutdown()
		return fmt.Errorf("natstest: server not ready for connections within %s", ReadyTimeout)
	}
	s.srv = srv
	return nil
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
// disconnect. It is safe to call more than once; Restart starts it again.
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

// Close shuts the server down and removes its store directory if Start created it.
// It is safe to call more than once.
func (s *Server) Close() error {
	s.Shutdown()
	return s.removeStore()
}

func (s *Server) removeStore() error {
	if !s.ownStore {
		return nil
	}
	s.ownStore = false
	if err := os.RemoveAll(s.opts.StoreDir); err != nil {
		return fmt.Errorf("natstest: remove store directory: %w", err)
	}
	return nil
}

// Restart shuts the server down if it is running, then starts a new one on the same
// port with the same store directory, so streams and their de-duplication state
// survive and clients with reconnect enabled come back. A server from StartServer
// fails its test when the restart fails; the error is returned either way.
func (s *Server) Restart() error {
	if s.t != nil {
		s.t.Helper()
	}
	s.Shutdown()
	err := s.start()
	if err != nil && s.t != nil {
		s.t.Fatal(err)
	}
	return err
}

// Dial returns a client connection to the server that retries forever across
// restarts. The caller closes it.
func (s *Server) Dial(opts ...nats.Option) (*nats.Conn, error) {
	base := []nats.Option{
		nats.MaxReconnects(-1),
		nats.ReconnectWait(20 * time.Millisecond),
		nats.RetryOnFailedConnect(true),
	}
	nc, err := nats.Connect(s.URL(), append(base, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("natstest: connect: %w", err)
	}
	return nc, nil
}

// Connect is [Server.Dial] for tests: a failure fails the test and the connection is
// closed when the test ends.
func (s *Server) Connect(t testing.TB, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := s.Dial(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// ErrTimeout is returned (wrapped) by Wait when the condition did not hold in time.
var ErrTimeout = errors.New("natstest: timed out")

// Wait polls cond every few milliseconds until it returns true, or returns an error
// wrapping ErrTimeout that names msg once timeout has passed.
func Wait(timeout time.Duration, msg string, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("%w after %s waiting for %s", ErrTimeout, timeout, msg)
		}
		<-tick.C
	}
	return nil
}

// WaitFor is [Wait] for tests: it fails the test on timeout.
func WaitFor(t testing.TB, timeout time.Duration, msg string, cond func() bool) {
	t.Helper()
	if err := Wait(timeout, msg, cond); err != nil {
		t.Fatal(err)
	}
}
