package envelope

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/edgeoutbox/edgeoutbox/internal/jsonenc"
)

// Layout says where an event's attributes travel in a message: in headers, in the
// body, or both. Every layout carries the same information and [DecodeMessage] reads
// them all, so a consumer does not need to know which one a producer chose.
type Layout int

const (
	// LayoutEnvelopeHeaders is the default and what every existing consumer reads: the
	// JSON [Envelope] as body, and every attribute again in the Edgeoutbox-* headers
	// (see [HeaderEvent]) so that consumers can route without parsing the body.
	LayoutEnvelopeHeaders Layout = iota
	// LayoutEnvelope is the JSON envelope as body with only Content-Type and the
	// de-duplication header (Nats-Msg-Id on NATS): the fewest bytes when consumers
	// read the body anyway.
	LayoutEnvelope
	// LayoutHeaders puts the attributes in the Edgeoutbox-* headers only, metadata in
	// [HeaderMetadata] as a JSON object, and the payload alone as body; it is marked
	// with [HeaderLayout].
	LayoutHeaders
	// LayoutCloudEvents is CloudEvents 1.0 binary content mode: each attribute in its
	// own header (ce- prefix on NATS, ce_ on Kafka), the payload as body. See
	// [CloudEventsAttributes] for how the event maps onto CloudEvents attributes.
	LayoutCloudEvents
	// LayoutCloudEventsJSON is CloudEvents 1.0 structured content mode: the JSON event
	// format (media type application/cloudevents+json) as body, the payload in "data".
	LayoutCloudEventsJSON
)

var layoutNames = [...]string{"envelope+headers", "envelope", "headers", "cloudevents", "cloudevents-json"}

// String returns the layout's name as ParseLayout reads it.
func (l Layout) String() string {
	if l >= 0 && int(l) < len(layoutNames) {
		return layoutNames[l]
	}
	return "Layout(" + strconv.Itoa(int(l)) + ")"
}

// ParseLayout reads a layout name: envelope+headers, envelope, headers, cloudevents or
// cloudevents-json.
func ParseLayout(s string) (Layout, error) {
	for i, n := range layoutNames {
		if s == n {
			return Layout(i), nil
		}
	}
	return 0, fmt.Errorf("unknown message layout %q: use one of %s", s, strings.Join(layoutNames[:], ", "))
}

// Binding is the protocol a message is laid out for. It decides the names of the
// CloudEvents headers (ce- on NATS, ce_ on Kafka), how their values are escaped, and
// which header carries the de-duplication key.
type Binding int

const (
	// BindingNATS lays messages out for NATS (headers per the NATS protocol binding
	// of CloudEvents, Nats-Msg-Id for JetStream de-duplication).
	BindingNATS Binding = iota
	// BindingKafka lays messages out for Kafka record headers (the Kafka protocol
	// binding of CloudEvents: ce_ prefix, datacontenttype as content-type).
	BindingKafka
)

// Header names and values of the leaner layouts; the other names are listed with
// [HeaderEvent].
const (
	// HeaderLayout marks a message in LayoutHeaders, whose body is the bare payload.
	HeaderLayout = "Edgeoutbox-Layout"
	// HeaderMetadata carries the metadata as a JSON object in LayoutHeaders.
	HeaderMetadata = "Edgeoutbox-Metadata"
	// CloudEventsJSONContentType is the media type of a structured CloudEvent in JSON.
	CloudEventsJSONContentType = "application/cloudevents+json"
	// DefaultCloudEventsSource is the CloudEvents source attribute when none is set.
	DefaultCloudEventsSource = "edgeoutbox"
)

// CloudEventsAttributes documents how an event maps onto CloudEvents 1.0 attributes:
// id is the idempotency key (so a re-sent event keeps its id, as the specification
// allows), source is configurable (default [DefaultCloudEventsSource]), type is the
// event name, time is when it occurred, subject is "class/id" of the entity,
// datacontenttype is application/json and data is the payload. Extension attributes
// carry the rest: outboxid (the row id, an Integer), schemaversion (Integer),
// eventtype (the event type), entityclass, entityid, entityversion (Integer) and
// metadata (the metadata as a JSON object in a String).
var CloudEventsAttributes = []string{"specversion", "id", "source", "type", "time", "datacontenttype", "subject",
	"outboxid", "schemaversion", "eventtype", "entityclass", "entityid", "entityversion", "metadata"}

