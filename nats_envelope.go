package edgeoutbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"
)

// Header names set on every NATS message published by [NATSTransport]. The JSON
// envelope in the body carries the same attributes (and the payload and metadata);
// the headers let consumers route or filter without parsing the body.
const (
	// HeaderMsgID is JetStream's de-duplication header; its value is the event's
	// idempotency key. It is set in core mode too, so consumers can de-duplicate.
	HeaderMsgID = "Nats-Msg-Id"
	// HeaderEventID is the outbox row id (decimal).
	HeaderEventID = "Edgeoutbox-Id"
	// HeaderIdempotencyKey is the event's idempotency key.
	HeaderIdempotencyKey = "Edgeoutbox-Idempotency-Key"
	// HeaderEvent is the event name.
	HeaderEvent = "Edgeoutbox-Event"
	// HeaderType is the event type.
	HeaderType = "Edgeoutbox-Type"
	// HeaderVersion is the event's schema version (decimal).
	HeaderVersion = "Edgeoutbox-Version"
	// HeaderEntityClass is the entity class; absent when the event has no entity.
	HeaderEntityClass = "Edgeoutbox-Entity-Class"
	// HeaderEntityID is the entity id; absent when the event has no entity.
	HeaderEntityID = "Edgeoutbox-Entity-Id"
	// HeaderEntityVersion is the entity version (decimal); absent when not declared.
	HeaderEntityVersion = "Edgeoutbox-Entity-Version"
	// HeaderOccurredAt is when the event occurred, RFC 3339 with nanoseconds, UTC.
	HeaderOccurredAt = "Edgeoutbox-Occurred-At"
	// HeaderContentType is the body's media type, always [EnvelopeContentType].
	HeaderContentType = "Content-Type"
)

// EnvelopeContentType is the media type of the JSON envelope in a message body.
const EnvelopeContentType = "application/json"

// Envelope is the JSON body of a message published by [NATSTransport]:
//
//	{"id":42,"idempotency_key":"0190…","name":"cow_fed","type":"domain","version":1,
//	 "entity":{"class":"Cow","id":"7","version":3},"payload":{…},
//	 "metadata":{"request_id":"…"},"occurred_at":"2025-01-02T03:04:05.123456789Z"}
//
// Consumers decode it with [DecodeEnvelope]. Delivery state (attempts, created and
// published times) is not part of the envelope.
type Envelope struct {
	ID             int64             `json:"id"`
	IdempotencyKey string            `json:"idempotency_key"`
	Name           string            `json:"name"`
	Type           string            `json:"type"`
	Version        int               `json:"version"`
	Entity         Entity            `json:"entity"`
	Payload        json.RawMessage   `json:"payload"`
	Metadata       map[string]string `json:"metadata,omitempty"`
	OccurredAt     time.Time         `json:"occurred_at"`
}

// NewEnvelope returns the envelope of e. The payload is copied as is; an empty
// payload becomes {}.
func NewEnvelope(e *Event) *Envelope {
	payload := e.Payload
	if len(bytes.TrimSpace(payload)) == 0 {
		payload = json.RawMessage("{}")
	}
	return &Envelope{
		ID:             e.ID,
		IdempotencyKey: e.IdempotencyKey,
		Name:           e.Name,
		Type:           e.Type,
		Version:        e.Version,
		Entity:         e.Entity,
		Payload:        payload,
		Metadata:       e.Metadata,
		OccurredAt:     e.OccurredAt.UTC(),
	}
}

