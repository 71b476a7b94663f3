package envelope

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sampleEnvelope() *Envelope {
	v := int64(3)
	return &Envelope{
		ID:             42,
		IdempotencyKey: "0190-key",
		Name:           "cow_fed",
		Type:           "domain",
		Version:        2,
		Entity:         Entity{Class: "Cow", ID: "7", Version: &v},
		Payload:        json.RawMessage(`{"weight":12.5,"name":"Daisy"}`),
		Metadata:       map[string]string{"request_id": "r-1", "a": "<&>"},
		OccurredAt:     time.Date(2025, 1, 2, 3, 4, 5, 123456789, time.UTC),
	}
}

// Marshal's hand-written encoder must agree with encoding/json byte for byte, and
// Decode must give back what was marshalled.
func TestMarshalMatchesEncodingJSONAndRoundTrips(t *testing.T) {
	t.Parallel()
	noEntity := sampleEnvelope()
	noEntity.Entity = Entity{}
	noEntity.Metadata = nil
	noEntity.Payload = json.RawMessage(`{}`)
	odd := sampleEnvelope()
	odd.Name = "line\nbreak \"quoted\" \u2028"
	for _, env := range []*Envelope{sampleEnvelope(), noEntity, odd} {
		got, err := Marshal(env)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		want, err := json.Marshal(env)
		if err != nil {
			t.Fatal(err)
		}
		// encoding/json escapes <, > and &; Marshal does not. Compare decoded values.
		var a, b any
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatalf("Marshal wrote invalid JSON %s: %v", got, err)
		}
		_ = json.Unmarshal(want, &b)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("Marshal =\n%s\nencoding/json =\n%s", got, want)
		}
		back, err := Decode(got)
		if err != nil {
			t.Fatalf("Decode(%s): %v", got, err)
		}
		if !reflect.DeepEqual(back, env) {
			t.Errorf("round trip =\n%+v\nwant\n%+v", back, env)
		}
	}
}

func TestMarshalEmptyPayloadAndBadPayload(t *testing.T) {
	t.Parallel()
	env := sampleEnvelope()
	env.Payload = nil
	got, err := Marshal(env)
	if err != nil || !strings.Contains(string(got), `"payload":{}`) {
		t.Errorf("empty payload: %s, %v", got, err)
	}
	env.Payload = json.RawMessage(`{not json`)
	if _, err := Marshal(env); err == nil {
		t.Error("a payload that is not JSON was accepted")
	}
}

func TestEachHeader(t *testing.T) {
	t.Parallel()
	env := sampleEnvelope()
	env.Type = "a\r\nb"
	got := map[string]string{}
	n := 0
	env.EachHeader(func(k, v string) { got[k] = v; n++ })
	want := map[string]string{
		HeaderContentType:    ContentType,
		HeaderMsgID:          "0190-key",
		HeaderIdempotencyKey: "0190-key",
		HeaderEventID:        "42",
		HeaderEvent:          "cow_fed",
		HeaderType:           "a  b",
		HeaderVersion:        "2",
		HeaderEntityClass:    "Cow",
		HeaderEntityID:       "7",
		HeaderEntityVersion:  "3",
		HeaderOccurredAt:     "2025-01-02T03:04:05.123456789Z",
	}
	if !reflect.DeepEqual(got, want) || n != MaxHeaders {
		t.Errorf("headers (%d) = %v, want %v", n, got, want)
	}
	env.Entity = Entity{}
	env.IdempotencyKey = ""
	got = map[string]string{}
	env.EachHeader(func(k, v string) { got[k] = v })
	for _, h := range []string{HeaderEntityClass, HeaderEntityID, HeaderEntityVersion, HeaderMsgID, HeaderIdempotencyKey} {
		if _, ok := got[h]; ok {
			t.Errorf("header %s set without a value to carry", h)
		}
	}
}

