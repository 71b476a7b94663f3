package cloud

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// WireVersion is the version of the request body format described in the README
// ("Cloud reporter wire format"). It changes only when a field changes meaning or
// goes away; new fields may appear within a version and receivers must ignore them.
const WireVersion = 1

// Kinds of request body.
const (
	KindEvents    = "events"
	KindHeartbeat = "heartbeat"
)

// Statuses of an Entry.
const (
	StatusEmitted       = "emitted"
	StatusPublished     = "published"
	StatusPublishFailed = "publish_failed"
	StatusDeadLettered  = "dead_lettered"
)

// Envelope is one request body: a batch of entries or a heartbeat. It is sent as
// gzip'd JSON; BatchID stays the same when a batch is re-sent, so a receiver can
// drop a batch it already stored.
type Envelope struct {
	WireVersion int    `json:"wire_version"`
	Kind        string `json:"kind"`
	BatchID     string `json:"batch_id"`
	// CreatedAt is when the batch was put together (not when this attempt was sent).
	CreatedAt time.Time `json:"created_at"`
	Origin    Origin    `json:"origin"`
	// DroppedTotal counts the entries this reporter dropped since it started because
	// its buffer was full.
	DroppedTotal int64      `json:"dropped_total"`
	Events       []Entry    `json:"events,omitempty"`
	Heartbeat    *Heartbeat `json:"heartbeat,omitempty"`
}

// Origin says where a body comes from.
type Origin struct {
	App         string `json:"app"`
	Environment string `json:"environment"`
	InstanceID  string `json:"instance_id"`
}

// Entry is one thing that happened to one event: metadata only. It never holds the
// payload, metadata values, the idempotency key or the entity.
type Entry struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Version int    `json:"version"`
	// Status is emitted, published, publish_failed or dead_lettered.
	Status string `json:"status"`
	// EventID is the event's row id in this device's outbox (a counter, no data).
	EventID int64 `json:"event_id"`
	// Attempts counts publish attempts so far.
	Attempts int `json:"attempts"`
	// ErrorClass is transient, permanent or max_attempts for publish_failed and
	// dead_lettered (never the error message, which may quote data).
	ErrorClass string    `json:"error_class,omitempty"`
	OccurredAt time.Time `json:"occurred_at"`
	CreatedAt  time.Time `json:"created_at"`
	// At is when this status was reached.
	At time.Time `json:"at"`
	// PublishLatencyMS is created→published in milliseconds (published only).
	PublishLatencyMS float64 `json:"publish_latency_ms,omitempty"`
}

// Heartbeat is the periodic summary of the outbox and the reporter.
type Heartbeat struct {
	Schema []SchemaEvent `json:"schema"`
	// Counts, OldestPendingAgeMS and OutboxBytes come from the outbox's counters
	// (every process writing the file); StatsError is set instead when they could not
	// be read.
	Counts             Counts  `json:"counts"`
	OldestPendingAgeMS float64 `json:"oldest_pending_age_ms"`
	OutboxBytes        int64   `json:"outbox_bytes"`
	StatsError         bool    `json:"stats_error,omitempty"`
	Relay              Relay   `json:"relay"`
	Reporter           Health  `json:"reporter"`
}

// SchemaEvent is one event of the schema with its versions.
type SchemaEvent struct {
	Name     string          `json:"name"`
	Versions []SchemaVersion `json:"versions"`
}

// SchemaVersion is one version of an event: its type and fingerprint.
type SchemaVersion struct {
	Version     int    `json:"version"`
	Type        string `json:"type"`
	Fingerprint string `json:"fingerprint"`
}

// Counts are the outbox's events by status.
type Counts struct {
	Pending      int64 `json:"pending"`
	Published    int64 `json:"published"`
	DeadLettered int64 `json:"dead_lettered"`
}

// Relay is this process's relay as it stands.
type Relay struct {
	Running         bool `json:"running"`
	HoldsLease      bool `json:"holds_lease"`
	TransportOnline bool `json:"transport_online"`
}

// Health is the reporter's own state.
type Health struct {
	Buffered        int   `json:"buffered"`
	DroppedTotal    int64 `json:"dropped_total"`
	SentBatches     int64 `json:"sent_batches"`
	FailedRequests  int64 `json:"failed_requests"`
	RejectedBatches int64 `json:"rejected_batches"`
}

// newBatchID returns 16 random bytes in hex.
func newBatchID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// encode returns env as gzip'd JSON.
func encode(env *Envelope) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(env); err != nil {
		return nil, fmt.Errorf("encode %s body: %w", env.Kind, err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compress %s body: %w", env.Kind, err)
	}
	return buf.Bytes(), nil
}
