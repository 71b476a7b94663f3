package edgeoutbox

import (
	"encoding/json"
	"time"
)

// Event is one event as stored in the outbox and handed to a Transport.
// Transports must treat it as read-only.
type Event struct {
	// ID is the outbox row id: increasing in emission order, never reused.
	ID int64 `json:"id"`
	// IdempotencyKey is unique per event (a UUIDv7 unless the caller chose one). A
	// transport that can de-duplicate (JetStream's Nats-Msg-Id) should use it.
	IdempotencyKey string `json:"idempotency_key"`
	Name           string `json:"name"`
	Type           string `json:"type"`
	Version        int    `json:"version"`
	// Entity identifies what the event is about; events of one entity are published in
	// emission order.
	Entity Entity `json:"entity"`
	// Payload is the JSON object of the event's payload fields.
	Payload json.RawMessage `json:"payload"`
	// Metadata holds caller-supplied context such as a request id.
	Metadata   map[string]string `json:"metadata,omitempty"`
	OccurredAt time.Time         `json:"occurred_at"`
	CreatedAt  time.Time         `json:"created_at"`
	// Attempts counts earlier failed publish attempts (0 on the first try).
	Attempts int `json:"attempts"`
}

// Entity identifies the subject of an event. Class and ID are empty when the
// definition declares no entity; Version is nil when it declares no entity version.
// It has the fields of [envelope.Entity] and converts to it.
type Entity struct {
	Class   string `json:"class"`
	ID      string `json:"id"`
	Version *int64 `json:"version"`
}

// key returns the string that groups events for per-entity ordering. Events without an
// entity are not ordered against each other.
func (e Entity) key() string {
	if e.Class == "" && e.ID == "" {
		return ""
	}
	return e.Class + "\x00" + e.ID
}
