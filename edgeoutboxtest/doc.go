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
//	go test ./events -run TestSchema -edgeoutbox.update
//
// and commit it.
//
// RunTransportConformance is the suite every edgeoutbox transport passes (memory,
// core NATS, JetStream): delivery once with every attribute intact, batch boundaries,
// per-entity order under injected failures, a long outage with no attempts counted,
// permanent errors, max attempts, dead-letter retry and retention. Run it against a
// custom transport with a Harness that says what the broker received. FaultyTransport,
// which the suite uses to inject outages and failures, also serves in an
// application's own tests.
package edgeoutboxtest
