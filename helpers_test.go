package edgeoutbox

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// testOrderPlaced is the event most engine tests emit.
var testOrderPlaced = Define("order_placed",
	EventType("domain"),
	Input("order"),
	OptionalInput("customer"),
	EntityClass("class_name", From("order"), String),
	EntityID("id", From("order"), Int),
	EntityVersion("version", From("order"), Int),
	RequiredPayload("total", From("order"), Float),
	OptionalPayload("customer_name", FromAttr("customer", "name"), String),
)

// testOrder is an input struct for testOrderPlaced.
type testOrder struct {
	ClassName string  `json:"class_name"`
	ID        int     `json:"id"`
	Version   int     `json:"version"`
	Total     float64 `json:"total"`
}

func orderInputs(id, version int) Inputs {
	return Inputs{"order": testOrder{ClassName: "Order", ID: id, Version: version, Total: float64(id) + 0.5}}
}

func testSchema(t testing.TB, defs ...*Definition) *Schema {
	t.Helper()
	if len(defs) == 0 {
		defs = []*Definition{testOrderPlaced}
	}
	s, _, err := NewSchema(DefaultSchemaFile).With(defs...)
	if err != nil {
		t.Fatalf("build schema: %v", err)
	}
	return s
}

// openTest opens an engine on a fresh database file in t.TempDir().
func openTest(t testing.TB, cfg Config) *Engine {
	t.Helper()
	return openTestAt(t, filepath.Join(t.TempDir(), "outbox.db"), cfg)
}

func openTestAt(t testing.TB, path string, cfg Config) *Engine {
	t.Helper()
	if cfg.Schema == nil {
		cfg.Schema = testSchema(t)
	}
	e, err := Open(context.Background(), path, cfg)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// eventually polls cond until it is true or the deadline passes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func mustStats(t testing.TB, e *Engine) Stats {
	t.Helper()
	st, err := e.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}
