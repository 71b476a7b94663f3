package edgeoutbox

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// The hand-written encoder must say exactly what encoding/json says of the envelope.
func TestEncodeEnvelopeMatchesEncodingJSON(t *testing.T) {
	v := int64(3)
	events := []*Event{
		{ID: 1, IdempotencyKey: "k", Name: "a", Type: "domain", Version: 1, Payload: json.RawMessage(`{"x":1}`), OccurredAt: time.Unix(0, 5)},
		{ID: 2, IdempotencyKey: "0190-\"q\"", Name: "cow_fed", Type: "domain", Version: 2,
			Entity: Entity{Class: "Cow <&>", ID: "7\n\u2028", Version: &v}, Payload: json.RawMessage(` {"name":"Ädä","n":[1,2]} `),
			Metadata: map[string]string{"z": "last", "a": "first\t", "é": "\x01"}, OccurredAt: time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600))},
		{ID: 3, IdempotencyKey: "bad utf8 \xff", Name: "n", Type: "t", Version: 1, Payload: nil, OccurredAt: time.Unix(1, 0)},
	}
	for _, ev := range events {
		got, err := encodeEnvelope(ev)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(NewEnvelope(ev))
		if err != nil {
			t.Fatal(err)
		}
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("event %d: invalid JSON %s: %v", ev.ID, got, err)
		}
		json.Unmarshal(want, &w)
		if !reflect.DeepEqual(g, w) {
			t.Errorf("event %d:\n got %s\nwant %s", ev.ID, got, want)
		}
		if _, err := DecodeEnvelope(got); err != nil {
			t.Errorf("event %d: DecodeEnvelope: %v", ev.ID, err)
		}
	}
	if _, err := encodeEnvelope(&Event{ID: 9, Name: "x", Payload: json.RawMessage(`{"broken"`)}); err == nil {
		t.Error("a broken payload was encoded")
	}
}