func TestDecodePayload(t *testing.T) {
	t.Parallel()
	var p struct {
		Weight float64 `json:"weight"`
		Name   *string `json:"name"`
	}
	env := sampleEnvelope()
	if err := DecodePayload(env, "cow_fed", 2, &p); err != nil || p.Weight != 12.5 || p.Name == nil || *p.Name != "Daisy" {
		t.Fatalf("DecodePayload = %+v, %v", p, err)
	}
	if err := DecodePayload(env, "cow_fed", 1, &p); !errors.Is(err, ErrWrongEvent) {
		t.Errorf("wrong version: %v", err)
	}
	if err := DecodePayload(nil, "cow_fed", 1, &p); err == nil {
		t.Error("nil envelope accepted")
	}
	if err := DecodePayload(env, "cow_fed", 2, &p, "weight", "name"); err != nil {
		t.Errorf("required fields present: %v", err)
	}
	for payload, missing := range map[string]string{
		`{"name":"Daisy"}`:               "weight",
		`{"weight":null,"name":"Daisy"}`: "weight",
		`{"weight":0}`:                   "name",
	} {
		env.Payload = json.RawMessage(payload)
		err := DecodePayload(env, "cow_fed", 2, &p, "weight", "name")
		if !errors.Is(err, ErrMissingField) || !strings.Contains(err.Error(), `"`+missing+`"`) {
			t.Errorf("payload %s: %v, want ErrMissingField naming %q", payload, err, missing)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	valid := `"id":1,"idempotency_key":"k","name":"n","type":"t","version":1,"payload":{},"occurred_at":"2025-01-02T03:04:05Z"`
	for name, body := range map[string]string{
		"empty":          ``,
		"array":          `[]`,
		"null":           `null`,
		"truncated":      `{` + valid,
		"trailing":       `{` + valid + `} {}`,
		"trailing junk":  `{` + valid + `}x`,
		"missing id":     `{"idempotency_key":"k","name":"n","type":"t","version":1,"payload":{},"occurred_at":"2025-01-02T03:04:05Z"}`,
		"empty key":      `{"id":1,"idempotency_key":"","name":"n","type":"t","version":1,"payload":{},"occurred_at":"2025-01-02T03:04:05Z"}`,
		"missing name":   `{"id":1,"idempotency_key":"k","type":"t","version":1,"payload":{},"occurred_at":"2025-01-02T03:04:05Z"}`,
		"missing type":   `{"id":1,"idempotency_key":"k","name":"n","version":1,"payload":{},"occurred_at":"2025-01-02T03:04:05Z"}`,
		"version 0":      `{"id":1,"idempotency_key":"k","name":"n","type":"t","version":0,"payload":{},"occurred_at":"2025-01-02T03:04:05Z"}`,
		"version string": `{"id":1,"idempotency_key":"k","name":"n","type":"t","version":"1","payload":{},"occurred_at":"2025-01-02T03:04:05Z"}`,
		"payload array":  `{"id":1,"idempotency_key":"k","name":"n","type":"t","version":1,"payload":[],"occurred_at":"2025-01-02T03:04:05Z"}`,
		"payload null":   `{"id":1,"idempotency_key":"k","name":"n","type":"t","version":1,"payload":null,"occurred_at":"2025-01-02T03:04:05Z"}`,
		"no payload":     `{"id":1,"idempotency_key":"k","name":"n","type":"t","version":1,"occurred_at":"2025-01-02T03:04:05Z"}`,
		"bad time":       `{"id":1,"idempotency_key":"k","name":"n","type":"t","version":1,"payload":{},"occurred_at":"yesterday"}`,
		"no time":        `{"id":1,"idempotency_key":"k","name":"n","type":"t","version":1,"payload":{}}`,
		"entity string":  `{` + valid + `,"entity":"cow"}`,
		"entity id int":  `{` + valid + `,"entity":{"class":"c","id":7}}`,
		"metadata int":   `{` + valid + `,"metadata":{"a":1}}`,
		"float id":       `{"id":1.5,"idempotency_key":"k","name":"n","type":"t","version":1,"payload":{},"occurred_at":"2025-01-02T03:04:05Z"}`,
	} {
		if env, err := Decode([]byte(body)); err == nil {
			t.Errorf("%s: accepted: %+v", name, env)
		} else if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: error %v does not wrap ErrInvalid", name, err)
		}
	}
	if _, err := Decode([]byte(" {" + valid + `,"future_field":true} ` + "\n")); err != nil {
		t.Errorf("valid envelope with an unknown field and whitespace rejected: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	body, _ := Marshal(sampleEnvelope())
	f.Add(body)
	f.Add([]byte(`{"id":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := Decode(data)
		if err != nil {
			if env != nil || !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v with envelope %v", err, env)
			}
			return
		}
		// Whatever decodes must survive a re-encode and decode unchanged.
		again, err := json.Marshal(env)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		env2, err := Decode(again)
		if err != nil {
			t.Fatalf("decode of re-encoded %s: %v", again, err)
		}
		if env2.ID != env.ID || env2.IdempotencyKey != env.IdempotencyKey || env2.Name != env.Name ||
			env2.Version != env.Version || !env2.OccurredAt.Equal(env.OccurredAt) {
			t.Fatalf("re-decode differs: %+v vs %+v", env2, env)
		}
	})
}
