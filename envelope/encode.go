package envelope

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/edgeoutbox/edgeoutbox/internal/jsonenc"
)

// Marshal returns the JSON body of env: the fields in the order of [Envelope], the
// occurred-at time in UTC with nanoseconds, metadata keys sorted and left out when
// empty, and an empty payload written as {}. It writes without reflection (the relay
// runs it for every event); should a field hold invalid UTF-8 or the payload invalid
// JSON, it falls back to encoding/json, which repairs strings and rejects a bad
// payload with an error.
func Marshal(env *Envelope) ([]byte, error) {
	return AppendMarshal(make([]byte, 0, 256+len(env.Payload)), env)
}

// AppendMarshal appends the JSON body of env (see [Marshal]) to dst and returns the
// extended buffer, so that a sender can encode every message into one buffer.
func AppendMarshal(dst []byte, env *Envelope) ([]byte, error) {
	start := len(dst)
	b := append(dst, `{"id":`...)
	b = strconv.AppendInt(b, env.ID, 10)
	b = append(b, `,"idempotency_key":`...)
	b = jsonenc.AppendString(b, env.IdempotencyKey)
	b = append(b, `,"name":`...)
	b = jsonenc.AppendString(b, env.Name)
	b = append(b, `,"type":`...)
	b = jsonenc.AppendString(b, env.Type)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, int64(env.Version), 10)
	b = append(b, `,"entity":{"class":`...)
	b = jsonenc.AppendString(b, env.Entity.Class)
	b = append(b, `,"id":`...)
	b = jsonenc.AppendString(b, env.Entity.ID)
	b = append(b, `,"version":`...)
	if env.Entity.Version != nil {
		b = strconv.AppendInt(b, *env.Entity.Version, 10)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `},"payload":`...)
	payload := bytes.TrimSpace(env.Payload)
	if len(payload) > 0 {
		b = append(b, payload...)
	} else {
		b = append(b, "{}"...)
	}
	if len(env.Metadata) > 0 {
		keys := make([]string, 0, len(env.Metadata))
		for k := range env.Metadata {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b = append(b, `,"metadata":{`...)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonenc.AppendString(b, k)
			b = append(b, ':')
			b = jsonenc.AppendString(b, env.Metadata[k])
		}
		b = append(b, '}')
	}
	b = append(b, `,"occurred_at":"`...)
	b = env.OccurredAt.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `"}`...)
	if body := b[start:]; json.Valid(body) && utf8.Valid(body) {
		return b, nil
	}
	fallback := *env
	fallback.OccurredAt = env.OccurredAt.UTC()
	if len(payload) == 0 {
		fallback.Payload = json.RawMessage("{}")
	}
	body, err := json.Marshal(&fallback)
	if err != nil {
		return nil, fmt.Errorf("encode envelope of event %d (%s): %w", env.ID, env.Name, err)
	}
	return append(b[:start], body...), nil
}
