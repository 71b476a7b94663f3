package kafka_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/edgeoutbox/edgeoutbox/envelope"
	"github.com/edgeoutbox/edgeoutbox/kafka"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestLayoutsRoundTrip produces one event in every layout through a real (kfake)
// broker and reads each record back with envelope.DecodeMessage: every layout carries
// the same event, and CloudEvents binary mode uses the Kafka binding's ce_ headers.
func TestLayoutsRoundTrip(t *testing.T) {
	t.Parallel()
	fc := startCluster(t, 1, faultTopic)
	cl, err := kafka.NewClient(kafka.ClientConfig{Brokers: fc.Addrs(), DeliveryTimeout: answerTimeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	layouts := []envelope.Layout{envelope.LayoutEnvelopeHeaders, envelope.LayoutEnvelope, envelope.LayoutHeaders,
		envelope.LayoutCloudEvents, envelope.LayoutCloudEventsJSON}
	sent := map[string]*edgeoutbox.Event{}
	for i, layout := range layouts {
		tr, err := kafka.NewTransport(cl, kafka.WithLayout(layout, "farm-7"), kafka.WithPublishTimeout(answerTimeout))
		if err != nil {
			t.Fatalf("%s: %v", layout, err)
		}
		ev := cowFed(int64(100+i), "cow-"+layout.String())
		ev.Metadata = map[string]string{"trace": "t-1"}
		if err := tr.Publish(context.Background(), ev); err != nil {
			t.Fatalf("%s: publish: %v", layout, err)
		}
		sent[ev.IdempotencyKey] = ev
	}
	reader := newTopicReader(t, fc.Addrs(), faultTopic)
	var recs []*kgo.Record
	deadline := time.Now().Add(30 * time.Second)
	for len(recs) < len(layouts) && time.Now().Before(deadline) {
		recs = reader.poll(context.Background())
	}
	if len(recs) != len(layouts) {
		t.Fatalf("read %d records, want %d", len(recs), len(layouts))
	}
	for i, rec := range recs {
		layout := layouts[i] // one partition: records in production order
		headers := map[string][]string{}
		for _, h := range rec.Headers {
			headers[h.Key] = append(headers[h.Key], string(h.Value))
		}
		got, err := envelope.DecodeMessage(headers, rec.Value)
		if err != nil {
			t.Fatalf("%s: decode: %v", layout, err)
		}
		want := sent[got.IdempotencyKey]
		if want == nil {
			t.Fatalf("%s: decoded an event with unknown key %q", layout, got.IdempotencyKey)
		}
		if got.ID != want.ID || got.Name != want.Name || got.Entity.Class != want.Entity.Class ||
			got.Entity.ID != want.Entity.ID || !got.OccurredAt.Equal(want.OccurredAt) || !reflect.DeepEqual(got.Metadata, want.Metadata) || !jsonEqual(got.Payload, want.Payload) {
			t.Errorf("%s: decoded %+v, want the event %+v", layout, got, want)
		}
		if _, ok := headers[envelope.HeaderMsgID]; ok {
			t.Errorf("%s: a Kafka record carries JetStream's %s header", layout, envelope.HeaderMsgID)
		}
		switch layout {
		case envelope.LayoutCloudEvents:
			if headers["ce_specversion"] == nil || headers["ce_id"][0] != want.IdempotencyKey || headers["ce_source"][0] != "farm-7" {
				t.Errorf("cloudevents: headers %v, want ce_specversion, ce_id = the key, ce_source = farm-7", headers)
			}
		case envelope.LayoutCloudEventsJSON:
			if got := headers["content-type"]; len(got) == 0 || got[0] != envelope.CloudEventsJSONContentType {
				if got := headers[envelope.HeaderContentType]; len(got) == 0 || got[0] != envelope.CloudEventsJSONContentType {
					t.Errorf("cloudevents-json: content type headers %v", headers)
				}
			}
		}
	}
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}

func TestWithLayoutRefusesUnknownLayout(t *testing.T) {
	t.Parallel()
	cl, err := kgo.NewClient(kgo.SeedBrokers("127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kafka.NewTransport(cl, kafka.WithLayout(envelope.Layout(42), "")); err == nil {
		t.Fatal("NewTransport accepted layout 42")
	}
}
