package edgeoutbox_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/edgeoutbox/edgeoutbox/envelope"
	"github.com/edgeoutbox/edgeoutbox/natstest"
)

// Each layout, published to JetStream by the transport and read back from the stream
// (headers as the client library hands them over), decodes to the event's envelope.
func TestLayoutsThroughJetStream(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv := natstest.StartServer(t)
	nc := srv.Connect(t)
	v := int64(3)
	want := &envelope.Envelope{
		ID: 42, IdempotencyKey: "0190-key", Name: "cow_fed", Type: "domain", Version: 2,
		Entity:     envelope.Entity{Class: "Cow", ID: "Euro € 😀 \"7\" 100%", Version: &v},
		Payload:    json.RawMessage(`{"weight":12.5,"name":"Bess"}`),
		Metadata:   map[string]string{"request_id": "r-1", "note": "a \"quoted\" value"},
		OccurredAt: time.Date(2025, 1, 2, 3, 4, 5, 123456789, time.UTC),
	}
	for l := envelope.LayoutEnvelopeHeaders; l <= envelope.LayoutCloudEventsJSON; l++ {
		stream := "L" + string(rune('A'+int(l)))
		prefix := "layout" + string(rune('a'+int(l)))
		tr, err := edgeoutbox.NewNATSTransport(nc, edgeoutbox.WithSubjectPrefix(prefix), edgeoutbox.WithLayout(l, ""),
			edgeoutbox.WithEnsureStream(stream, nil, time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		ev := &edgeoutbox.Event{ID: want.ID, IdempotencyKey: want.IdempotencyKey, Name: want.Name, Type: want.Type,
			Version: want.Version, Entity: edgeoutbox.Entity(want.Entity), Payload: want.Payload, Metadata: want.Metadata, OccurredAt: want.OccurredAt}
		if err := tr.Publish(ctx, ev); err != nil {
			t.Fatalf("%v: publish: %v", l, err)
		}
		msgs, err := natstest.ReadStream(ctx, nc, stream)
		if err != nil || len(msgs) != 1 {
			t.Fatalf("%v: read stream: %d messages, %v", l, len(msgs), err)
		}
		got, err := envelope.DecodeMessage(msgs[0].Header, msgs[0].Data)
		if err != nil {
			t.Fatalf("%v: decode: %v (headers %v)", l, err, msgs[0].Header)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%v: got %+v, want %+v", l, got, want)
		}
		if msgs[0].Header.Get(edgeoutbox.HeaderMsgID) != want.IdempotencyKey {
			t.Errorf("%v: Nats-Msg-Id %q", l, msgs[0].Header.Get(edgeoutbox.HeaderMsgID))
		}
	}
	if _, err := edgeoutbox.NewNATSTransport(nc, edgeoutbox.WithLayout(99, "")); err == nil {
		t.Error("layout 99 accepted")
	}
}
