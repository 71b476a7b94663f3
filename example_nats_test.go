package edgeoutbox_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
)

// A JetStream transport on a connection that reconnects forever. The stream is
// created on first use if missing; its two-minute duplicate window lets the server
// drop a batch that is re-sent after a crash.
func ExampleNewNATSTransport() {
	nc, err := edgeoutbox.DialNATS("nats://127.0.0.1:4222")
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()

	tr, err := edgeoutbox.NewNATSTransport(nc,
		edgeoutbox.WithEnsureStream("EVENTS", []string{"events.>"}, 2*time.Minute),
		edgeoutbox.WithPublishTimeout(5*time.Second),
	)
	if err != nil {
		log.Fatal(err)
	}
	// Surface stream problems at start-up rather than at the first publish.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tr.EnsureStream(ctx); err != nil {
		log.Printf("stream not ready yet: %v", err)
	}
	_ = tr // pass tr as Config.Transport
}

// A consumer decodes the message body with DecodeEnvelope.
func ExampleDecodeEnvelope() {
	body := []byte(`{"id":1,"idempotency_key":"k-1","name":"cow_fed","type":"domain","version":1,
		"entity":{"class":"Cow","id":"7","version":null},"payload":{"weight":12.5},
		"occurred_at":"2025-01-02T03:04:05Z"}`)
	env, err := edgeoutbox.DecodeEnvelope(body)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(env.Name, env.Entity.Class, env.Entity.ID, string(env.Payload), env.OccurredAt.Format(time.RFC3339))
	// Output: cow_fed Cow 7 {"weight":12.5} 2025-01-02T03:04:05Z
}
