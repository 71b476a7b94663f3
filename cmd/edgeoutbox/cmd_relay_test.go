package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/edgeoutbox/edgeoutbox/envelope"
	"github.com/edgeoutbox/edgeoutbox/natstest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// syncBuffer is a bytes.Buffer safe for the relay's logger and the test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
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

// TestRelayJetStream runs "edgeoutbox relay" against a real JetStream server until a
// simulated SIGINT (ctx cancelled): every event lands in the stream once, with its
// idempotency key as Nats-Msg-Id, and the relay gives its lease back.
func TestRelayJetStream(t *testing.T) {
	t.Parallel()
	srv := natstest.StartServer(t)
	db := newOutbox(t)
	emitCows(t, db, 5)
	relay := startRelayCommand(t, "--db", db, "--nats", srv.URL(), "--stream", "COWS", "--subject-prefix", "farm", "--batch-size", "2")
	e := openForTest(t, db)
	waitPublished(t, e, 5)
	// It keeps running, and picks up what another process writes.
	emitCows(t, db, 2)
	waitPublished(t, e, 7)
	if lease, err := e.Lease(context.Background()); err != nil || lease == nil {
		t.Errorf("no relay lease while running: %v", err)
	}
	logs := relay.stop(t) // SIGINT
	if lease, err := e.Lease(context.Background()); err != nil || lease != nil {
		t.Errorf("lease after stop: %+v, %v", lease, err)
	}
	for _, want := range []string{"relay running", "mode=jetstream", "subjects=farm.>", "relay stopped", "published=7"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}

	stream := openStream(t, srv.URL(), "COWS")
	info, _ := stream.Info(context.Background())
	if info.State.Msgs != 7 {
		t.Errorf("stream holds %d messages, want 7", info.State.Msgs)
	}
	msg, err := stream.GetMsg(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := e.GetEvent(context.Background(), 1)
	if msg.Subject != "farm.cow_fed" || msg.Header.Get(edgeoutbox.HeaderMsgID) != first.IdempotencyKey {
		t.Errorf("first message: subject %s, Nats-Msg-Id %q, want farm.cow_fed and %q", msg.Subject, msg.Header.Get(edgeoutbox.HeaderMsgID), first.IdempotencyKey)
	}
}

// The relay starts while the broker is down, waits without counting attempts, and
// publishes once the broker is up.
func TestRelayWaitsForBroker(t *testing.T) {
	t.Parallel()
	srv := natstest.StartServer(t)
	url := srv.URL()
	srv.Shutdown()
	db := newOutbox(t)
	emitCows(t, db, 3)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []string{"relay", "--db", db, "--nats", url, "--jetstream", "--batch-size", "10"}, &stdout, &stderr)
	}()
	e := openForTest(t, db)
	waitUntil(t, 10*time.Second, "the relay to take the lease", func() bool {
		l, err := e.Lease(context.Background())
		return err == nil && l != nil
	})
	// Make sure some stream exists for events.> once the server is back.
	srv.Restart()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	if _, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{"events.>"}}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 20*time.Second, "the backlog to drain", func() bool {
		st, err := e.Stats(context.Background())
		return err == nil && st.Published == 3
	})
	evs, err := e.ListEvents(context.Background(), edgeoutbox.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if ev.Attempts != 0 {
			t.Errorf("event %d counted %d attempts while the broker was down", ev.ID, ev.Attempts)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("relay: %v\n%s", err, stderr.String())
	}
}

func TestRelayBadFlags(t *testing.T) {
	db := newOutbox(t)
	r := run(t, "relay", "--db", db, "--nats", "nats://127.0.0.1:1", "--subject-prefix", "a b")
	if r.code() != 2 || !strings.Contains(r.stderr, "WithSubjectPrefix") {
		t.Errorf("bad prefix: exit %d, stderr %q", r.code(), r.stderr)
	}
	r = run(t, "relay", "--db", db, "--nats", "nats://127.0.0.1:1", "--layout", "xml")
	if r.code() != 2 || !strings.Contains(r.stderr, "--layout") || !strings.Contains(r.stderr, "cloudevents-json") {
		t.Errorf("bad layout: exit %d, stderr %q", r.code(), r.stderr)
	}
	r = run(t, "relay", "--db", db, "--nats", "nats://127.0.0.1:1", "--batch-size", "0")
	if r.code() != 2 || !strings.Contains(r.stderr, "--batch-size 0") {
		t.Errorf("bad batch size: exit %d, stderr %q", r.code(), r.stderr)
	}
}

