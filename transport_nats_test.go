package edgeoutbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/edgeoutbox/edgeoutbox/envelope"
	"github.com/edgeoutbox/edgeoutbox/natstest"
)

func testEvent(id int64, name, class, entityID string) *Event {
	v := id * 10
	return &Event{
		ID:             id,
		IdempotencyKey: fmt.Sprintf("key-%d", id),
		Name:           name,
		Type:           "domain",
		Version:        1,
		Entity:         Entity{Class: class, ID: entityID, Version: &v},
		Payload:        json.RawMessage(fmt.Sprintf(`{"weight":%d.5}`, id)),
		Metadata:       map[string]string{"request_id": fmt.Sprintf("req-%d", id)},
		OccurredAt:     time.Date(2025, 1, 2, 3, 4, 5, int(id), time.UTC),
		CreatedAt:      time.Date(2025, 1, 2, 3, 4, 6, 0, time.UTC),
	}
}

func newTestTransport(t *testing.T, nc *nats.Conn, opts ...NATSOption) *NATSTransport {
	t.Helper()
	tr, err := NewNATSTransport(nc, opts...)
	if err != nil {
		t.Fatalf("NewNATSTransport: %v", err)
	}
	return tr
}

func streamMsgs(t *testing.T, js jetstream.JetStream, name string) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, name)
	if err != nil {
		t.Fatalf("stream %s: %v", name, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatalf("stream info %s: %v", name, err)
	}
	return info.State.Msgs
}

func requireNoErrs(t *testing.T, errs []error) {
	t.Helper()
	if errs != nil {
		t.Fatalf("PublishBatch: %v", errors.Join(errs...))
	}
}

func TestNATSCorePublish(t *testing.T) {
	srv := natstest.StartServer(t)
	nc := srv.Connect(t)
	sub, err := nc.SubscribeSync("events.>")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	tr := newTestTransport(t, nc)
	events := []*Event{testEvent(1, "cow_fed", "Cow", "7"), testEvent(2, "cow_milked", "", "")}
	events[1].Entity = Entity{}
	ctx := context.Background()
	requireNoErrs(t, tr.PublishBatch(ctx, events))

	for _, want := range events {
		m, err := sub.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatalf("next msg: %v", err)
		}
		if m.Subject != "events."+want.Name {
			t.Errorf("subject = %q, want events.%s", m.Subject, want.Name)
		}
		env, err := DecodeEnvelope(m.Data)
		if err != nil {
			t.Fatalf("DecodeEnvelope: %v", err)
		}
		got := EnvelopeEvent(env)
		wantCopy := *want
		wantCopy.CreatedAt = time.Time{}
		if !reflect.DeepEqual(got, &wantCopy) {
			t.Errorf("envelope event =\n%+v\nwant\n%+v", got, &wantCopy)
		}
		checks := map[string]string{
			HeaderMsgID:          want.IdempotencyKey,
			HeaderIdempotencyKey: want.IdempotencyKey,
			HeaderEventID:        fmt.Sprint(want.ID),
			HeaderEvent:          want.Name,
			HeaderType:           want.Type,
			HeaderVersion:        "1",
			HeaderEntityClass:    want.Entity.Class,
			HeaderEntityID:       want.Entity.ID,
			HeaderOccurredAt:     want.OccurredAt.Format(time.RFC3339Nano),
			HeaderContentType:    EnvelopeContentType,
		}
		if want.Entity.Version != nil {
			checks[HeaderEntityVersion] = fmt.Sprint(*want.Entity.Version)
		}
		for h, v := range checks {
			if got := m.Header.Get(h); got != v {
				t.Errorf("header %s = %q, want %q", h, got, v)
			}
		}
	}
	// Publish (single) works too and uses a custom prefix.
	tr2 := newTestTransport(t, nc, WithSubjectPrefix("farm.events"))
	sub2, err := nc.SubscribeSync("farm.events.cow_fed")
	if err != nil {
		t.Fatal(err)
	}
	if err := tr2.Publish(ctx, testEvent(3, "cow_fed", "Cow", "7")); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if _, err := sub2.NextMsg(5 * time.Second); err != nil {
		t.Fatalf("custom prefix: %v", err)
	}
}

