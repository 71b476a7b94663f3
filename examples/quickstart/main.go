// Command quickstart is the README's complete example: it stores one event in the
// outbox of app.db, atomically with the application's own row, and relays it to NATS
// JetStream (NATS_URL, default nats://127.0.0.1:4222).
package main

import (
	"context"
	"log"
	"os"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/edgeoutbox/edgeoutbox/examples/quickstart/events"
)

// Cow is an application type; the event reads its fields by json tag.
type Cow struct {
	ClassName string  `json:"class_name"`
	ID        int     `json:"id"`
	Version   int     `json:"version"`
	Weight    float64 `json:"weight"`
}

// Farmer is the optional input; a nil *Farmer leaves "name" out of the payload.
type Farmer struct {
	Name string `json:"name"`
}

func main() {
	ctx := context.Background()
	url := os.Getenv("NATS_URL")
	if url == "" {
		url = "nats://127.0.0.1:4222"
	}
	nc, err := edgeoutbox.DialNATS(url) // reconnects forever
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	transport, err := edgeoutbox.NewNATSTransport(nc,
		edgeoutbox.WithEnsureStream("EVENTS", nil, 0)) // JetStream, stream on events.>
	if err != nil {
		log.Fatal(err)
	}
	engine, err := edgeoutbox.Open(ctx, "app.db", edgeoutbox.Config{
		Schema:    events.Schema, // events/event_schema.json, embedded by the generated code
		Transport: transport,
	})
	if err != nil {
		log.Fatal(err) // e.g. cow_fed changed since ...; run "edgeoutbox gen ..."
	}
	defer engine.Close()
	if err := engine.Start(ctx); err != nil { // the relay
		log.Fatal(err)
	}

	// Atomic with your own write: both commit or neither.
	tx, err := engine.DB().BeginTx(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS feedings (cow INTEGER, at TEXT)"); err != nil {
		log.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO feedings VALUES (7, datetime('now'))"); err != nil {
		log.Fatal(err)
	}
	receipt, err := events.EmitCowFedTx(ctx, engine, tx, events.CowFed{
		Cow:    Cow{ClassName: "Cow", ID: 7, Version: 3, Weight: 512.5},
		Farmer: &Farmer{Name: "Daisy"},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		log.Fatal(err)
	}

	// A long-running program keeps the relay running. This one stops: Stop publishes
	// every event stored before it, waiting (here up to a minute) for NATS if it is
	// unreachable, then gives the relay up.
	stopCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := engine.Stop(stopCtx); err != nil {
		log.Fatalf("event %d not published: is NATS up at %s? %v", receipt.ID, url, err)
	}
	log.Printf("event %d (%s) published to NATS", receipt.ID, receipt.IdempotencyKey)
}
