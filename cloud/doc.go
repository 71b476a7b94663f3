// Package cloud reports event metadata — never payloads — from an edgeoutbox engine to
// a collector, for fleet-wide observability and alerting.
//
// A [Reporter] is off unless [Config.Endpoint] and [Config.APIKey] are both set (see
// [ConfigFromEnv]); off, it starts no goroutine and opens no connection. On, it
// registers an Observer with the engine whose Observe only copies a few fields into a
// bounded ring buffer (the oldest dropped and counted when full), and one goroutine
// sends gzip'd JSON bodies: batches of [Entry] (50 entries or every 10 s, whichever
// first) and a periodic [Heartbeat] with the schema's fingerprints and the outbox
// counts. Requests time out after 5 s and are retried with backoff while the endpoint
// fails, keeping their batch id so a receiver can drop a re-sent batch. Nothing here
// can block, slow or fail Emit or the relay.
//
// # What is sent
//
// Event name, type, version, status, outbox row id, attempts, error class, timestamps
// and publish latency; in the heartbeat the schema, counts by status, the oldest
// pending age, the relay state and the reporter's health; the App, Environment and
// InstanceID labels. Never payloads, metadata values, idempotency keys, entities or
// error messages. The body format is [Envelope], version [WireVersion], documented in
// the README ("Cloud reporter wire format").
//
// # Lifecycle
//
// [New] checks the configuration, [Reporter.Start] returns at once, [Reporter.Stop]
// sends what is buffered until its context ends and waits for the goroutine.
package cloud
