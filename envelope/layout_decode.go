package envelope

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// DecodeMessage decodes a message in any [Layout] from its headers and body. headers
// is matched without regard to case; a nats.Header can be passed as is, and Kafka
// record headers put into a map first. It tells the layouts apart the way the
// CloudEvents bindings say: a Content-Type of application/cloudevents… is structured
// mode, a ce-specversion (or ce_specversion) header binary mode, [HeaderLayout]
// "headers" the header layout, and anything else the JSON envelope (see
// [DecodeEnvelope]). Every error wraps [ErrInvalid]; it never panics.
func DecodeMessage(headers map[string][]string, body []byte) (*Envelope, error) {
	ct, _ := lookupHeader(headers, HeaderContentType)
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "application/cloudevents") {
		return decodeCloudEventsJSON(body)
	}
	if attrs, ok, err := cloudEventsHeaderAttrs(headers); err != nil {
		return nil, err
	} else if ok {
		if _, set := attrs["datacontenttype"]; !set && ct != "" {
			attrs["datacontenttype"] = ct // the Kafka binding carries it as content-type
		}
		return envelopeFromCloudEvent(attrs, body)
	}
	if l, _ := lookupHeader(headers, HeaderLayout); l == "headers" {
		return decodeHeaderLayout(headers, body)
	}
	return Decode(body)
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// lookupHeader returns the first value of key, matched without regard to case.
func lookupHeader(h map[string][]string, key string) (string, bool) {
	if v, ok := h[key]; ok && len(v) > 0 {
		return v[0], true
	}
	for k, v := range h {
		if len(v) > 0 && strings.EqualFold(k, key) {
			return v[0], true
		}
	}
	return "", false
}

// cloudEventsHeaderAttrs collects the ce- (NATS, percent-encoded) and ce_ (Kafka,
// plain) headers by lower-case attribute name; ok is false when there is no
// specversion among them.
func cloudEventsHeaderAttrs(h map[string][]string) (map[string]string, bool, error) {
	var attrs map[string]string
	for k, v := range h {
		if len(k) < 4 || len(v) == 0 || !strings.EqualFold(k[:2], "ce") || (k[2] != '-' && k[2] != '_') {
			continue
		}
		value := v[0]
		if k[2] == '-' {
			var err error
			if value, err = ceDecodeHeaderValue(value); err != nil {
				return nil, false, invalid("header %s: %v", k, err)
			}
		}
		if attrs == nil {
			attrs = map[string]string{}
		}
		attrs[strings.ToLower(k[3:])] = value
	}
	_, ok := attrs["specversion"]
	return attrs, ok, nil
}

// ceDecodeHeaderValue undoes the NATS binding's encoding: a double-quoted string is
// unquoted first (older producers), then one round of percent-decoding; the result
// must be valid UTF-8.
func ceDecodeHeaderValue(s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		var b strings.Builder
		for i := 1; i < len(s)-1; i++ {
			c := s[i]
			if c == '\\' && i+1 < len(s)-1 {
				i++
				c = s[i]
			}
			b.WriteByte(c)
		}
		s = b.String()
	}
	if !strings.Contains(s, "%") {
		if !utf8.ValidString(s) {
			return "", fmt.Errorf("not valid UTF-8")
		}
		return s, nil
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			out = append(out, s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", fmt.Errorf("truncated percent-encoding")
		}
		v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			return "", fmt.Errorf("bad percent-encoding %q", s[i:i+3])
		}
		out = append(out, byte(v))
		i += 2
	}
	if !utf8.Valid(out) {
		return "", fmt.Errorf("percent-encoded bytes are not valid UTF-8")
	}
	return string(out), nil
}

// decodeCloudEventsJSON reads the JSON event format.
func decodeCloudEventsJSON(body []byte) (*Envelope, error) {
	dec := json.NewDecoder(bytes.NewReader(bytes.TrimSpace(body)))
	dec.UseNumber()
	var raw map[string]json.RawMessage
	if err := dec.Decode(&raw); err != nil || raw == nil {
		return nil, invalid("cloudevent body is not a JSON object: %v", err)
	}
	if dec.More() {
		return nil, invalid("trailing data after the cloudevent")
	}
	attrs := make(map[string]string, len(raw))
	for k, v := range raw {
		if k == "data" || k == "data_base64" {
			continue
		}
		v = bytes.TrimSpace(v)
		switch {
		case len(v) > 0 && v[0] == '"':
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, invalid("cloudevent attribute %q: %v", k, err)
			}
			attrs[k] = s
		case string(v) == "null":
		default:
			attrs[k] = string(v) // Integer or Boolean: its canonical string is the JSON text
		}
	}
	data, ok := raw["data"]
	if !ok {
		return nil, invalid(`cloudevent has no "data"`)
	}
	return envelopeFromCloudEvent(attrs, data)
}

