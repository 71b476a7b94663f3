package kafka

import (
	"errors"
	"fmt"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/edgeoutbox/edgeoutbox/envelope"
	"github.com/twmb/franz-go/pkg/kgo"
)

// encodeEnvelope is the one place this package builds the envelope: package
// envelope defines the body and the headers for every transport.
func encodeEnvelope(e *edgeoutbox.Event) ([]byte, []kgo.RecordHeader, error) {
	env := edgeoutbox.NewEnvelope(e)
	body, err := envelope.Marshal(env)
	if err != nil {
		return nil, nil, err
	}
	h := make([]kgo.RecordHeader, 0, envelope.MaxHeaders)
	env.EachHeader(func(key, value string) {
		if key == envelope.HeaderMsgID {
			return // JetStream's; Kafka consumers use HeaderIdempotencyKey
		}
		h = append(h, kgo.RecordHeader{Key: key, Value: []byte(value)})
	})
	return body, h, nil
}

// EntityKey returns the record key the transport gives e by default: "Class/ID",
// or nil for an event without an entity (such events are not ordered).
func EntityKey(e *edgeoutbox.Event) []byte {
	if e.Entity.Class == "" && e.Entity.ID == "" {
		return nil
	}
	b := make([]byte, 0, len(e.Entity.Class)+1+len(e.Entity.ID))
	b = append(b, e.Entity.Class...)
	b = append(b, '/')
	return append(b, e.Entity.ID...)
}

// Record returns the record the transport produces for e on topic: envelope value,
// entity key and attribute headers. Use it to produce an event by hand exactly as
// the relay would (tools, benchmarks, migrations).
func Record(topic string, e *edgeoutbox.Event) (*kgo.Record, error) {
	return record(topic, e, EntityKey)
}

func record(topic string, e *edgeoutbox.Event, key func(*edgeoutbox.Event) []byte) (*kgo.Record, error) {
	if e == nil {
		return nil, errors.New("nil event")
	}
	if err := validTopic(topic); err != nil {
		return nil, fmt.Errorf("event %d (%s): topic %q: %w", e.ID, e.Name, topic, err)
	}
	body, h, err := encodeEnvelope(e)
	if err != nil {
		return nil, fmt.Errorf("encode event %d (%s): %w", e.ID, e.Name, err)
	}
	return &kgo.Record{Topic: topic, Key: key(e), Value: body, Headers: h}, nil
}

// validTopic checks a topic name as Kafka does: 1 to 249 characters of ASCII
// letters, digits, '.', '_' and '-', and not "." or "..".
func validTopic(s string) error {
	switch {
	case s == "":
		return errors.New("empty topic name")
	case len(s) > 249:
		return errors.New("topic name longer than 249 characters")
	case s == "." || s == "..":
		return errors.New(`topic name "." or ".." is not allowed`)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("character %q not allowed in a topic name (letters, digits, '.', '_', '-')", c)
		}
	}
	return nil
}
