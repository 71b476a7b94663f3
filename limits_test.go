package edgeoutbox

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/edgeoutbox/edgeoutbox/envelope"
)

var testNested = Define("nested_sent",
	Input("doc"),
	EntityClass("class_name", From("doc"), String),
	EntityID("id", From("doc"), String),
	RequiredPayload("body", From("doc"), JSON),
)

func nested(depth int) map[string]any {
	var v any = "leaf"
	for range depth {
		v = []any{v}
	}
	return map[string]any{"class_name": "Doc", "id": "1", "body": v}
}

// TestEmitRefusesWhatNoTransportCarries: header values over the limit or with line
// breaks, and JSON nested deeper than consumers decode, are refused at Emit with an
// InputError naming the field, and nothing is stored; the largest accepted event
// round-trips through the envelope.
func TestEmitRefusesWhatNoTransportCarries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := openTest(t, Config{Schema: testSchema(t, testOrderPlaced, testNested)})
	cases := []struct {
		name   string
		event  string
		inputs Inputs
		field  string
	}{
		{"entity id of 64 KiB", "nested_sent", Inputs{"doc": map[string]any{"class_name": "Doc", "id": strings.Repeat("x", 64<<10), "body": 1}}, "id"},
		{"entity id one byte over", "nested_sent", Inputs{"doc": map[string]any{"class_name": "Doc", "id": strings.Repeat("x", MaxHeaderValueLen+1), "body": 1}}, "id"},
		{"entity class with a line break", "nested_sent", Inputs{"doc": map[string]any{"class_name": "Doc\r\nX-Evil: 1", "id": "1", "body": 1}}, "class_name"},
		{"JSON one level too deep", "nested_sent", Inputs{"doc": nested(MaxJSONDepth + 1)}, "body"},
		{"JSON 10 000 levels deep", "nested_sent", Inputs{"doc": nested(10000)}, "body"},
	}
	for _, tc := range cases {
		_, err := e.Emit(ctx, tc.event, tc.inputs)
		var ie *InputError
		if !errors.As(err, &ie) || !errors.Is(err, ErrInvalidInput) || ie.Field != tc.field {
			t.Errorf("%s: %v; want an InputError for field %q", tc.name, err, tc.field)
		}
	}
	if st := mustStats(t, e); st.Pending != 0 {
		t.Fatalf("refused emits stored %d events", st.Pending)
	}

	r, err := e.Emit(ctx, "nested_sent", Inputs{"doc": nested(MaxJSONDepth)})
	if err != nil {
		t.Fatalf("JSON exactly %d levels deep: %v", MaxJSONDepth, err)
	}
	if _, err := e.Emit(ctx, "nested_sent", Inputs{"doc": map[string]any{"class_name": "Doc", "id": strings.Repeat("é", MaxHeaderValueLen/2), "body": 1}}); err != nil {
		t.Fatalf("entity id of exactly %d bytes: %v", MaxHeaderValueLen, err)
	}
	ev, err := e.GetEvent(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	body, err := encodeEnvelope(&ev.Event)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := envelope.Decode(body); err != nil {
		t.Fatalf("the deepest accepted payload does not round-trip through the envelope: %v", err)
	}
}
