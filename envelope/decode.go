package envelope

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ErrInvalid is returned (wrapped) by [Decode] for a body that is not a valid
// edgeoutbox envelope.
var ErrInvalid = errors.New("edgeoutbox: invalid event envelope")

// wire mirrors Envelope with pointers so that Decode can tell a missing field from a
// zero value.
type wire struct {
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

// Decode parses a message body written by edgeoutbox. It is strict about what it
// needs: id, idempotency_key, name, type, version (≥ 1), payload (a JSON object) and
// occurred_at (RFC 3339) must be present and well typed, entity and metadata must be
// objects when present, and nothing may follow the object. Unknown fields are
// ignored, so that consumers keep working when a newer producer adds one. Every error
// wraps [ErrInvalid]; it never panics.
func Decode(data []byte) (*Envelope, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
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
	var w wire
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

// DecodePayload decodes env.Payload into v after checking that the envelope carries
// the expected event name and version, so a consumer never reads one version's
// payload as another's, and that each field named in required is present and not
// null (else the error wraps [ErrMissingField]): a zero value in v then always means
// the producer sent a zero. Generated payload decoders call it.
func DecodePayload(env *Envelope, name string, version int, v any, required ...string) error {
	if env == nil {
		return fmt.Errorf("decode %s v%d payload: nil envelope", name, version)
	}
	if env.Name != name || env.Version != version {
		return fmt.Errorf("decode %s v%d payload: %w: the envelope holds %s v%d", name, version, ErrWrongEvent, env.Name, env.Version)
	}
	if err := json.Unmarshal(env.Payload, v); err != nil {
		return fmt.Errorf("decode %s v%d payload: %w", name, version, err)
	}
	if len(required) == 0 {
		return nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(env.Payload, &fields); err != nil {
		return fmt.Errorf("decode %s v%d payload: %w", name, version, err)
	}
	for _, field := range required {
		if raw, ok := fields[field]; !ok || string(bytes.TrimSpace(raw)) == "null" {
			return fmt.Errorf("decode %s v%d payload: %w: %q", name, version, ErrMissingField, field)
		}
	}
	return nil
}

// ErrMissingField is returned (wrapped) by [DecodePayload] when a field the schema
// declares required is absent or null in the payload: the message was not written by
// edgeoutbox (which refuses such an event at Emit), or by a producer with another schema.
var ErrMissingField = errors.New("a required payload field is missing")

// ErrWrongEvent is returned (wrapped) by [DecodePayload] when the envelope holds
// another event or another version than the decoder reads; switch on env.Name and
// env.Version first.
var ErrWrongEvent = errors.New("envelope holds another event or version")
