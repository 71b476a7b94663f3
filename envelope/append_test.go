package envelope_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/edgeoutbox/edgeoutbox/envelope"
)

// AppendMarshal appends exactly what Marshal returns, keeps what dst held, and takes
// the encoding/json fallback (invalid UTF-8 repaired) in place too.
func TestAppendMarshalAppendsWhatMarshalReturns(t *testing.T) {
	envs := []*envelope.Envelope{
		{ID: 1, IdempotencyKey: "k1", Name: "cow_fed", Type: "domain", Version: 2, Payload: json.RawMessage(`{"w":1}`),
			Metadata: map[string]string{"b": "2", "a": "1"}, OccurredAt: time.Unix(1700000000, 5)},
		{ID: 2, Name: "bad\xffname", Payload: json.RawMessage(`{}`), OccurredAt: time.Unix(0, 0)},
	}
	buf := []byte("prefix:")
	for _, env := range envs {
		want, err := envelope.Marshal(env)
		if err != nil {
			t.Fatal(err)
		}
		before := append([]byte(nil), buf...)
		got, err := envelope.AppendMarshal(buf, env)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(got, before) || !bytes.Equal(got[len(before):], want) {
			t.Fatalf("AppendMarshal(%q) = %q, want the prefix then %q", before, got, want)
		}
		buf = got
	}
	if _, err := envelope.AppendMarshal(nil, &envelope.Envelope{Payload: json.RawMessage(`{"broken"`)}); err == nil {
		t.Fatal("AppendMarshal of an invalid payload: no error")
	}
}
