// Package edgeoutboxtest holds test helpers for applications that use edgeoutbox.
//
// CheckSchema keeps the committed schema file in step with the event definitions:
//
//	func TestSchema(t *testing.T) {
//		edgeoutboxtest.CheckSchema(t, "event_schema.json", events.CowFed, events.CowMilked)
//	}
//
// It fails when the file differs from what a dump would write; rewrite the file with
//
//	go test ./... -run TestSchema -edgeoutbox.update
//
// and commit it.
package edgeoutboxtest
