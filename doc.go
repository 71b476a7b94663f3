// Package edgeoutbox gives an edge or desktop application a durable, schema-checked
// event outbox inside its own SQLite file, and a relay that forwards the events to a
// broker (NATS core or JetStream, memory, or a custom Transport) whenever connectivity
// is there.
package edgeoutbox
