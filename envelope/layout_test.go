package envelope_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/edgeoutbox/edgeoutbox/envelope"
)

func layoutEnvelope() *envelope.Envelope {
	v := int64(3)
	return &envelope.Envelope{
		ID: 42, IdempotencyKey: "0190-key", Name: "cow_fed", Type: "domain", Version: 2,
		Entity:     envelope.Entity{Class: "Cow", ID: "Euro € 😀 \"7\" 100%", Version: &v},
		Payload:    json.RawMessage(`{"weight":12.5,"name":"Bess"}`),
		Metadata:   map[string]string{"request_id": "r-1", "note": "a \"quoted\" value"},
		OccurredAt: time.Date(2025, 1, 2, 3, 4, 5, 123456789, time.UTC),
	}
}

// encodeMessage lays env out and returns the headers as a map, as a consumer gets them.
func encodeMessage(t *testing.T, enc envelope.Encoder, env *envelope.Envelope) (map[string][]string, []byte) {
	t.Helper()
	h := map[string][]string{}
	body, err := enc.Encode(env, func(k, v string) {
		if strings.ContainsAny(v, "\r\n") {
			t.Errorf("header %s value %q holds CR or LF", k, v)
		}
		h[k] = append(h[k], v)
	})
	if err != nil {
		t.Fatalf("%v: %v", enc.Layout, err)
	}
	return h, body
}

// Every layout, for NATS and Kafka, decodes back to the same envelope.
func TestLayoutsRoundTrip(t *testing.T) {
	t.Parallel()
	want := layoutEnvelope()
	for _, b := range []envelope.Binding{envelope.BindingNATS, envelope.BindingKafka} {
		for l := envelope.LayoutEnvelopeHeaders; l <= envelope.LayoutCloudEventsJSON; l++ {
			h, body := encodeMessage(t, envelope.Encoder{Layout: l, Binding: b}, want)
			got, err := envelope.DecodeMessage(h, body)
			if err != nil {
				t.Fatalf("%v binding %d: decode: %v\nheaders %v\nbody %s", l, b, err, h, body)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%v binding %d: got %+v, want %+v", l, b, got, want)
			}
			parsed, err := envelope.ParseLayout(l.String())
			if err != nil || parsed != l {
				t.Errorf("ParseLayout(%q) = %v, %v", l.String(), parsed, err)
			}
		}
	}
	if _, err := envelope.ParseLayout("xml"); err == nil {
		t.Error("ParseLayout accepted xml")
	}
}

