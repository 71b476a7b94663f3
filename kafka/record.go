package kafka

import (
	"errors"
	"fmt"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/edgeoutbox/edgeoutbox/envelope"
	"github.com/twmb/franz-go/pkg/kgo"
)

// defaultEncoder lays records out as every existing consumer reads them: the JSON
// envelope as value and the attributes again in headers.
var defaultEncoder = envelope.Encoder{Layout: envelope.LayoutEnvelopeHeaders, Binding: envelope.BindingKafka}

// encodeEvent is the one place this package builds a record's value and headers:
// package envelope defines them for every transport and layout.
func encodeEvent(enc envelope.Encoder, e *edgeoutbox.Event) ([]byte, []kgo.RecordHeader, error) {
	env := edgeoutbox.NewEnvelope(e)
	h := make([]kgo.RecordHeader, 0, envelope.MaxHeaders)
	body, err := enc.Encode(env, func(key, value string) {
		h = append(h, kgo.RecordHeader{Key: key, Value: []byte(value)})
	})
	if err != nil {
		return nil, nil, err
	}
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

// Record returns the record the transport produces for e on topic in the default
// layout: envelope value, entity key and attribute headers. Use it to produce an event
// by hand exactly as the relay would (tools, benchmarks, migrations).
func Record(topic string, e *edgeoutbox.Event) (*kgo.Record, error) {
	return record(defaultEncoder, topic, e, EntityKey)
}

func record(enc envelope.Encoder, topic string, e *edgeoutbox.Event, key func(*edgeoutbox.Event) []byte) (*kgo.Record, error) {
	if e == nil {
		return nil, errors.New("nil event")
	}
	if err := validTopic(topic); err != nil {
		return nil, fmt.Errorf("event %d (%s): topic %q: %w", e.ID, e.Name, topic, err)
	}
	body, h, err := encodeEvent(enc, e)
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
