package dashboard

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
)

// testMount is where the tests mount the dashboard: never the root, so a link that
// forgets the base path shows.
const testMount = "/ops/outbox/"

const testToken = "test-token-0123456789"

// orderNoted is the tests' event: an order with an entity and a free-text note (where
// the XSS tests put their markup).
var orderNoted = edgeoutbox.Define("order_noted",
	edgeoutbox.EventType("domain"),
	edgeoutbox.Input("order"),
	edgeoutbox.EntityClass("class_name", edgeoutbox.From("order"), edgeoutbox.String),
	edgeoutbox.EntityID("id", edgeoutbox.From("order"), edgeoutbox.Int),
	edgeoutbox.RequiredPayload("note", edgeoutbox.From("order"), edgeoutbox.String),
	edgeoutbox.OptionalPayload("total", edgeoutbox.From("order"), edgeoutbox.Float),
)

// paymentCaptured and parcelShipped fill the schema and the screenshots.
var (
	paymentCaptured = edgeoutbox.Define("payment_captured",
		edgeoutbox.EventType("domain"),
		edgeoutbox.Input("payment"),
		edgeoutbox.EntityClass("class_name", edgeoutbox.From("payment"), edgeoutbox.String),
		edgeoutbox.EntityID("id", edgeoutbox.From("payment"), edgeoutbox.Int),
		edgeoutbox.RequiredPayload("amount", edgeoutbox.From("payment"), edgeoutbox.Float),
		edgeoutbox.RequiredPayload("currency", edgeoutbox.From("payment"), edgeoutbox.String),
	)
	parcelShipped = edgeoutbox.Define("parcel_shipped",
		edgeoutbox.EventType("domain"),
		edgeoutbox.Input("parcel"),
		edgeoutbox.EntityClass("class_name", edgeoutbox.From("parcel"), edgeoutbox.String),
		edgeoutbox.EntityID("id", edgeoutbox.From("parcel"), edgeoutbox.String),
		edgeoutbox.RequiredPayload("carrier", edgeoutbox.From("parcel"), edgeoutbox.String),
		edgeoutbox.OptionalPayload("tracking", edgeoutbox.From("parcel"), edgeoutbox.String),
	)
)

// poison marks a note the transport refuses for good: those events become dead letters.
const poison = "poison"

// env is an outbox with a running relay on the memory transport and the dashboard
// served by a real HTTP server under testMount.
type env struct {
	t      testing.TB
	ctx    context.Context
	e      *edgeoutbox.Engine
	mem    *edgeoutbox.MemoryTransport
	h      *handler
	srv    *httptest.Server
	client *http.Client // follows no redirects, so tests see every Location

	overviewLoads atomic.Int64 // requests for the overview, by browsers and by the tests
}

// newEnv opens a fresh outbox and serves the dashboard; opts may change the options
// (the default authorizes testToken).
func newEnv(t testing.TB, opts func(*Options)) *env {
	t.Helper()
	ctx := context.Background()
	schema, _, err := edgeoutbox.NewSchema("").With(orderNoted, paymentCaptured, parcelShipped)
	if err != nil {
		t.Fatal(err)
	}
	mem := edgeoutbox.NewMemoryTransport()
	mem.FailWhere(func(ev *edgeoutbox.Event) error {
		if strings.Contains(string(ev.Payload), poison) {
			return edgeoutbox.Permanent(errors.New("broker refused <script>alert('err')</script>"))
		}
		return nil
	})
	e, err := edgeoutbox.Open(ctx, filepath.Join(t.TempDir(), "app.db"), edgeoutbox.Config{
		Schema: schema, Transport: mem, PollInterval: 20 * time.Millisecond, RetentionInterval: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	o := Options{BasePath: testMount, Authorize: BearerToken(testToken)}
	if opts != nil {
		opts(&o)
	}
	hh, err := New(e, o)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(testMount, http.StripPrefix(strings.TrimSuffix(testMount, "/"), hh))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "outside the dashboard mount: "+r.URL.Path, http.StatusTeapot)
	})
	v := &env{t: t, ctx: ctx, e: e, mem: mem, h: hh.(*handler)}
	v.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == testMount {
			v.overviewLoads.Add(1)
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(v.srv.Close)
	v.client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return v
}