// envelopeFromCloudEvent builds the envelope from CloudEvents attributes and data.
func envelopeFromCloudEvent(a map[string]string, data []byte) (*Envelope, error) {
	if v := a["specversion"]; v != ceSpecVersion {
		return nil, invalid("cloudevent specversion %q, want %q", v, ceSpecVersion)
	}
	for _, req := range []string{"id", "source", "type", "time", "outboxid", "schemaversion"} {
		if a[req] == "" {
			return nil, invalid("cloudevent has no %q attribute", req)
		}
	}
	if ct := a["datacontenttype"]; ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return nil, invalid("cloudevent datacontenttype %q is not application/json", ct)
	}
	id, err := strconv.ParseInt(a["outboxid"], 10, 64)
	if err != nil {
		return nil, invalid("cloudevent outboxid %q is not an integer", a["outboxid"])
	}
	version, err := strconv.Atoi(a["schemaversion"])
	if err != nil || version < 1 {
		return nil, invalid("cloudevent schemaversion %q is not an integer of at least 1", a["schemaversion"])
	}
	env := &Envelope{ID: id, IdempotencyKey: a["id"], Name: a["type"], Type: a["eventtype"], Version: version,
		Entity: Entity{Class: a["entityclass"], ID: a["entityid"]}}
	if v, ok := a["entityversion"]; ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, invalid("cloudevent entityversion %q is not an integer", v)
		}
		env.Entity.Version = &n
	}
	if env.OccurredAt, err = time.Parse(time.RFC3339Nano, a["time"]); err != nil {
		return nil, invalid("cloudevent time %q is not an RFC 3339 time", a["time"])
	}
	if md, ok := a["metadata"]; ok {
		if err := json.Unmarshal([]byte(md), &env.Metadata); err != nil {
			return nil, invalid("cloudevent metadata is not a JSON object of strings: %v", err)
		}
	}
	if env.Payload, err = payloadObject(data); err != nil {
		return nil, err
	}
	return env, nil
}

// decodeHeaderLayout reads LayoutHeaders: attributes in headers, the payload as body.
func decodeHeaderLayout(h map[string][]string, body []byte) (*Envelope, error) {
	get := func(k string) string { v, _ := lookupHeader(h, k); return v }
	for _, req := range []string{HeaderEventID, HeaderIdempotencyKey, HeaderEvent, HeaderVersion, HeaderOccurredAt} {
		if get(req) == "" {
			return nil, invalid("header layout without %s", req)
		}
	}
	id, err := strconv.ParseInt(get(HeaderEventID), 10, 64)
	if err != nil {
		return nil, invalid("%s %q is not an integer", HeaderEventID, get(HeaderEventID))
	}
	version, err := strconv.Atoi(get(HeaderVersion))
	if err != nil || version < 1 {
		return nil, invalid("%s %q is not an integer of at least 1", HeaderVersion, get(HeaderVersion))
	}
	env := &Envelope{ID: id, IdempotencyKey: get(HeaderIdempotencyKey), Name: get(HeaderEvent), Type: get(HeaderType),
		Version: version, Entity: Entity{Class: get(HeaderEntityClass), ID: get(HeaderEntityID)}}
	if v, ok := lookupHeader(h, HeaderEntityVersion); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, invalid("%s %q is not an integer", HeaderEntityVersion, v)
		}
		env.Entity.Version = &n
	}
	if env.OccurredAt, err = time.Parse(time.RFC3339Nano, get(HeaderOccurredAt)); err != nil {
		return nil, invalid("%s %q is not an RFC 3339 time", HeaderOccurredAt, get(HeaderOccurredAt))
	}
	if md, ok := lookupHeader(h, HeaderMetadata); ok {
		if err := json.Unmarshal([]byte(md), &env.Metadata); err != nil {
			return nil, invalid("%s is not a JSON object of strings: %v", HeaderMetadata, err)
		}
	}
	if env.Payload, err = payloadObject(body); err != nil {
		return nil, err
	}
	return env, nil
}

// payloadObject checks that data is one JSON object and returns a copy.
func payloadObject(data []byte) (json.RawMessage, error) {
	p := bytes.TrimSpace(data)
	if len(p) == 0 || p[0] != '{' || !json.Valid(p) {
		return nil, invalid("payload is not a JSON object")
	}
	return append(json.RawMessage(nil), p...), nil
}