func TestRedactURL(t *testing.T) {
	if got := redactURL("nats://user:secret@host:4222"); strings.Contains(got, "secret") {
		t.Errorf("redactURL kept the password: %s", got)
	}
	if got := redactURL("nats://a:1,nats://u:secret@b:2"); strings.Contains(got, "secret") {
		t.Errorf("redactURL kept the password: %s", got)
	}
}

// TestRelayLayoutCloudEvents runs "edgeoutbox relay --layout cloudevents": the stream
// holds CloudEvents in binary mode, which envelope.DecodeMessage reads back.
func TestRelayLayoutCloudEvents(t *testing.T) {
	t.Parallel()
	srv := natstest.StartServer(t)
	db := newOutbox(t)
	emitCows(t, db, 2)
	relay := startRelayCommand(t, "--db", db, "--nats", srv.URL(), "--stream", "COWS", "--layout", "cloudevents", "--source", "barn-3")
	e := openForTest(t, db)
	waitPublished(t, e, 2)
	if logs := relay.stop(t); !strings.Contains(logs, "layout=cloudevents") {
		t.Errorf("the relay's log does not name its layout:\n%s", logs)
	}
	stream := openStream(t, srv.URL(), "COWS")
	msg, err := stream.GetMsg(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := e.GetEvent(context.Background(), 1)
	if msg.Header.Get("ce-specversion") != "1.0" || msg.Header.Get("ce-source") != "barn-3" || msg.Header.Get("ce-id") != first.IdempotencyKey {
		t.Errorf("message headers %v: want CloudEvents binary mode with source barn-3 and id %s", msg.Header, first.IdempotencyKey)
	}
	env, err := envelope.DecodeMessage(msg.Header, msg.Data)
	if err != nil || env.ID != first.ID || env.Name != first.Name {
		t.Errorf("decoded %+v, %v; want event %d (%s)", env, err, first.ID, first.Name)
	}
}

// relayRun is "edgeoutbox relay" running in the background, as from a shell.
type relayRun struct {
	cancel context.CancelFunc
	done   chan error
	stderr syncBuffer
}

// startRelayCommand runs "edgeoutbox relay" with args until stop.
func startRelayCommand(t *testing.T, args ...string) *relayRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &relayRun{cancel: cancel, done: make(chan error, 1)}
	t.Cleanup(cancel)
	go func() {
		var stdout syncBuffer
		r.done <- Run(ctx, append([]string{"relay"}, args...), &stdout, &r.stderr)
	}()
	return r
}

// waitPublished waits until the outbox counts n events published.
func waitPublished(t *testing.T, e *edgeoutbox.Engine, n int64) {
	t.Helper()
	waitUntil(t, 20*time.Second, fmt.Sprintf("the relay to publish %d events", n), func() bool {
		st, err := e.Stats(context.Background())
		return err == nil && st.Published == n
	})
}

// stop sends the relay SIGINT (cancels its context), fails the test unless it ends
// cleanly within 15 s, and returns its log.
func (r *relayRun) stop(t *testing.T) string {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatalf("relay returned %v; stderr:\n%s", err, r.stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("relay did not stop after its context was cancelled")
	}
	return r.stderr.String()
}

// openStream looks up the JetStream stream name on the server at url.
func openStream(t *testing.T, url, name string) jetstream.Stream {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	stream, err := js.Stream(context.Background(), name)
	if err != nil {
		t.Fatalf("stream %s: %v", name, err)
	}
	return stream
}