// emit stores n events whose notes are note plus their number; it returns their ids.
func (v *env) emit(n int, note string, opts ...edgeoutbox.EmitOption) []int64 {
	v.t.Helper()
	var batch []edgeoutbox.Emission
	for i := range n {
		batch = append(batch, edgeoutbox.Emission{Name: "order_noted", Options: opts, Inputs: edgeoutbox.Inputs{
			"order": map[string]any{"class_name": "Order", "id": i + 1, "note": fmt.Sprintf("%s %d", note, i), "total": 9.5},
		}})
	}
	rs, err := v.e.EmitBatch(v.ctx, batch)
	if err != nil {
		v.t.Fatal(err)
	}
	ids := make([]int64, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	return ids
}

// relay starts the relay and waits until the outbox holds published and dead events.
func (v *env) relay(published, dead int64) {
	v.t.Helper()
	if err := v.e.Start(v.ctx); err != nil {
		v.t.Fatal(err)
	}
	v.waitStats(fmt.Sprintf("%d published, %d dead", published, dead), func(s edgeoutbox.Stats) bool {
		return s.Published == published && s.DeadLettered == dead && s.Pending == 0
	})
}

// waitStats waits, with a deadline, until the outbox's counters satisfy cond.
func (v *env) waitStats(what string, cond func(edgeoutbox.Stats) bool) edgeoutbox.Stats {
	v.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		s, err := v.e.Stats(v.ctx)
		if err != nil {
			v.t.Fatal(err)
		}
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			v.t.Fatalf("waiting for %s: stats %+v", what, s)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// status returns the status of event id.
func (v *env) status(id int64) edgeoutbox.Status {
	v.t.Helper()
	ev, err := v.e.GetEvent(v.ctx, id)
	if err != nil {
		v.t.Fatal(err)
	}
	return ev.Status
}

type response struct {
	Code   int
	Header http.Header
	Body   string
}

// do sends a request to the test server; path is absolute ("/ops/outbox/events").
// auth adds the bearer token; a POST is same-origin unless headers say otherwise.
func (v *env) do(method, path string, form url.Values, auth bool, headers map[string]string) response {
	v.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, v.srv.URL+path, body)
	if err != nil {
		v.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if method == http.MethodPost {
		req.Header.Set("Origin", v.srv.URL)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	if auth {
		req.Header.Set("Authorization", "Bearer "+testToken)
	}
	for k, val := range headers {
		if val == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, val)
		}
	}
	res, err := v.client.Do(req)
	if err != nil {
		v.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		v.t.Fatal(err)
	}
	return response{Code: res.StatusCode, Header: res.Header, Body: string(b)}
}

func (v *env) get(path string) response { return v.do(http.MethodGet, path, nil, true, nil) }

func (v *env) post(path string, form url.Values) response {
	return v.do(http.MethodPost, path, form, true, nil)
}

// mustGet fetches a page that must answer 200.
func (v *env) mustGet(path string) string {
	v.t.Helper()
	r := v.get(path)
	if r.Code != http.StatusOK {
		v.t.Fatalf("GET %s: %d\n%s", path, r.Code, r.Body)
	}
	return r.Body
}

// linkRE finds the addresses a page links to, posts to or loads.
var linkRE = regexp.MustCompile(`(?:href|action|src)="([^"]*)"`)

// links returns the unescaped addresses in a page.
func links(body string) []string {
	var out []string
	for _, m := range linkRE.FindAllStringSubmatch(body, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

func edgeoutboxMetadata(m map[string]string) edgeoutbox.EmitOption { return edgeoutbox.WithMetadata(m) }
