package edgeoutbox

import (
	"time"
)

// EmitOption changes how one event is emitted.
type EmitOption func(*emitOptions)

type emitOptions struct {
	version        int  // 0: the latest
	versionSet     bool // WithVersion was given, so 0 or less is an error, not the latest
	occurredAt     time.Time
	metadata       map[string]string
	idempotencyKey string
}

// WithVersion emits an older version of the event, as kept in the schema file. The
// default is the latest version. Versions start at 1: WithVersion(0) makes the emit
// fail with ErrUnknownVersion rather than quietly pick the latest.
func WithVersion(version int) EmitOption {
	return func(o *emitOptions) { o.version, o.versionSet = version, true }
}

// WithOccurredAt sets when the event happened. The default is the time of the Emit call.
func WithOccurredAt(t time.Time) EmitOption {
	return func(o *emitOptions) { o.occurredAt = t }
}

// WithMetadata attaches context such as a request or trace id. It travels with the
// event (NATS headers and envelope) but is not part of the schema-checked payload.
func WithMetadata(metadata map[string]string) EmitOption {
	return func(o *emitOptions) { o.metadata = metadata }
}

// WithIdempotencyKey sets the event's idempotency key instead of a fresh UUIDv7. A key
// already stored makes Emit return ErrDuplicateEvent and write nothing. Keys that sort
// by time (like UUIDv7) keep inserts fast on a large outbox.
func WithIdempotencyKey(key string) EmitOption {
	return func(o *emitOptions) { o.idempotencyKey = key }
}

// Emission is one event of an EmitBatch call.
type Emission struct {
	Name    string
	Inputs  Inputs
	Options []EmitOption
}

// Receipt identifies a stored event.
type Receipt struct {
	// ID is the outbox row id.
	ID int64
	// IdempotencyKey is the event's key, generated or given.
	IdempotencyKey string
}