func TestNATSJetStreamPublishStoredOnceAndDuplicates(t *testing.T) {
	srv := natstest.StartServer(t)
	nc := srv.Connect(t)
	tr := newTestTransport(t, nc, WithEnsureStream("EVENTS", nil, 0), WithPublishTimeout(2*time.Second))
	ctx := context.Background()
	if err := tr.EnsureStream(ctx); err != nil {
		t.Fatalf("EnsureStream: %v", err)
	}
	info := mustStreamConfig(t, tr.JetStream(), "EVENTS")
	if info.Duplicates != DefaultNATSDuplicateWindow || !reflect.DeepEqual(info.Subjects, []string{"events.>"}) {
		t.Errorf("stream config: duplicates %s subjects %q", info.Duplicates, info.Subjects)
	}

	var events []*Event
	for i := int64(1); i <= 50; i++ {
		events = append(events, testEvent(i, "cow_fed", "Cow", fmt.Sprint(i%3)))
	}
	requireNoErrs(t, tr.PublishBatch(ctx, events))
	if n := streamMsgs(t, tr.JetStream(), "EVENTS"); n != 50 {
		t.Fatalf("stream holds %d messages, want 50", n)
	}
	// A re-send of the same batch (a crash before marking it published) is
	// acknowledged as duplicates: success, nothing stored twice.
	requireNoErrs(t, tr.PublishBatch(ctx, events))
	if n := streamMsgs(t, tr.JetStream(), "EVENTS"); n != 50 {
		t.Fatalf("after re-send stream holds %d messages, want 50", n)
	}

	// A batch larger than max pending is chunked rather than stalling.
	small := newTestTransport(t, nc, WithEnsureStream("EVENTS", nil, 0), WithMaxPending(7))
	var more []*Event
	for i := int64(100); i < 130; i++ {
		more = append(more, testEvent(i, "cow_fed", "Cow", "x"))
	}
	requireNoErrs(t, small.PublishBatch(ctx, more))
	if n := streamMsgs(t, tr.JetStream(), "EVENTS"); n != 80 {
		t.Fatalf("stream holds %d messages, want 80", n)
	}

	// The stored message is the envelope with the headers.
	s, err := tr.JetStream().Stream(ctx, "EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := s.GetMsg(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if raw.Header.Get(HeaderMsgID) != "key-1" {
		t.Errorf("Nats-Msg-Id = %q", raw.Header.Get(HeaderMsgID))
	}
	if _, err := DecodeEnvelope(raw.Data); err != nil {
		t.Errorf("stored body: %v", err)
	}
}

func mustStreamConfig(t *testing.T, js jetstream.JetStream, name string) jetstream.StreamConfig {
	t.Helper()
	s, err := js.Stream(context.Background(), name)
	if err != nil {
		t.Fatalf("stream %s: %v", name, err)
	}
	return s.CachedInfo().Config
}