// Event returns the envelope as an Event (without delivery state such as Attempts).
// Payload and metadata are copied, so the Event does not alias the envelope.
func (env *Envelope) Event() *Event {
	e := &Event{
		ID:             env.ID,
		IdempotencyKey: env.IdempotencyKey,
		Name:           env.Name,
		Type:           env.Type,
		Version:        env.Version,
		Entity:         env.Entity,
		Payload:        append(json.RawMessage(nil), env.Payload...),
		OccurredAt:     env.OccurredAt,
	}
	if env.Entity.Version != nil {
		v := *env.Entity.Version
		e.Entity.Version = &v
	}
	if env.Metadata != nil {
		e.Metadata = make(map[string]string, len(env.Metadata))
		for k, v := range env.Metadata {
			e.Metadata[k] = v
		}
	}
	return e
}

// ErrInvalidEnvelope is returned (wrapped) by DecodeEnvelope for a body that is not a
// valid edgeoutbox envelope.
var ErrInvalidEnvelope = errors.New("edgeoutbox: invalid event envelope")

// envelopeWire mirrors Envelope with pointers so that DecodeEnvelope can tell a
// missing field from a zero value.
type envelopeWire struct {
	ID             *int64             `json:"id"`
	IdempotencyKey *string            `json:"idempotency_key"`
	Name           *string            `json:"name"`
	Type           *string            `json:"type"`
	Version        *int               `json:"version"`
	Entity         *Entity            `json:"entity"`
	Payload        json.RawMessage    `json:"payload"`
	Metadata       *map[string]string `json:"metadata"`
	OccurredAt     *string            `json:"occurred_at"`
}

