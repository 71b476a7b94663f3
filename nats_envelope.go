package edgeoutbox

import (
	"bytes"
	"encoding/json"

	"github.com/nats-io/nats.go"

	"github.com/edgeoutbox/edgeoutbox/envelope"
)

// Header names set on every NATS message published by [NATSTransport]; they are
// defined in package envelope, which consumers import without linking SQLite.
const (
	HeaderMsgID          = envelope.HeaderMsgID          // see envelope.HeaderMsgID
	HeaderEventID        = envelope.HeaderEventID        // see envelope.HeaderEventID
	HeaderIdempotencyKey = envelope.HeaderIdempotencyKey // see envelope.HeaderIdempotencyKey
	HeaderEvent          = envelope.HeaderEvent          // see envelope.HeaderEvent
	HeaderType           = envelope.HeaderType           // see envelope.HeaderType
	HeaderVersion        = envelope.HeaderVersion        // see envelope.HeaderVersion
	HeaderEntityClass    = envelope.HeaderEntityClass    // see envelope.HeaderEntityClass
	HeaderEntityID       = envelope.HeaderEntityID       // see envelope.HeaderEntityID
	HeaderEntityVersion  = envelope.HeaderEntityVersion  // see envelope.HeaderEntityVersion
	HeaderOccurredAt     = envelope.HeaderOccurredAt     // see envelope.HeaderOccurredAt
	HeaderContentType    = envelope.HeaderContentType    // see envelope.HeaderContentType
)

// EnvelopeContentType is the media type of the JSON envelope in a message body.
const EnvelopeContentType = envelope.ContentType

// Envelope is the JSON body of a published event. It is [envelope.Envelope]; consumers
// should import package envelope, which does not link SQLite.
type Envelope = envelope.Envelope

// ErrInvalidEnvelope is returned (wrapped) by DecodeEnvelope for a body that is not a
// valid edgeoutbox envelope. It is [envelope.ErrInvalid].
var ErrInvalidEnvelope = envelope.ErrInvalid

// DecodeEnvelope parses a message body written by [NATSTransport]; see
// [envelope.Decode], which consumers should call instead to avoid linking SQLite.
func DecodeEnvelope(data []byte) (*Envelope, error) { return envelope.Decode(data) }

// NewEnvelope returns the envelope of e. The payload is copied as is; an empty
// payload becomes {}.
func NewEnvelope(e *Event) *Envelope {
	env := envelopeOf(e)
	if len(bytes.TrimSpace(env.Payload)) == 0 {
		env.Payload = json.RawMessage("{}")
	}
	return &env
}

// envelopeOf returns the envelope fields of e without copying the payload.
func envelopeOf(e *Event) envelope.Envelope {
	return envelope.Envelope{
		ID:             e.ID,
		IdempotencyKey: e.IdempotencyKey,
		Name:           e.Name,
		Type:           e.Type,
		Version:        e.Version,
		Entity:         envelope.Entity(e.Entity),
		Payload:        e.Payload,
		Metadata:       e.Metadata,
		OccurredAt:     e.OccurredAt.UTC(),
	}
}

// EnvelopeEvent returns env as an Event (without delivery state such as Attempts).
// Payload and metadata are copied, so the Event does not alias the envelope.
func EnvelopeEvent(env *Envelope) *Event {
	e := &Event{
		ID:             env.ID,
		IdempotencyKey: env.IdempotencyKey,
		Name:           env.Name,
		Type:           env.Type,
		Version:        env.Version,
		Entity:         Entity(env.Entity),
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

// natsMessage builds the message for e: JSON envelope body plus attribute headers.
// An error means the event can never be encoded (e.g. its payload is not valid JSON).
func natsMessage(subject string, e *Event) (*nats.Msg, error) {
	env := envelopeOf(e)
	body, err := envelope.Marshal(&env)
	if err != nil {
		return nil, err
	}
	// Header keys are already canonical: assign instead of Set, which canonicalises
	// every key again, and give every value a slot of one backing array (this runs for
	// every event the relay sends).
	var vals [envelope.MaxHeaders]string
	n := 0
	h := make(nats.Header, len(vals))
	env.EachHeader(func(key, value string) {
		vals[n] = value
		h[key] = vals[n : n+1 : n+1]
		n++
	})
	return &nats.Msg{Subject: subject, Header: h, Data: body}, nil
}

// encodeEnvelope returns the JSON body of e's envelope; see [envelope.Marshal].
func encodeEnvelope(e *Event) ([]byte, error) {
	env := envelopeOf(e)
	return envelope.Marshal(&env)
}

// NATSMessage returns the message the NATS transport publishes for e on subject: the
// JSON envelope as body, the attribute headers and Nats-Msg-Id. Use it to publish an
// event by hand exactly as the relay would (tools, benchmarks, migrations).
func NATSMessage(subject string, e *Event) (*nats.Msg, error) { return natsMessage(subject, e) }
