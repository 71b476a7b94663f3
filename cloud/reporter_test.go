package cloud_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/edgeoutbox/edgeoutbox/cloud"
)

// relayConfig retries quickly so failures and dead letters happen within a test.
func relayConfig() edgeoutbox.Config {
	return edgeoutbox.Config{
		MaxAttempts: 3, BackoffBase: time.Millisecond, BackoffMax: 5 * time.Millisecond,
		PollInterval: 5 * time.Millisecond,
	}
}

// failSome dead-letters event 2 (permanent) and fails event 4 once (transient).
func failSome(mem *edgeoutbox.MemoryTransport) {
	var failedFour atomic.Bool
	mem.FailWhere(func(ev *edgeoutbox.Event) error {
		switch {
		case strings.HasSuffix(ev.Entity.ID, "-2"):
			return edgeoutbox.Permanent(errors.New("refused " + ev.Entity.ID)) // the message quotes data
		case strings.HasSuffix(ev.Entity.ID, "-4") && failedFour.CompareAndSwap(false, true):
			return errors.New("flaky " + ev.Entity.ID)
		}
		return nil
	})
}

func countStatus(es []cloud.Entry) map[string]int {
	n := map[string]int{}
	for _, e := range es {
		n[e.Status]++
	}
	return n
}

func TestReporterSendsDocumentedShape(t *testing.T) {
	t.Parallel()
	col := newCollector(t, nil)
	e, mem := openEngine(t, relayConfig())
	failSome(mem)
	cfg := fast(col.URL)
	cfg.HeartbeatInterval = 100 * time.Millisecond
	startReporter(t, e, cfg)

	for i := range 10 {
		emit(t, e, i)
	}
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{cloud.StatusEmitted: 10, cloud.StatusPublished: 9, cloud.StatusPublishFailed: 1, cloud.StatusDeadLettered: 1}
	reqs := col.waitFor(t, "every status of every event", func(reqs []request) bool {
		got := countStatus(entries(t, reqs))
		for k, v := range want {
			if got[k] < v {
				return false
			}
		}
		return true
	})
	if got := countStatus(entries(t, reqs)); !equalCounts(got, want) {
		t.Fatalf("entries by status = %v, want %v", got, want)
	}
	reqs = col.waitFor(t, "a heartbeat counting the outcome", func(reqs []request) bool {
		for _, r := range reqs {
			if env := r.envelope(t); env.Kind == cloud.KindHeartbeat &&
				env.Heartbeat.Counts == (cloud.Counts{Published: 9, DeadLettered: 1}) {
				return true
			}
		}
		return false
	})

	ids := map[string]bool{}
	for _, r := range reqs {
		env := r.envelope(t)
		if r.method != http.MethodPost || r.header.Get("Content-Encoding") != "gzip" ||
			r.header.Get("Content-Type") != "application/json" ||
			r.header.Get("Authorization") != "Bearer test-key" ||
			r.header.Get(cloud.HeaderWireVersion) != strconv.Itoa(cloud.WireVersion) ||
			r.header.Get(cloud.HeaderKind) != env.Kind || r.header.Get(cloud.HeaderBatchID) != env.BatchID {
			t.Fatalf("request headers %v %v do not match the wire format (body kind %q, batch %q)", r.method, r.header, env.Kind, env.BatchID)
		}
		if env.WireVersion != cloud.WireVersion || env.CreatedAt.IsZero() ||
			env.Origin != (cloud.Origin{App: "till", Environment: "test", InstanceID: "device-1"}) {
			t.Fatalf("envelope header fields = %+v", env)
		}
		if ids[env.BatchID] || len(env.BatchID) != 32 {
			t.Fatalf("batch id %q repeated or malformed", env.BatchID)
		}
		ids[env.BatchID] = true
		switch env.Kind {
		case cloud.KindEvents:
			if len(env.Events) == 0 || len(env.Events) > cfg.BatchSize || env.Heartbeat != nil {
				t.Fatalf("events batch with %d entries (max %d), heartbeat %v", len(env.Events), cfg.BatchSize, env.Heartbeat)
			}
			for _, en := range env.Events {
				checkEntry(t, en)
			}
		case cloud.KindHeartbeat:
			checkHeartbeat(t, e, env)
		default:
			t.Fatalf("unknown kind %q", env.Kind)
		}
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func checkEntry(t *testing.T, en cloud.Entry) {
	t.Helper()
	if en.Name != "order_placed" || en.Type != "domain" || en.Version != 1 || en.EventID <= 0 ||
		en.CreatedAt.IsZero() || en.OccurredAt.IsZero() || en.At.IsZero() {
		t.Fatalf("entry %+v lacks documented fields", en)
	}
	switch en.Status {
	case cloud.StatusEmitted:
		if en.Attempts != 0 || en.ErrorClass != "" || en.PublishLatencyMS != 0 {
			t.Fatalf("emitted entry %+v", en)
		}
	case cloud.StatusPublished:
		if en.Attempts < 1 || en.PublishLatencyMS <= 0 || en.ErrorClass != "" {
			t.Fatalf("published entry %+v", en)
		}
	case cloud.StatusPublishFailed:
		if en.ErrorClass != edgeoutbox.ErrorClassTransient || en.Attempts != 1 {
			t.Fatalf("publish_failed entry %+v", en)
		}
	case cloud.StatusDeadLettered:
		if en.ErrorClass != edgeoutbox.ErrorClassPermanent {
			t.Fatalf("dead_lettered entry %+v", en)
		}
	default:
		t.Fatalf("entry status %q is not documented", en.Status)
	}
}

func checkHeartbeat(t *testing.T, e *edgeoutbox.Engine, env cloud.Envelope) {
	t.Helper()
	hb := env.Heartbeat
	if hb == nil || len(env.Events) != 0 || hb.StatsError {
		t.Fatalf("heartbeat envelope %+v", env)
	}
	if len(hb.Schema) != 1 || hb.Schema[0].Name != "order_placed" || len(hb.Schema[0].Versions) != 1 {
		t.Fatalf("heartbeat schema = %+v", hb.Schema)
	}
	v := hb.Schema[0].Versions[0]
	if v.Version != 1 || v.Type != "domain" || v.Fingerprint != e.Schema().Fingerprint("order_placed") || !strings.HasPrefix(v.Fingerprint, "sha256:") {
		t.Fatalf("heartbeat schema version = %+v", v)
	}
}

// Every byte sent — compressed body, decompressed body, headers — is free of the
// payload, metadata values, idempotency keys and entity ids, even the error message
// that quotes one.
func TestReporterNeverSendsPayloadsKeysOrEntities(t *testing.T) {
	t.Parallel()
	col := newCollector(t, nil)
	e, mem := openEngine(t, relayConfig())
	failSome(mem)
	cfg := fast(col.URL)
	cfg.HeartbeatInterval = 50 * time.Millisecond
	startReporter(t, e, cfg)
	for i := range 10 {
		emit(t, e, i)
	}
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	reqs := col.waitFor(t, "every outcome and a later heartbeat", func(reqs []request) bool {
		c := countStatus(entries(t, reqs))
		return c[cloud.StatusPublished] == 9 && c[cloud.StatusDeadLettered] == 1 &&
			reqs[len(reqs)-1].envelope(t).Kind == cloud.KindHeartbeat
	})
	for _, r := range reqs {
		for _, part := range [][]byte{r.raw, r.plain(t)} {
			if bytes.Contains(part, []byte(sentinel)) {
				t.Fatalf("a request body holds the sentinel: %s", r.plain(t))
			}
		}
		for k, vs := range r.header {
			for _, v := range vs {
				if strings.Contains(v, sentinel) {
					t.Fatalf("header %s holds the sentinel", k)
				}
			}
		}
	}
}