// DecodeEnvelope parses a message body written by [NATSTransport]. It is strict about
// what it needs: id, idempotency_key, name, type, version (≥ 1), payload (a JSON
// object) and occurred_at (RFC 3339) must be present and well typed, entity and
// metadata must be objects when present, and nothing may follow the object. Unknown
// fields are ignored, so that consumers keep working when a newer producer adds one.
// Every error wraps [ErrInvalidEnvelope]; it never panics.
func DecodeEnvelope(data []byte) (*Envelope, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidEnvelope, fmt.Sprintf(format, args...))
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, fail("empty body")
	}
	if trimmed[0] != '{' {
		return nil, fail("body is not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	var w envelopeWire
	if err := dec.Decode(&w); err != nil {
		return nil, fail("decode: %v", err)
	}
	if dec.InputOffset() != int64(len(trimmed)) {
		return nil, fail("trailing data after the JSON object")
	}

	switch {
	case w.ID == nil:
		return nil, fail(`missing "id"`)
	case w.IdempotencyKey == nil || *w.IdempotencyKey == "":
		return nil, fail(`missing or empty "idempotency_key"`)
	case w.Name == nil || *w.Name == "":
		return nil, fail(`missing or empty "name"`)
	case w.Type == nil:
		return nil, fail(`missing "type"`)
	case w.Version == nil:
		return nil, fail(`missing "version"`)
	case *w.Version < 1:
		return nil, fail(`"version" must be at least 1, got %d`, *w.Version)
	case w.OccurredAt == nil:
		return nil, fail(`missing "occurred_at"`)
	}
	p := bytes.TrimSpace(w.Payload)
	if len(p) == 0 {
		return nil, fail(`missing "payload"`)
	}
	if p[0] != '{' {
		return nil, fail(`"payload" must be a JSON object`)
	}
	occurred, err := time.Parse(time.RFC3339Nano, *w.OccurredAt)
	if err != nil {
		return nil, fail(`"occurred_at" is not an RFC 3339 time: %v`, err)
	}

	env := &Envelope{
		ID:             *w.ID,
		IdempotencyKey: *w.IdempotencyKey,
		Name:           *w.Name,
		Type:           *w.Type,
		Version:        *w.Version,
		Payload:        append(json.RawMessage(nil), p...),
		OccurredAt:     occurred,
	}
	if w.Entity != nil {
		env.Entity = *w.Entity
	}
	if w.Metadata != nil {
		env.Metadata = *w.Metadata
	}
	return env, nil
}

// natsMessage builds the message for e: JSON envelope body plus attribute headers.
// An error means the event can never be encoded (e.g. its payload is not valid JSON).
func natsMessage(subject string, e *Event) (*nats.Msg, error) {
	body, err := encodeEnvelope(e)
	if err != nil {
		return nil, err
	}
	// Header keys are already canonical: assign instead of Set, which canonicalises
	// every key again, and give every value a slot of one backing array (this runs for
	// every event the relay sends).
	var vals [11]string
	n := 0
	h := make(nats.Header, len(vals))
	set := func(key, value string) {
		vals[n] = value
		h[key] = vals[n : n+1 : n+1]
		n++
	}
	set(HeaderContentType, EnvelopeContentType)
	if e.IdempotencyKey != "" {
		key := headerValue(e.IdempotencyKey)
		set(HeaderMsgID, key)
		set(HeaderIdempotencyKey, key)
	}
	set(HeaderEventID, strconv.FormatInt(e.ID, 10))
	set(HeaderEvent, headerValue(e.Name))
	set(HeaderType, headerValue(e.Type))
	set(HeaderVersion, strconv.Itoa(e.Version))
	if e.Entity.Class != "" || e.Entity.ID != "" {
		set(HeaderEntityClass, headerValue(e.Entity.Class))
		set(HeaderEntityID, headerValue(e.Entity.ID))
	}
	if e.Entity.Version != nil {
		set(HeaderEntityVersion, strconv.FormatInt(*e.Entity.Version, 10))
	}
	set(HeaderOccurredAt, e.OccurredAt.UTC().Format(time.RFC3339Nano))
	return &nats.Msg{Subject: subject, Header: h, Data: body}, nil
}

// encodeEnvelope writes the JSON of NewEnvelope(e) without reflection. Should a row
// written by another program hold invalid UTF-8 or JSON, it falls back to
// encoding/json, which repairs strings and rejects a bad payload.
func encodeEnvelope(e *Event) ([]byte, error) {
	b := make([]byte, 0, 256+len(e.Payload))
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, e.ID, 10)
	b = append(b, `,"idempotency_key":`...)
	b = appendJSONString(b, e.IdempotencyKey)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, e.Name)
	b = append(b, `,"type":`...)
	b = appendJSONString(b, e.Type)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, int64(e.Version), 10)
	b = append(b, `,"entity":{"class":`...)
	b = appendJSONString(b, e.Entity.Class)
	b = append(b, `,"id":`...)
	b = appendJSONString(b, e.Entity.ID)
	b = append(b, `,"version":`...)
	if e.Entity.Version != nil {
		b = strconv.AppendInt(b, *e.Entity.Version, 10)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `},"payload":`...)
	if payload := bytes.TrimSpace(e.Payload); len(payload) > 0 {
		b = append(b, payload...)
	} else {
		b = append(b, "{}"...)
	}
	if len(e.Metadata) > 0 {
		keys := make([]string, 0, len(e.Metadata))
		for k := range e.Metadata {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b = append(b, `,"metadata":{`...)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSONString(b, e.Metadata[k])
		}
		b = append(b, '}')
	}
	b = append(b, `,"occurred_at":"`...)
	b = e.OccurredAt.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `"}`...)
	if json.Valid(b) && utf8.Valid(b) {
		return b, nil
	}
	body, err := json.Marshal(NewEnvelope(e))
	if err != nil {
		return nil, fmt.Errorf("encode envelope of event %d (%s): %w", e.ID, e.Name, err)
	}
	return body, nil
}

// headerValue makes s safe as a header value: CR and LF would end the header block
// on the wire. The envelope keeps the exact value.
func headerValue(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

// NATSMessage returns the message the NATS transport publishes for e on subject: the
// JSON envelope as body, the attribute headers and Nats-Msg-Id. Use it to publish an
// event by hand exactly as the relay would (tools, benchmarks, migrations).
func NATSMessage(subject string, e *Event) (*nats.Msg, error) { return natsMessage(subject, e) }
