package edgeoutbox_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/edgeoutbox/edgeoutbox/edgeoutboxtest"
	"github.com/edgeoutbox/edgeoutbox/natstest"
	"github.com/nats-io/nats.go"
)

func TestNATSCoreConformance(t *testing.T) {
	t.Parallel()
	edgeoutboxtest.RunTransportConformance(t, func(t *testing.T) *edgeoutboxtest.Harness {
		srv := natstest.StartServer(t, natstest.WithoutJetStream())
		nc := srv.Connect(t)
		var mu sync.Mutex
		var got []*edgeoutbox.Event
		var decodeErr error
		sub, err := nc.Subscribe("events.>", func(m *nats.Msg) {
			env, err := edgeoutbox.DecodeEnvelope(m.Data)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				decodeErr = err
				return
			}
			got = append(got, edgeoutbox.EnvelopeEvent(env))
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sub.Unsubscribe() })
		tr, err := edgeoutbox.NewNATSTransport(nc, edgeoutbox.WithPublishTimeout(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		return &edgeoutboxtest.Harness{Transport: tr, Received: func(context.Context) ([]*edgeoutbox.Event, error) {
			mu.Lock()
			defer mu.Unlock()
			return append([]*edgeoutbox.Event(nil), got...), decodeErr
		}, StopBroker: func(*testing.T) { srv.Shutdown() }, StartBroker: func(*testing.T) { srv.Restart() },
			// Core NATS keeps no ids: a flush that timed out under load although the
			// server had the batch makes the relay send it again.
			AtLeastOnce: true}
	})
}

func TestNATSJetStreamConformance(t *testing.T) {
	t.Parallel()
	edgeoutboxtest.RunTransportConformance(t, func(t *testing.T) *edgeoutboxtest.Harness {
		srv := natstest.StartServer(t)
		nc := srv.Connect(t)
		tr, err := edgeoutbox.NewNATSTransport(nc, edgeoutbox.WithPublishTimeout(2*time.Second),
			edgeoutbox.WithEnsureStream("EVENTS", nil, 10*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		return &edgeoutboxtest.Harness{Transport: tr, Received: func(ctx context.Context) ([]*edgeoutbox.Event, error) {
			return streamEvents(ctx, nc, "EVENTS")
		}, StopBroker: func(*testing.T) { srv.Shutdown() }, StartBroker: func(*testing.T) { srv.Restart() }}
	})
}

// streamEvents decodes every message of a stream; a stream not created yet is empty.
func streamEvents(ctx context.Context, nc *nats.Conn, stream string) ([]*edgeoutbox.Event, error) {
	msgs, err := natstest.ReadStream(ctx, nc, stream)
	if err != nil {
		if nc.IsConnected() && isStreamNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	out := make([]*edgeoutbox.Event, 0, len(msgs))
	for _, m := range msgs {
		env, err := edgeoutbox.DecodeEnvelope(m.Data)
		if err != nil {
			return nil, err
		}
		if got := m.Header.Get(edgeoutbox.HeaderMsgID); got != env.IdempotencyKey {
			return nil, &headerMismatch{got, env.IdempotencyKey}
		}
		out = append(out, edgeoutbox.EnvelopeEvent(env))
	}
	return out, nil
}
