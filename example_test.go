package edgeoutbox_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
)

// OrderPlaced is an event definition. Definitions live in one package of the
// application; "edgeoutbox schema dump" (or edgeoutbox.DumpSchema from go generate)
// writes them to the committed schema file.
var OrderPlaced = edgeoutbox.Define("order_placed",
	edgeoutbox.EventType("domain"),
	edgeoutbox.Input("order"),
	edgeoutbox.EntityClass("class_name", edgeoutbox.From("order"), edgeoutbox.String),
	edgeoutbox.EntityID("id", edgeoutbox.From("order"), edgeoutbox.Int),
	edgeoutbox.RequiredPayload("total", edgeoutbox.From("order"), edgeoutbox.Float),
	edgeoutbox.OptionalPayload("coupon", edgeoutbox.From("order"), edgeoutbox.String),
)

// Order is the application's own type; fields are matched by json tag.
type Order struct {
	ClassName string  `json:"class_name"`
	ID        int     `json:"id"`
	Total     float64 `json:"total"`
	Coupon    *string `json:"coupon"` // optional: nil leaves it out of the payload
}

// The whole story: define, dump the schema file, open the outbox, emit, relay, read back.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "edgeoutbox-example")
	defer os.RemoveAll(dir)
	schemaPath := filepath.Join(dir, edgeoutbox.DefaultSchemaFile)

	// 1. Dump the definitions to the schema file (commit it with your code).
	if _, err := edgeoutbox.DumpSchema(schemaPath, OrderPlaced); err != nil {
		fmt.Println(err)
		return
	}

	// 2. Open the outbox in the application's SQLite file.
	transport := edgeoutbox.NewMemoryTransport()
	engine, err := edgeoutbox.Open(ctx, filepath.Join(dir, "app.db"), edgeoutbox.Config{
		SchemaPath:  schemaPath,
		Definitions: []*edgeoutbox.Definition{OrderPlaced}, // checked against the file
		Transport:   transport,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer engine.Close()

	// 3. Emit: stored durably before Emit returns.
	receipt, err := engine.Emit(ctx, "order_placed", edgeoutbox.Inputs{
		"order": Order{ClassName: "Order", ID: 42, Total: 19.5},
	}, edgeoutbox.WithMetadata(map[string]string{"request_id": "req-7"}))
	if err != nil {
		fmt.Println(err)
		return
	}

	// 4. Relay: publishes in the background whenever the transport is reachable.
	if err := engine.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	waitCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := transport.WaitFor(waitCtx, 1); err != nil {
		fmt.Println(err)
		return
	}
	ev := transport.Events()[0]
	fmt.Println(ev.Name, ev.Entity.Class, ev.Entity.ID, string(ev.Payload), ev.Metadata["request_id"])
	fmt.Println(ev.IdempotencyKey == receipt.IdempotencyKey)
	// Output:
	// order_placed Order 42 {"total":19.5} req-7
	// true
}

// EmitTx writes the event in the application's own transaction: both commit or neither.
func ExampleEngine_EmitTx() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "edgeoutbox-example")
	defer os.RemoveAll(dir)
	schema, _, _ := edgeoutbox.NewSchema("").With(OrderPlaced)
	engine, err := edgeoutbox.Open(ctx, filepath.Join(dir, "app.db"), edgeoutbox.Config{Schema: schema})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer engine.Close()
	db := engine.DB()
	db.ExecContext(ctx, "CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL)")

	err = func() error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, "INSERT INTO orders (id, total) VALUES (?, ?)", 42, 19.5); err != nil {
			return err
		}
		if _, err := engine.EmitTx(ctx, tx, "order_placed", edgeoutbox.Inputs{"order": Order{ClassName: "Order", ID: 42, Total: 19.5}}); err != nil {
			return err
		}
		return tx.Commit()
	}()
	fmt.Println("committed:", err == nil)
	st, _ := engine.Stats(ctx)
	fmt.Println("pending events:", st.Pending)
	var _ *sql.Tx // the caller owns the transaction: EmitTx never commits or rolls back
	// Output:
	// committed: true
	// pending events: 1
}

// Dead letters can be listed and retried; a retried event keeps its idempotency key.
func ExampleEngine_RetryAllDeadLetters() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "edgeoutbox-example")
	defer os.RemoveAll(dir)
	schema, _, _ := edgeoutbox.NewSchema("").With(OrderPlaced)
	transport := edgeoutbox.NewMemoryTransport()
	transport.FailNext(1, edgeoutbox.Permanent(fmt.Errorf("rejected by the broker")))
	engine, err := edgeoutbox.Open(ctx, filepath.Join(dir, "app.db"), edgeoutbox.Config{Schema: schema, Transport: transport})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer engine.Close()
	engine.Emit(ctx, "order_placed", edgeoutbox.Inputs{"order": Order{ClassName: "Order", ID: 1, Total: 5}})
	engine.Start(ctx)
	for st, _ := engine.Stats(ctx); st.DeadLettered == 0; st, _ = engine.Stats(ctx) {
		time.Sleep(time.Millisecond)
	}
	dead, _ := engine.DeadLetters(ctx, 10, 0)
	fmt.Println(len(dead), dead[0].LastErrorClass, dead[0].LastError)

	n, _ := engine.RetryAllDeadLetters(ctx)
	waitCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	transport.WaitFor(waitCtx, 1)
	fmt.Println("retried:", n, "published:", transport.Len())
	// Output:
	// 1 permanent rejected by the broker
	// retried: 1 published: 1
}
