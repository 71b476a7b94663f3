package envelope

import (
	"strconv"
	"strings"
	"time"
)

// Header names set on every message published by edgeoutbox's NATS transport (and
// available to any transport through [Envelope.EachHeader]). The body carries the same
// attributes; the headers let consumers route or filter without parsing it.
const (
	// HeaderMsgID is JetStream's de-duplication header; its value is the event's
	// idempotency key. It is set in core NATS mode too, so consumers can de-duplicate.
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
	// HeaderContentType is the body's media type, always [ContentType].
	HeaderContentType = "Content-Type"
)

// ContentType is the media type of the JSON envelope in a message body.
const ContentType = "application/json"

// MaxHeaders is the largest number of headers EachHeader calls fn with, so a
// transport can size its header map once.
const MaxHeaders = 11

// EachHeader calls fn for every header of the envelope, in a fixed order, with keys in
// canonical form. Values never contain CR or LF (they would end the header block on
// the wire; the body keeps the exact value). The idempotency headers are left out when
// the key is empty, the entity class and id when the event has no entity, and the
// entity version when it is nil.
func (env *Envelope) EachHeader(fn func(key, value string)) {
	fn(HeaderContentType, ContentType)
	if env.IdempotencyKey != "" {
		key := headerValue(env.IdempotencyKey)
		fn(HeaderMsgID, key)
		fn(HeaderIdempotencyKey, key)
	}
	fn(HeaderEventID, strconv.FormatInt(env.ID, 10))
	fn(HeaderEvent, headerValue(env.Name))
	fn(HeaderType, headerValue(env.Type))
	fn(HeaderVersion, strconv.Itoa(env.Version))
	if env.Entity.Class != "" || env.Entity.ID != "" {
		fn(HeaderEntityClass, headerValue(env.Entity.Class))
		fn(HeaderEntityID, headerValue(env.Entity.ID))
	}
	if env.Entity.Version != nil {
		fn(HeaderEntityVersion, strconv.FormatInt(*env.Entity.Version, 10))
	}
	fn(HeaderOccurredAt, env.OccurredAt.UTC().Format(time.RFC3339Nano))
}

// headerValue makes s safe as a header value: CR and LF would end the header block
// on the wire.
func headerValue(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}
