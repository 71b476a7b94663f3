package edgeoutboxtest

import (
	"testing"

	"github.com/edgeoutbox/edgeoutbox"
)

// ConformanceEvent is the event the conformance suite emits: an order line with an
// entity (so per-entity order can be checked), a float and an optional string.
var ConformanceEvent = edgeoutbox.Define("conformance_line_added",
	edgeoutbox.EventType("domain"),
	edgeoutbox.Input("line"),
	edgeoutbox.EntityClass("kind", edgeoutbox.From("line"), edgeoutbox.String),
	edgeoutbox.EntityID("order", edgeoutbox.From("line"), edgeoutbox.String),
	edgeoutbox.EntityVersion("seq", edgeoutbox.From("line"), edgeoutbox.Int),
	edgeoutbox.RequiredPayload("amount", edgeoutbox.From("line"), edgeoutbox.Float),
	edgeoutbox.OptionalPayload("note", edgeoutbox.From("line"), edgeoutbox.String),
)

// ConformanceSchema returns an in-memory schema holding ConformanceEvent.
func ConformanceSchema(t testing.TB) *edgeoutbox.Schema {
	t.Helper()
	s, _, err := edgeoutbox.NewSchema(edgeoutbox.DefaultSchemaFile).With(ConformanceEvent)
	if err != nil {
		t.Fatalf("build conformance schema: %v", err)
	}
	return s
}
