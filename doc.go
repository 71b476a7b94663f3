// Package edgeoutbox gives an edge or desktop application a durable, schema-checked
// event outbox inside its own SQLite file, and a relay that forwards the events to a
// broker (NATS core or JetStream, memory, or a custom [Transport]) whenever
// connectivity is there. The device can be offline for days: nothing is lost, nothing
// is sent twice that the broker can recognise, and it is all pure Go (no cgo).
//
// # Definitions and the schema file
//
// Events are declared in Go with [Define] and its options ([Input], [EntityID],
// [RequiredPayload], …), dumped with [DumpSchema] (or "edgeoutbox schema dump") to a
// canonical, versioned schema file that is committed and reviewed, and loaded at
// startup ([LoadSchemaFile], [LoadSchemaFS] for go:embed). Every version an event ever
// had stays in the file, so [WithVersion] can still emit an old one.
// [Schema.CheckDefinitions] reports definitions that changed since the dump.
//
// The one-file layout: "edgeoutbox gen ./events" writes events/event_schema.json next
// to the definitions and generates, from it, the embedded schema (events.Schema, made
// by [EmbeddedSchema], for Config.Schema), typed helpers per event (EmitCowFed,
// EmitCowFedTx) and, in events/payload, typed payload structs per version for
// consumers. [Definition.Package] records where each event was declared, so drift
// messages name the exact command to run.
//
// # Emitting
//
// [Open] (or [New] over the application's *sql.DB) returns an [Engine].
// [Engine.Emit] casts the inputs against the schema and stores the event durably;
// concurrent calls share one SQLite transaction (group commit). [Engine.EmitTx] writes
// inside the caller's own transaction, and [Engine.EmitBatch] writes many at once.
// Every event gets a UUIDv7 idempotency key unless the caller gives one
// ([WithIdempotencyKey]); a duplicate is refused with [ErrDuplicateEvent].
//
// # The relay
//
// [Engine.Start] starts the relay: one lease holder per database file claims due
// events in id order, publishes them in batches through the [Transport] and marks them
// published. Failures back off exponentially and dead-letter after
// [Config.MaxAttempts]; an [Unavailable] transport counts no attempt, so a week
// offline dead-letters nothing. Events of one entity are published in emission order.
// Every send runs under the lease's fence, so a relay frozen past its lease sends
// nothing more. [Engine.Stop] publishes every event stored before it was called,
// waiting within its context for the lease and the transport, then gives the lease up.
//
// # Transports
//
// [NewMemoryTransport] keeps events in memory (for tests). [NewNATSTransport] publishes
// to core NATS or, with [WithJetStream] or [WithEnsureStream], to JetStream with
// Nats-Msg-Id set to the idempotency key so the server drops a re-send.
// Consumers read the JSON envelope with package envelope (standard library only,
// no SQLite; [DecodeEnvelope] is the same decoder). A custom transport
// implements [Transport] (and optionally [BatchTransport], [AvailabilityWaiter],
// [PipelinedTransport]), keeps the per-entity order within a batch with [HoldBack], and
// runs the conformance suite of package edgeoutboxtest. The Kafka transport is the
// sub-package kafka, so that programs that do not use it link none of its client.
//
// # Operations
//
// [Engine.Stats], [Engine.ListEvents], [Engine.DeadLetters], [Engine.RetryDeadLetter],
// [Engine.RetryDeadLetters], [Engine.RetryDeadLettersMatching],
// [Engine.RetryAllDeadLetters], [Engine.Throughput], [Engine.RelayState] and
// [Engine.Cleanup] are what the command line, the dashboard and the metrics use; each
// reads running counters or an index, so its cost does not grow with the backlog.
// [Engine.Observe] tells an [Observer] about every event without loss (hooks may drop
// notifications when they fall behind). [Config.MaxPendingEvents] and
// [Config.MaxOutboxBytes] cap the disk the outbox may take ([ErrOutboxFull]).
// Retention and space give-back run beside the relay, in small steps.
package edgeoutbox
