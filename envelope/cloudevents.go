package envelope

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/edgeoutbox/edgeoutbox/internal/jsonenc"
)

// CloudEvents 1.0, written by hand to the specification (core attributes, JSON event
// format, and the NATS and Kafka protocol bindings) rather than with the SDK, which
// would add a large dependency for a few dozen lines.

// ceSpecVersion is the CloudEvents specification version written and accepted.
const ceSpecVersion = "1.0"

// cePrefix is the header name prefix of binary content mode.
func cePrefix(b Binding) string {
	if b == BindingKafka {
		return "ce_"
	}
	return "ce-"
}

// ceHeaderValue encodes a header value: percent-encoding per the NATS binding
// (space, double quote, percent and anything outside printable ASCII, as UTF-8
// bytes, upper-case hex); Kafka header values are plain UTF-8.
func ceHeaderValue(b Binding, s string) string {
	if b == BindingKafka {
		return s
	}
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' || c == '"' || c == '%' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	const hex = "0123456789ABCDEF"
	out := make([]byte, 0, len(s)+16)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c > '~' || c == '"' || c == '%' {
			out = append(out, '%', hex[c>>4], hex[c&15])
			continue
		}
		out = append(out, c)
	}
	return string(out)
}

// ceSubject is the CloudEvents subject of env: "class/id" of its entity, or "".
func ceSubject(env *Envelope) string {
	if env.Entity.Class == "" && env.Entity.ID == "" {
		return ""
	}
	return env.Entity.Class + "/" + env.Entity.ID
}

// cloudEventsHeaders calls header for every attribute in binary content mode.
func (m Encoder) cloudEventsHeaders(env *Envelope, header func(key, value string)) {
	p := cePrefix(m.Binding)
	set := func(attr, value string) { header(p+attr, ceHeaderValue(m.Binding, value)) }
	set("specversion", ceSpecVersion)
	set("id", env.IdempotencyKey)
	set("source", m.source())
	set("type", env.Name)
	set("time", env.OccurredAt.UTC().Format(time.RFC3339Nano))
	if m.Binding == BindingKafka {
		header("content-type", ContentType) // the Kafka binding maps datacontenttype here
	} else {
		set("datacontenttype", ContentType)
	}
	if s := ceSubject(env); s != "" {
		set("subject", s)
	}
	set("outboxid", strconv.FormatInt(env.ID, 10))
	set("schemaversion", strconv.Itoa(env.Version))
	set("eventtype", env.Type)
	if env.Entity.Class != "" || env.Entity.ID != "" {
		set("entityclass", env.Entity.Class)
		set("entityid", env.Entity.ID)
	}
	if env.Entity.Version != nil {
		set("entityversion", strconv.FormatInt(*env.Entity.Version, 10))
	}
	if len(env.Metadata) > 0 {
		set("metadata", string(appendMetadataJSON(nil, env.Metadata)))
	}
}

// cloudEventsJSON writes env in the JSON event format (structured content mode).
func (m Encoder) cloudEventsJSON(env *Envelope) ([]byte, error) {
	data, err := payloadBody(env)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, 320+len(data))
	str := func(name, value string) {
		b = append(b, ',', '"')
		b = append(b, name...)
		b = append(b, '"', ':')
		b = jsonenc.AppendString(b, strings.ToValidUTF8(value, "\uFFFD"))
	}
	num := func(name string, v int64) {
		b = append(b, ',', '"')
		b = append(b, name...)
		b = append(b, '"', ':')
		b = strconv.AppendInt(b, v, 10)
	}
	b = append(b, `{"specversion":"`+ceSpecVersion+`"`...)
	str("id", env.IdempotencyKey)
	str("source", m.source())
	str("type", env.Name)
	str("time", env.OccurredAt.UTC().Format(time.RFC3339Nano))
	str("datacontenttype", ContentType)
	if s := ceSubject(env); s != "" {
		str("subject", s)
	}
	num("outboxid", env.ID)
	num("schemaversion", int64(env.Version))
	str("eventtype", env.Type)
	if env.Entity.Class != "" || env.Entity.ID != "" {
		str("entityclass", env.Entity.Class)
		str("entityid", env.Entity.ID)
	}
	if env.Entity.Version != nil {
		num("entityversion", *env.Entity.Version)
	}
	if len(env.Metadata) > 0 {
		str("metadata", string(appendMetadataJSON(nil, env.Metadata)))
	}
	b = append(b, `,"data":`...)
	b = append(b, data...)
	b = append(b, '}')
	if !utf8.Valid(b) {
		// appendJSONString repairs strings; only invalid bytes in a valid-JSON payload
		// can get here.
		return nil, fmt.Errorf("encode event %d (%s): payload is not valid UTF-8", env.ID, env.Name)
	}
	return b, nil
}
