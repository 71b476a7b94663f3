// Package kafka is the edgeoutbox transport for Apache Kafka, on the pure-Go client
// github.com/twmb/franz-go (kgo). It lives in its own package so that programs that
// do not import it link none of franz-go.
//
// # Records
//
// Each event becomes one record on topic events.<event name> (see [WithTopic] and
// [WithTopicPrefix]). The record key is the entity ("Class/ID"), so all events of
// one entity land in one partition, in emission order; events without an entity have
// no key. The value is the same JSON envelope the NATS transport sends
// ([edgeoutbox.Envelope], decoded with [edgeoutbox.DecodeEnvelope]) and the headers
// carry the attributes under the same names ([edgeoutbox.HeaderEvent] and the
// others), including [edgeoutbox.HeaderIdempotencyKey].
//
// # Delivery
//
// [NewClient] builds a client with an idempotent producer and acks from all in-sync
// replicas, and bounds every record's delivery in time (RecordDeliveryTimeout with
// AllowIdempotentProduceCancellation), so an offline broker never hangs the relay:
// the batch fails as unavailable within the publish timeout and the relay waits for
// the broker without counting attempts. Within one producer session the idempotent
// producer keeps the broker from storing a record twice while the client retries
// it; a batch the relay sends again (after a timeout whose outcome was unknown, or
// after a restart of the relay) is a new produce, so consumers de-duplicate by the
// idempotency key header.
//
// # Errors
//
// Three classes, see [Transport]: unavailable (no attempt counted), permanent for the
// event (dead-lettered at once), and destination blocked ([ErrDestinationBlocked]:
// authorization failures and unknown topics, which count attempts and show in
// [Transport.Stats] instead of passing for an outage).
package kafka
