package kafka_test

import (
	"context"
	"testing"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/edgeoutbox/edgeoutbox/edgeoutboxtest"
	"github.com/edgeoutbox/edgeoutbox/kafka"
)

var conformanceTopic = "events." + edgeoutboxtest.ConformanceEvent.Name()

// TestKafkaConformance runs the transport conformance suite against kfake, including
// the broker outage: the cluster closed and started again on the same port and data
// directory while 20 000 events are emitted (2 000 under -short).
func TestKafkaConformance(t *testing.T) {
	edgeoutboxtest.RunTransportConformance(t, func(t *testing.T) *edgeoutboxtest.Harness {
		fc := startCluster(t, 3, conformanceTopic)
		// Long enough that a busy machine does not turn a slow ack into an unknown
		// outcome (re-sent, so stored twice); short enough for the outage subtests,
		// which wait for it once each.
		cl, err := kafka.NewClient(kafka.ClientConfig{Brokers: fc.Addrs(), DeliveryTimeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		tr, err := kafka.NewTransport(cl, kafka.WithPublishTimeout(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		reader := newTopicReader(t, fc.Addrs(), conformanceTopic)
		return &edgeoutboxtest.Harness{
			Transport: tr,
			Received: func(ctx context.Context) ([]*edgeoutbox.Event, error) {
				return decodeRecords(reader.poll(ctx))
			},
			StopBroker:   func(*testing.T) { fc.Stop() },
			StartBroker:  func(*testing.T) { fc.Start() },
			OutageEvents: 20000,
		}
	})
}
