package envelope_test

import (
	"fmt"
	"log"
	"time"

	"github.com/edgeoutbox/edgeoutbox/envelope"
)

// A consumer decodes the message body with Decode.
func ExampleDecode() {
	body := []byte(`{"id":1,"idempotency_key":"k-1","name":"cow_fed","type":"domain","version":1,
		"entity":{"class":"Cow","id":"7","version":null},"payload":{"weight":12.5},
		"occurred_at":"2025-01-02T03:04:05Z"}`)
	env, err := envelope.Decode(body)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(env.Name, env.Entity.Class, env.Entity.ID, string(env.Payload), env.OccurredAt.Format(time.RFC3339))
	// Output: cow_fed Cow 7 {"weight":12.5} 2025-01-02T03:04:05Z
}