// NewEncoder returns the Encoder of layout for binding, with source as the
// CloudEvents source attribute ("" means DefaultCloudEventsSource). A layout or
// binding that is not one of the constants is an error.
func NewEncoder(layout Layout, binding Binding, source string) (Encoder, error) {
	if layout < LayoutEnvelopeHeaders || layout > LayoutCloudEventsJSON {
		return Encoder{}, fmt.Errorf("unknown message layout %d: use one of the envelope.Layout constants (%s)", int(layout), strings.Join(layoutNames[:], ", "))
	}
	if binding != BindingNATS && binding != BindingKafka {
		return Encoder{}, fmt.Errorf("unknown binding %d: use envelope.BindingNATS or envelope.BindingKafka", int(binding))
	}
	return Encoder{Layout: layout, Binding: binding, Source: source}, nil
}

// Encoder writes events in a chosen layout for a chosen protocol.
type Encoder struct {
	Layout  Layout
	Binding Binding
	// Source is the CloudEvents source attribute (default DefaultCloudEventsSource).
	Source string
}

// Encode returns the message body of env and calls header for every header, with
// keys as written on the wire. The error means the event can never be encoded (its
// payload is not valid JSON, or the layout is unknown).
func (m Encoder) Encode(env *Envelope, header func(key, value string)) ([]byte, error) {
	switch m.Layout {
	case LayoutEnvelopeHeaders:
		body, err := Marshal(env)
		if err != nil {
			return nil, err
		}
		eachEnvelopeHeader(env, m.Binding, header)
		return body, nil
	case LayoutEnvelope:
		body, err := Marshal(env)
		if err != nil {
			return nil, err
		}
		header(HeaderContentType, ContentType)
		m.dedupHeader(env, header)
		return body, nil
	case LayoutHeaders:
		body, err := payloadBody(env)
		if err != nil {
			return nil, err
		}
		eachEnvelopeHeader(env, m.Binding, header)
		header(HeaderLayout, "headers")
		if len(env.Metadata) > 0 {
			header(HeaderMetadata, string(appendMetadataJSON(nil, env.Metadata)))
		}
		return body, nil
	case LayoutCloudEvents:
		body, err := payloadBody(env)
		if err != nil {
			return nil, err
		}
		m.dedupHeader(env, header)
		m.cloudEventsHeaders(env, header)
		return body, nil
	case LayoutCloudEventsJSON:
		body, err := m.cloudEventsJSON(env)
		if err != nil {
			return nil, err
		}
		header(HeaderContentType, CloudEventsJSONContentType)
		m.dedupHeader(env, header)
		return body, nil
	}
	return nil, fmt.Errorf("encode event %d (%s): unknown message layout %d", env.ID, env.Name, int(m.Layout))
}

// dedupHeader sets the broker's de-duplication header: Nats-Msg-Id on NATS (Kafka's
// idempotent producer needs none).
func (m Encoder) dedupHeader(env *Envelope, header func(key, value string)) {
	if m.Binding == BindingNATS && env.IdempotencyKey != "" {
		header(HeaderMsgID, headerValue(env.IdempotencyKey))
	}
}

func (m Encoder) source() string {
	if m.Source != "" {
		return m.Source
	}
	return DefaultCloudEventsSource
}

// eachEnvelopeHeader calls header for the Edgeoutbox-* headers of EachHeader,
// leaving out Nats-Msg-Id on Kafka.
func eachEnvelopeHeader(env *Envelope, b Binding, header func(key, value string)) {
	env.EachHeader(func(k, v string) {
		if b == BindingKafka && k == HeaderMsgID {
			return
		}
		header(k, v)
	})
}

// payloadBody is the payload as a message body: valid JSON, {} when empty.
func payloadBody(env *Envelope) ([]byte, error) {
	p := bytes.TrimSpace(env.Payload)
	if len(p) == 0 {
		return []byte("{}"), nil
	}
	if !json.Valid(p) {
		return nil, fmt.Errorf("encode event %d (%s): payload is not valid JSON", env.ID, env.Name)
	}
	return p, nil
}

// appendMetadataJSON writes metadata as a JSON object with sorted keys.
func appendMetadataJSON(b []byte, md map[string]string) []byte {
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonenc.AppendString(b, k)
		b = append(b, ':')
		b = jsonenc.AppendString(b, md[k])
	}
	return append(b, '}')
}