// The CloudEvents layouts follow the bindings: ce- headers percent-encoded on NATS,
// ce_ headers and content-type on Kafka, application/cloudevents+json when structured.
func TestCloudEventsLayouts(t *testing.T) {
	t.Parallel()
	env := layoutEnvelope()
	h, body := encodeMessage(t, envelope.Encoder{Layout: envelope.LayoutCloudEvents, Source: "/farm/7"}, env)
	for k, want := range map[string]string{
		"ce-specversion": "1.0", "ce-id": "0190-key", "ce-source": "/farm/7", "ce-type": "cow_fed",
		"ce-time": "2025-01-02T03:04:05.123456789Z", "ce-datacontenttype": "application/json",
		"ce-outboxid": "42", "ce-schemaversion": "2", "ce-entityversion": "3",
		"ce-entityid":        "Euro%20%E2%82%AC%20%F0%9F%98%80%20%227%22%20100%25",
		envelope.HeaderMsgID: "0190-key",
	} {
		if got := h[k]; len(got) != 1 || got[0] != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	if string(body) != string(env.Payload) {
		t.Errorf("binary mode body %s, want the payload", body)
	}

	h, _ = encodeMessage(t, envelope.Encoder{Layout: envelope.LayoutCloudEvents, Binding: envelope.BindingKafka}, env)
	if got := h["ce_entityid"]; len(got) != 1 || got[0] != env.Entity.ID {
		t.Errorf("kafka ce_entityid = %q, want the plain value", got)
	}
	if got := h["content-type"]; len(got) != 1 || got[0] != "application/json" {
		t.Errorf("kafka content-type = %q", got)
	}
	if _, ok := h[envelope.HeaderMsgID]; ok {
		t.Error("kafka message carries Nats-Msg-Id")
	}

	h, body = encodeMessage(t, envelope.Encoder{Layout: envelope.LayoutCloudEventsJSON}, env)
	if got := h["Content-Type"]; len(got) != 1 || got[0] != envelope.CloudEventsJSONContentType {
		t.Errorf("structured Content-Type = %q", got)
	}
	var ce map[string]any
	if err := json.Unmarshal(body, &ce); err != nil {
		t.Fatal(err)
	}
	if ce["specversion"] != "1.0" || ce["type"] != "cow_fed" || ce["source"] != "edgeoutbox" ||
		ce["outboxid"] != 42.0 || ce["subject"] != "Cow/"+env.Entity.ID || ce["data"].(map[string]any)["name"] != "Bess" {
		t.Errorf("structured body %s", body)
	}
}

// Decoding follows the NATS binding: lower-case hex and needless encoding are
// accepted, double-quoted values unquoted, and percent-encoded bytes that are not
// UTF-8 (an overlong space) rejected.
func TestCloudEventsHeaderDecoding(t *testing.T) {
	t.Parallel()
	h, body := encodeMessage(t, envelope.Encoder{Layout: envelope.LayoutCloudEvents}, layoutEnvelope())
	h["CE-EntityClass"] = []string{`"C\"o%77"`}
	delete(h, "ce-entityclass")
	env, err := envelope.DecodeMessage(h, body)
	if err != nil || env.Entity.Class != `C"ow` {
		t.Fatalf("quoted, lower-case, needlessly encoded class: %+v, %v", env, err)
	}
	h["CE-EntityClass"] = []string{"%C0%A0"}
	if _, err := envelope.DecodeMessage(h, body); !errors.Is(err, envelope.ErrInvalid) {
		t.Fatalf("overlong encoding accepted: %v", err)
	}
}

// Broken messages of every layout are errors wrapping ErrInvalidEnvelope.
func TestDecodeMessageRejects(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		h    map[string][]string
		body string
	}{
		{"structured not json", map[string][]string{"Content-Type": {envelope.CloudEventsJSONContentType}}, "{"},
		{"structured no data", map[string][]string{"Content-Type": {envelope.CloudEventsJSONContentType}},
			`{"specversion":"1.0","id":"k","source":"s","type":"t","time":"2025-01-02T03:04:05Z","outboxid":1,"schemaversion":1}`},
		{"wrong specversion", map[string][]string{"ce-specversion": {"0.3"}}, "{}"},
		{"binary missing outboxid", map[string][]string{"ce-specversion": {"1.0"}, "ce-id": {"k"}, "ce-source": {"s"},
			"ce-type": {"t"}, "ce-time": {"2025-01-02T03:04:05Z"}, "ce-schemaversion": {"1"}}, "{}"},
		{"binary payload not object", map[string][]string{"ce-specversion": {"1.0"}, "ce-id": {"k"}, "ce-source": {"s"},
			"ce-type": {"t"}, "ce-time": {"2025-01-02T03:04:05Z"}, "ce-schemaversion": {"1"}, "ce-outboxid": {"1"}}, "[]"},
		{"bad percent", map[string][]string{"ce-specversion": {"1.%G0"}}, "{}"},
		{"header layout missing id", map[string][]string{envelope.HeaderLayout: {"headers"}}, "{}"},
		{"envelope", nil, "not json"},
	} {
		if _, err := envelope.DecodeMessage(tc.h, []byte(tc.body)); !errors.Is(err, envelope.ErrInvalid) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// The leaner layouts put fewer bytes in each message than the default.
func TestLayoutSizes(t *testing.T) {
	t.Parallel()
	env := layoutEnvelope()
	size := map[envelope.Layout]int{}
	for l := envelope.LayoutEnvelopeHeaders; l <= envelope.LayoutCloudEventsJSON; l++ {
		h, body := encodeMessage(t, envelope.Encoder{Layout: l}, env)
		n := len(body)
		for k, vs := range h {
			for _, v := range vs {
				n += len(k) + len(v) + 4 // "k: v\r\n"
			}
		}
		size[l] = n
	}
	for l, n := range size {
		if l != envelope.LayoutEnvelopeHeaders && n >= size[envelope.LayoutEnvelopeHeaders] {
			t.Errorf("%v: %d bytes, not fewer than the default's %d", l, n, size[envelope.LayoutEnvelopeHeaders])
		}
	}
}

func FuzzDecodeMessage(f *testing.F) {
	f.Add("ce-specversion", "1.0", []byte("{}"))
	f.Add("Content-Type", envelope.CloudEventsJSONContentType, []byte(`{"specversion":"1.0","data":{}}`))
	f.Add(envelope.HeaderLayout, "headers", []byte("{}"))
	f.Fuzz(func(t *testing.T, key, value string, body []byte) {
		env, err := envelope.DecodeMessage(map[string][]string{key: {value}}, body)
		if err == nil && env == nil {
			t.Fatal("nil envelope without error")
		}
	})
}

func TestNewEncoderRefusesUnknownValues(t *testing.T) {
	t.Parallel()
	if _, err := envelope.NewEncoder(envelope.Layout(9), envelope.BindingNATS, ""); err == nil || !strings.Contains(err.Error(), "cloudevents-json") {
		t.Errorf("layout 9: %v, want an error listing the layouts", err)
	}
	if _, err := envelope.NewEncoder(envelope.LayoutEnvelope, envelope.Binding(7), ""); err == nil {
		t.Error("binding 7 accepted")
	}
	enc, err := envelope.NewEncoder(envelope.LayoutCloudEvents, envelope.BindingKafka, "farm")
	if err != nil || enc != (envelope.Encoder{Layout: envelope.LayoutCloudEvents, Binding: envelope.BindingKafka, Source: "farm"}) {
		t.Errorf("NewEncoder = %+v, %v", enc, err)
	}
}
