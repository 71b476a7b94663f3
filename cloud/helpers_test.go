package cloud_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/edgeoutbox/edgeoutbox/cloud"
)

// sentinel is placed in every payload, metadata value, idempotency key and entity id;
// it must never appear in a byte the reporter sends.
const sentinel = "S3NT1NEL-secret-7f3a"

var orderPlaced = edgeoutbox.Define("order_placed",
	edgeoutbox.EventType("domain"),
	edgeoutbox.Input("order"),
	edgeoutbox.EntityClass("class_name", edgeoutbox.From("order"), edgeoutbox.String),
	edgeoutbox.EntityID("id", edgeoutbox.From("order"), edgeoutbox.String),
	edgeoutbox.RequiredPayload("note", edgeoutbox.From("order"), edgeoutbox.String),
)

type order struct {
	ClassName string `json:"class_name"`
	ID        string `json:"id"`
	Note      string `json:"note"`
}

// openEngine opens an engine on a fresh file with the memory transport behind a
// fault injector.
func openEngine(t testing.TB, cfg edgeoutbox.Config) (*edgeoutbox.Engine, *edgeoutbox.MemoryTransport) {
	t.Helper()
	s, _, err := edgeoutbox.NewSchema(edgeoutbox.DefaultSchemaFile).With(orderPlaced)
	if err != nil {
		t.Fatalf("build schema: %v", err)
	}
	mem := edgeoutbox.NewMemoryTransport()
	cfg.Schema = s
	if cfg.Transport == nil {
		cfg.Transport = mem
	}
	e, err := edgeoutbox.Open(context.Background(), filepath.Join(t.TempDir(), "app.db"), cfg)
	if err != nil {
		t.Fatalf("open engine: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e, mem
}

// emit emits one event whose payload, metadata value, key and entity id all carry the
// sentinel.
func emit(t testing.TB, e *edgeoutbox.Engine, i int) {
	t.Helper()
	id := sentinel + "-" + strconv.Itoa(i)
	_, err := e.Emit(context.Background(), "order_placed",
		edgeoutbox.Inputs{"order": order{ClassName: "Order", ID: "entity-" + id, Note: "payload-" + id}},
		edgeoutbox.WithMetadata(map[string]string{"request_id": "meta-" + id}),
		edgeoutbox.WithIdempotencyKey("key-"+id))
	if err != nil {
		t.Fatalf("emit %d: %v", i, err)
	}
}

// request is one request the collector received, body as sent (gzip'd), decoded once.
type request struct {
	header http.Header
	method string
	raw    []byte
	at     time.Time
	plainB []byte
	env    cloud.Envelope
	err    error
}

// decode gunzips the body and decodes it strictly: an unknown field is an error.
func (r *request) decode() {
	zr, err := gzip.NewReader(bytes.NewReader(r.raw))
	if err != nil {
		r.err = fmt.Errorf("body is not gzip: %w", err)
		return
	}
	if r.plainB, err = io.ReadAll(zr); err != nil {
		r.err = fmt.Errorf("gunzip body: %w", err)
		return
	}
	dec := json.NewDecoder(bytes.NewReader(r.plainB))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r.env); err != nil {
		r.err = fmt.Errorf("decode body: %w", err)
	}
}

func (r request) envelope(t testing.TB) cloud.Envelope {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.env
}

func (r request) plain(t testing.TB) []byte {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.plainB
}

// collector is a real HTTP server recording every request; answer decides the reply.
type collector struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []request
	answer func(n int, w http.ResponseWriter, r *http.Request) // n: 0-based request number
	conns  atomic.Int64
	notify chan struct{}
}

func newCollector(t testing.TB, answer func(n int, w http.ResponseWriter, r *http.Request)) *collector {
	t.Helper()
	c := &collector{answer: answer, notify: make(chan struct{}, 1000)}
	c.Server = httptest.NewUnstartedServer(http.HandlerFunc(c.serve))
	c.Server.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			c.conns.Add(1)
		}
	}
	c.Start()
	t.Cleanup(c.Close)
	return c
}

func (c *collector) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	req := request{header: r.Header.Clone(), method: r.Method, raw: raw, at: time.Now()}
	req.decode()
	c.mu.Lock()
	n := len(c.reqs)
	c.reqs = append(c.reqs, req)
	c.mu.Unlock()
	select {
	case c.notify <- struct{}{}:
	default:
	}
	if c.answer != nil {
		c.answer(n, w, r)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (c *collector) requests() []request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]request(nil), c.reqs...)
}

// waitFor waits until cond holds on the requests received so far.
func (c *collector) waitFor(t testing.TB, what string, cond func([]request) bool) []request {
	t.Helper()
	deadline := time.NewTimer(60 * time.Second)
	defer deadline.Stop()
	for {
		reqs := c.requests()
		if cond(reqs) {
			return reqs
		}
		select {
		case <-c.notify:
		case <-time.After(20 * time.Millisecond):
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s (%d requests so far)", what, len(reqs))
		}
	}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// fast is a reporter config for tests: short intervals, the collector's URL.
func fast(url string) cloud.Config {
	return cloud.Config{
		Endpoint: url, APIKey: "test-key", App: "till", Environment: "test", InstanceID: "device-1",
		BatchSize: 10, FlushInterval: 50 * time.Millisecond, HeartbeatInterval: time.Hour,
		Timeout: 2 * time.Second, BackoffBase: 10 * time.Millisecond, BackoffMax: 100 * time.Millisecond,
	}
}

func startReporter(t testing.TB, e *edgeoutbox.Engine, cfg cloud.Config) *cloud.Reporter {
	t.Helper()
	r, err := cloud.New(e, cfg)
	if err != nil {
		t.Fatalf("new reporter: %v", err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatalf("start reporter: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = r.Stop(ctx)
	})
	return r
}

// entries returns every event entry of the event batches among reqs.
func entries(t testing.TB, reqs []request) []cloud.Entry {
	t.Helper()
	var out []cloud.Entry
	for _, r := range reqs {
		if env := r.envelope(t); env.Kind == cloud.KindEvents {
			out = append(out, env.Events...)
		}
	}
	return out
}