func TestNATSJetStreamOutageAndRecovery(t *testing.T) {
	srv := natstest.StartServer(t)
	nc := srv.Connect(t)
	const timeout = 500 * time.Millisecond
	tr := newTestTransport(t, nc, WithEnsureStream("EVENTS", nil, time.Minute), WithPublishTimeout(timeout))
	ctx := context.Background()
	requireNoErrs(t, tr.PublishBatch(ctx, []*Event{testEvent(1, "cow_fed", "Cow", "1")}))

	srv.Shutdown()
	natstest.WaitFor(t, 5*time.Second, "client to notice the outage", func() bool {
		return nc.Status() != nats.CONNECTED
	})

	batch := []*Event{testEvent(2, "cow_fed", "Cow", "1"), testEvent(3, "cow_fed", "Cow", "2")}
	start := time.Now()
	errs := tr.PublishBatch(ctx, batch)
	if elapsed := time.Since(start); elapsed > 2*timeout {
		t.Errorf("PublishBatch during outage took %s, want ≤ %s", elapsed, 2*timeout)
	}
	if len(errs) != len(batch) {
		t.Fatalf("PublishBatch during outage = %v, want one error per event", errs)
	}
	for i, err := range errs {
		if !errors.Is(err, ErrTransportUnavailable) || errors.Is(err, ErrPermanent) {
			t.Errorf("event %d: error %v, want ErrTransportUnavailable only", i, err)
		}
	}

	waitErr := make(chan error, 1)
	go func() {
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		waitErr <- tr.WaitAvailable(wctx)
	}()
	select {
	case err := <-waitErr:
		t.Fatalf("WaitAvailable returned %v while the server is down", err)
	case <-time.After(100 * time.Millisecond):
	}

	srv.Restart()
	select {
	case err := <-waitErr:
		if err != nil {
			t.Fatalf("WaitAvailable after restart: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("WaitAvailable did not return after the server came back")
	}
	requireNoErrs(t, tr.PublishBatch(ctx, batch))
	if n := streamMsgs(t, tr.JetStream(), "EVENTS"); n != 3 {
		t.Fatalf("stream holds %d messages after restart, want 3", n)
	}
	// Returns at once when connected.
	quick, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := tr.WaitAvailable(quick); err != nil {
		t.Fatalf("WaitAvailable while connected: %v", err)
	}
}

// An outage the client has not noticed yet: whatever happens, no error may be
// anything but unavailable.
func TestNATSJetStreamAbruptOutage(t *testing.T) {
	srv := natstest.StartServer(t)
	nc := srv.Connect(t)
	tr := newTestTransport(t, nc, WithEnsureStream("EVENTS", nil, 0), WithPublishTimeout(300*time.Millisecond))
	ctx := context.Background()
	if err := tr.EnsureStream(ctx); err != nil {
		t.Fatal(err)
	}
	var batch []*Event
	for i := int64(1); i <= 200; i++ {
		batch = append(batch, testEvent(i, "cow_fed", "Cow", fmt.Sprint(i%5)))
	}
	done := make(chan []error, 1)
	go func() { done <- tr.PublishBatch(ctx, batch) }()
	srv.Shutdown()
	errs := <-done
	for i, err := range errs {
		if err != nil && !errors.Is(err, ErrTransportUnavailable) {
			t.Errorf("event %d: %v, want nil or unavailable", i, err)
		}
	}
	checkEntityOrder(t, batch, errs)
}

// checkEntityOrder asserts the BatchTransport rule: after an entity's first failure,
// none of its later events is reported published.
func checkEntityOrder(t *testing.T, events []*Event, errs []error) {
	t.Helper()
	if errs == nil {
		return
	}
	failed := map[string]bool{}
	for i, e := range events {
		k := e.Entity.key()
		if errs[i] != nil {
			failed[k] = true
		} else if k != "" && failed[k] {
			t.Errorf("event %d reported published after an earlier failure of its entity", e.ID)
		}
	}
}

func TestNATSCoreOutage(t *testing.T) {
	srv := natstest.StartServer(t)
	nc, err := DialNATS(srv.URL(), nats.ReconnectWait(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	tr := newTestTransport(t, nc, WithPublishTimeout(300*time.Millisecond))
	ctx := context.Background()
	requireNoErrs(t, tr.PublishBatch(ctx, []*Event{testEvent(1, "cow_fed", "Cow", "1")}))
	srv.Shutdown()
	natstest.WaitFor(t, 5*time.Second, "client to notice the outage", func() bool {
		return nc.Status() != nats.CONNECTED
	})
	errs := tr.PublishBatch(ctx, []*Event{testEvent(2, "cow_fed", "Cow", "1")})
	if errs == nil || !errors.Is(errs[0], ErrTransportUnavailable) {
		t.Fatalf("core publish during outage: %v, want unavailable", errs)
	}
	srv.Restart()
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := tr.WaitAvailable(wctx); err != nil {
		t.Fatalf("WaitAvailable: %v", err)
	}
	requireNoErrs(t, tr.PublishBatch(ctx, []*Event{testEvent(2, "cow_fed", "Cow", "1")}))
}

// DialNATS with the broker down at start: no error, and WaitAvailable returns once
// the first connect succeeds (which fires ConnectHandler, not ReconnectHandler).
func TestDialNATSBrokerDownAtStart(t *testing.T) {
	srv := natstest.StartServer(t)
	srv.Shutdown()
	nc, err := DialNATS(srv.URL(), nats.ReconnectWait(20*time.Millisecond))
	if err != nil {
		t.Fatalf("DialNATS with server down: %v", err)
	}
	t.Cleanup(nc.Close)
	tr := newTestTransport(t, nc, WithJetStream(), WithPublishTimeout(300*time.Millisecond))
	errs := tr.PublishBatch(context.Background(), []*Event{testEvent(1, "cow_fed", "", "")})
	if errs == nil || !errors.Is(errs[0], ErrTransportUnavailable) {
		t.Fatalf("publish before first connect: %v, want unavailable", errs)
	}
	srv.Restart()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := tr.WaitAvailable(ctx); err != nil {
		t.Fatalf("WaitAvailable: %v", err)
	}
}

func TestNATSWaitAvailableClosedAndCancelled(t *testing.T) {
	srv := natstest.StartServer(t)
	nc := srv.Connect(t)
	tr := newTestTransport(t, nc)

	srv.Shutdown()
	natstest.WaitFor(t, 5*time.Second, "disconnect", func() bool { return nc.Status() != nats.CONNECTED })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := tr.WaitAvailable(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitAvailable with expiring ctx = %v, want deadline exceeded", err)
	}

	nc.Close()
	if err := tr.WaitAvailable(context.Background()); !errors.Is(err, nats.ErrConnectionClosed) {
		t.Fatalf("WaitAvailable on closed conn = %v, want ErrConnectionClosed", err)
	}
	err := tr.Publish(context.Background(), testEvent(1, "cow_fed", "Cow", "1"))
	if !errors.Is(err, ErrTransportUnavailable) {
		t.Fatalf("Publish on closed conn = %v, want unavailable", err)
	}
}

func TestNATSJetStreamNoStreamIsFailure(t *testing.T) {
	t.Parallel()
	srv := natstest.StartServer(t)
	nc := srv.Connect(t)
	tr := newTestTransport(t, nc, WithJetStream(), WithPublishTimeout(2*time.Second))
	err := tr.Publish(context.Background(), testEvent(1, "cow_fed", "Cow", "1"))
	if err == nil {
		t.Fatal("publish with no stream succeeded")
	}
	if errors.Is(err, ErrTransportUnavailable) || errors.Is(err, ErrPermanent) {
		t.Fatalf("no stream: %v, want a plain (retryable, counted) failure", err)
	}
	if !strings.Contains(err.Error(), "no stream captures the subject") {
		t.Errorf("error does not explain itself: %v", err)
	}
}

func TestNATSMaxPayloadIsPermanent(t *testing.T) {
	srv := natstest.StartServer(t, natstest.WithMaxPayload(4096))
	nc := srv.Connect(t)
	big := testEvent(1, "cow_fed", "Cow", "A")
	big.Payload = json.RawMessage(`{"blob":"` + strings.Repeat("x", 8000) + `"}`)
	batch := func() []*Event {
		return []*Event{big, testEvent(2, "cow_fed", "Cow", "A"), testEvent(3, "cow_fed", "Cow", "B")}
	}
	for _, mode := range []struct {
		name string
		opts []NATSOption
	}{
		{"core", nil},
		{"jetstream", []NATSOption{WithEnsureStream("EVENTS", nil, 0)}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			tr := newTestTransport(t, nc, mode.opts...)
			events := batch()
			errs := tr.PublishBatch(context.Background(), events)
			if len(errs) != 3 {
				t.Fatalf("errs = %v", errs)
			}
			if !errors.Is(errs[0], ErrPermanent) || !errors.Is(errs[0], nats.ErrMaxPayload) {
				t.Errorf("oversized event: %v, want permanent max payload", errs[0])
			}
			if errs[1] == nil || errors.Is(errs[1], ErrPermanent) {
				t.Errorf("later event of the same entity: %v, want held back (not permanent)", errs[1])
			}
			if errs[2] != nil {
				t.Errorf("other entity: %v, want published", errs[2])
			}
			checkEntityOrder(t, events, errs)
		})
	}
}

func TestNATSStreamMaxMsgSizeIsPermanent(t *testing.T) {
	t.Parallel()
	srv := natstest.StartServer(t)
	nc := srv.Connect(t)
	tr := newTestTransport(t, nc, WithStream(jetstream.StreamConfig{
		Name: "SMALL", Subjects: []string{"events.>"}, MaxMsgSize: 2048,
	}))
	big := testEvent(1, "cow_fed", "Cow", "A")
	big.Payload = json.RawMessage(`{"blob":"` + strings.Repeat("x", 4000) + `"}`)
	err := tr.Publish(context.Background(), big)
	if !errors.Is(err, ErrPermanent) {
		t.Fatalf("message over stream max size: %v, want permanent", err)
	}

	// The server rejects the first event asynchronously, after the second event of
	// the same entity was already sent and stored: the second is still reported
	// failed (held back, not permanent), so the relay keeps the entity's order.
	next := testEvent(2, "cow_fed", "Cow", "A")
	errs := tr.PublishBatch(context.Background(), []*Event{big, next})
	if len(errs) != 2 || !errors.Is(errs[0], ErrPermanent) || errs[1] == nil || errors.Is(errs[1], ErrPermanent) {
		t.Fatalf("errs = %v, want [permanent, held back]", errs)
	}
	if n := streamMsgs(t, tr.JetStream(), "SMALL"); n != 1 {
		t.Fatalf("stream holds %d messages, want 1", n)
	}
	// Its later re-send is acknowledged as a duplicate: success, still stored once.
	if err := tr.Publish(context.Background(), next); err != nil {
		t.Fatalf("re-send of the held-back event: %v", err)
	}
	if n := streamMsgs(t, tr.JetStream(), "SMALL"); n != 1 {
		t.Fatalf("stream holds %d messages after re-send, want 1", n)
	}
}

func TestNATSJetStreamNoStreamBatchProbesOnce(t *testing.T) {
	t.Parallel()
	srv := natstest.StartServer(t)
	nc := srv.Connect(t)
	tr := newTestTransport(t, nc, WithJetStream(), WithPublishTimeout(2*time.Second))
	var batch []*Event
	for i := int64(1); i <= 100; i++ {
		batch = append(batch, testEvent(i, "cow_fed", "Cow", fmt.Sprint(i%4)))
	}
	start := time.Now()
	errs := tr.PublishBatch(context.Background(), batch)
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("no-stream batch took %s", elapsed)
	}
	for i, err := range errs {
		if err == nil || errors.Is(err, ErrTransportUnavailable) {
			t.Fatalf("event %d: %v, want a plain failure", i, err)
		}
	}
}

func TestNATSEnsureStreamVerifiesExisting(t *testing.T) {
	srv := natstest.StartServer(t)
	nc := srv.Connect(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "OTHER", Subjects: []string{"other.>"}}); err != nil {
		t.Fatal(err)
	}
	tr := newTestTransport(t, nc, WithEnsureStream("OTHER", nil, 0))
	err = tr.EnsureStream(ctx)
	if err == nil || !strings.Contains(err.Error(), "events.>") {
		t.Fatalf("EnsureStream on a stream with other subjects = %v, want an error naming the missing subject", err)
	}
	// Duplicate window is capped at MaxAge.
	tr2 := newTestTransport(t, nc, WithStream(jetstream.StreamConfig{Name: "SHORT", Subjects: []string{"short.>"}, MaxAge: time.Minute}))
	if err := tr2.EnsureStream(ctx); err != nil {
		t.Fatalf("EnsureStream: %v", err)
	}
	if cfg := mustStreamConfig(t, js, "SHORT"); cfg.Duplicates != time.Minute {
		t.Errorf("duplicate window %s, want capped to MaxAge 1m", cfg.Duplicates)
	}
}

func TestNATSInvalidSubjectIsPermanent(t *testing.T) {
	srv := natstest.StartServer(t)
	nc := srv.Connect(t)
	tr := newTestTransport(t, nc, WithSubject(func(e *Event) string { return "events.*" }))
	if err := tr.Publish(context.Background(), testEvent(1, "x", "", "")); !errors.Is(err, ErrPermanent) {
		t.Fatalf("wildcard subject: %v, want permanent", err)
	}
}

func TestNewNATSTransportValidation(t *testing.T) {
	if _, err := NewNATSTransport(nil); err == nil || !strings.Contains(err.Error(), "nil *nats.Conn") {
		t.Fatalf("nil conn: %v", err)
	}
	srv := natstest.StartServer(t)
	nc := srv.Connect(t)
	for name, opt := range map[string]NATSOption{
		"timeout":     WithPublishTimeout(0),
		"maxpending":  WithMaxPending(0),
		"prefix":      WithSubjectPrefix("a.>"),
		"emptyprefix": WithSubjectPrefix(""),
		"subject":     WithSubject(nil),
		"stream":      WithStream(jetstream.StreamConfig{}),
	} {
		if _, err := NewNATSTransport(nc, opt); err == nil {
			t.Errorf("%s: invalid option accepted", name)
		}
	}
}

func TestDecodeEnvelopeRoundTrip(t *testing.T) {
	e := testEvent(42, "cow_fed", "Cow", "7")
	body, err := json.Marshal(NewEnvelope(e))
	if err != nil {
		t.Fatal(err)
	}
	env, err := DecodeEnvelope(body)
	if err != nil {
		t.Fatalf("DecodeEnvelope: %v", err)
	}
	want := *e
	want.CreatedAt = time.Time{}
	if got := EnvelopeEvent(env); !reflect.DeepEqual(got, &want) {
		t.Errorf("round trip:\n%+v\nwant\n%+v", got, &want)
	}
	// No entity: the envelope has empty class and id and a null version.
	e2 := testEvent(43, "ping", "", "")
	e2.Entity = Entity{}
	e2.Payload = nil
	body, _ = json.Marshal(NewEnvelope(e2))
	env, err = DecodeEnvelope(body)
	if err != nil {
		t.Fatalf("DecodeEnvelope: %v", err)
	}
	if string(env.Payload) != "{}" || env.Entity != (envelope.Entity{}) {
		t.Errorf("no entity / empty payload: %+v", env)
	}
}

// BenchmarkNATSJetStreamPublishBatch measures JetStream batch publishing through
// the transport (async publish, every ack awaited, Nats-Msg-Id set) against an
// in-process server with file storage. Compare with the raw figures in FIELD-NOTES.
func BenchmarkNATSJetStreamPublishBatch(b *testing.B) {
	srv := natstest.StartServer(b)
	nc := srv.Connect(b)
	tr, err := NewNATSTransport(nc, WithEnsureStream("BENCH", nil, 0))
	if err != nil {
		b.Fatal(err)
	}
	const batchSize = 500
	ctx := context.Background()
	var id int64
	b.ReportAllocs()
	for b.Loop() {
		batch := make([]*Event, batchSize)
		for i := range batch {
			id++
			batch[i] = testEvent(id, "cow_fed", "Cow", fmt.Sprint(id%64))
		}
		if errs := tr.PublishBatch(ctx, batch); errs != nil {
			b.Fatal(errors.Join(errs...))
		}
	}
	b.ReportMetric(float64(b.N*batchSize)/b.Elapsed().Seconds(), "events/s")
}
