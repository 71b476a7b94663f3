package dashboard

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// every address of the dashboard, GET and POST, for the "denied everywhere" tests.
var (
	getPaths  = []string{"", "events", "events?status=pending", "events/1", "dead-letters", "dead-letters/confirm", "metrics", "nope"}
	postPaths = []string{"dead-letters/retry", "dead-letters/retry-matching", "logout"}
)

func TestNilAuthorizeDeniesEveryRequest(t *testing.T) {
	t.Parallel()
	v := newEnv(t, func(o *Options) { o.Authorize = nil; o.Metrics = http.NotFoundHandler() })
	ids := v.emit(1, "hello")
	for _, p := range getPaths {
		for _, auth := range []bool{false, true} {
			r := v.do(http.MethodGet, testMount+p, nil, auth, nil)
			if r.Code != http.StatusForbidden {
				t.Errorf("GET %s (token %v): %d, want 403", p, auth, r.Code)
			}
			if strings.Contains(r.Body, "hello") {
				t.Errorf("GET %s: a denied page shows event data", p)
			}
		}
	}
	for _, p := range postPaths {
		r := v.do(http.MethodPost, testMount+p, url.Values{"one": {"1"}, "confirm": {"yes"}}, true, nil)
		if r.Code != http.StatusForbidden {
			t.Errorf("POST %s: %d, want 403", p, r.Code)
		}
	}
	// Signing in cannot help either.
	r := v.do(http.MethodPost, testMount+"login", url.Values{"token": {testToken}}, false, nil)
	if r.Code != http.StatusForbidden || r.Header.Get("Set-Cookie") != "" {
		t.Errorf("POST login without Authorize: %d, cookie %q; want 403 and no cookie", r.Code, r.Header.Get("Set-Cookie"))
	}
	if !strings.Contains(r.Body, "Options.Authorize") {
		t.Errorf("the denied page does not say how to configure access:\n%s", r.Body)
	}
	if v.status(ids[0]) != "pending" {
		t.Errorf("a denied request changed the outbox")
	}
}

func TestFailingAuthorizeDenies(t *testing.T) {
	t.Parallel()
	v := newEnv(t, func(o *Options) {
		o.Authorize = func(*http.Request) error { return errors.New("no entry") }
	})
	for _, p := range getPaths {
		if r := v.get(testMount + p); r.Code != http.StatusForbidden {
			t.Errorf("GET %s: %d, want 403", p, r.Code)
		}
	}
	for _, p := range postPaths {
		if r := v.post(testMount+p, url.Values{"one": {"1"}}); r.Code != http.StatusForbidden {
			t.Errorf("POST %s: %d, want 403", p, r.Code)
		}
	}
}

func TestBearerToken(t *testing.T) {
	t.Parallel()
	v := newEnv(t, nil)
	if r := v.do(http.MethodGet, testMount, nil, false, nil); r.Code != http.StatusForbidden || !strings.Contains(r.Body, `name="token"`) {
		t.Errorf("no token: %d, want 403 with the sign-in form", r.Code)
	}
	if r := v.do(http.MethodGet, testMount, nil, false, map[string]string{"Authorization": "Bearer wrong"}); r.Code != http.StatusForbidden {
		t.Errorf("wrong token: %d, want 403", r.Code)
	}
	if r := v.get(testMount); r.Code != http.StatusOK {
		t.Errorf("right token: %d, want 200", r.Code)
	}

	// The sign-in form: a wrong token sets nothing, the right one a cookie scoped to
	// the mount, and the browser goes back to the page it asked for.
	r := v.do(http.MethodPost, testMount+"login", url.Values{"token": {"wrong"}, "next": {"/events"}}, false, nil)
	if r.Code != http.StatusForbidden || r.Header.Get("Set-Cookie") != "" || !strings.Contains(r.Body, "not accepted") {
		t.Errorf("sign in with a wrong token: %d, cookie %q", r.Code, r.Header.Get("Set-Cookie"))
	}
	r = v.do(http.MethodPost, testMount+"login", url.Values{"token": {testToken}, "next": {"/events?status=pending"}}, false, nil)
	if r.Code != http.StatusSeeOther || r.Header.Get("Location") != testMount+"events?status=pending" {
		t.Fatalf("sign in: %d to %q, want 303 to %sevents?status=pending", r.Code, r.Header.Get("Location"), testMount)
	}
	cookie := r.Header.Get("Set-Cookie")
	for _, want := range []string{tokenCookie + "=", "Path=" + testMount, "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("cookie %q lacks %q", cookie, want)
		}
	}
	c := strings.SplitN(cookie, ";", 2)[0]
	if r := v.do(http.MethodGet, testMount+"events", nil, false, map[string]string{"Cookie": c}); r.Code != http.StatusOK {
		t.Errorf("with the cookie: %d, want 200", r.Code)
	}
	// A next address that climbs out of the mount is replaced by the overview.
	for _, next := range []string{"//evil.example/", "/../../x", "https://evil.example/", "\\\\evil"} {
		r := v.do(http.MethodPost, testMount+"login", url.Values{"token": {testToken}, "next": {next}}, false, nil)
		if loc := r.Header.Get("Location"); loc != testMount {
			t.Errorf("next %q redirected to %q, want %s", next, loc, testMount)
		}
	}
	// Sign out forgets the cookie.
	r = v.do(http.MethodPost, testMount+"logout", url.Values{}, false, map[string]string{"Cookie": c})
	if r.Code != http.StatusSeeOther || !strings.Contains(r.Header.Get("Set-Cookie"), "Max-Age=0") {
		t.Errorf("sign out: %d, cookie %q", r.Code, r.Header.Get("Set-Cookie"))
	}
}

func TestBasicAuth(t *testing.T) {
	t.Parallel()
	v := newEnv(t, func(o *Options) { o.Authorize = BasicAuth("ops", "s3cret") })
	r := v.do(http.MethodGet, testMount, nil, false, nil)
	if r.Code != http.StatusUnauthorized || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Basic ") {
		t.Errorf("no credentials: %d %q, want 401 with a Basic challenge", r.Code, r.Header.Get("WWW-Authenticate"))
	}
	for _, up := range [][2]string{{"ops", "wrong"}, {"other", "s3cret"}, {"", ""}} {
		req, _ := http.NewRequest(http.MethodGet, v.srv.URL+testMount, nil)
		req.SetBasicAuth(up[0], up[1])
		res, err := v.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("%v: %d, want 401", up, res.StatusCode)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, v.srv.URL+testMount, nil)
	req.SetBasicAuth("ops", "s3cret")
	res, err := v.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("right credentials: %d, want 200", res.StatusCode)
	}
	if err := BasicAuth("ops", "")(req); err == nil {
		t.Errorf("an empty password admits requests")
	}
	if err := BearerToken("")(req); err == nil {
		t.Errorf("an empty token admits requests")
	}
}

func TestNewChecksOptions(t *testing.T) {
	t.Parallel()
	v := newEnv(t, nil)
	if _, err := New(nil, Options{}); err == nil {
		t.Error("New(nil) gave no error")
	}
	for _, bad := range []string{"ops", "/a//b/", "/a/../b/", "/a b/", `/"x/`} {
		if _, err := New(v.e, Options{BasePath: bad}); err == nil || !strings.Contains(err.Error(), "BasePath") {
			t.Errorf("BasePath %q: %v", bad, err)
		}
	}
	if _, err := New(v.e, Options{TrustedOrigins: []string{"not a url"}}); err == nil {
		t.Error("a bad trusted origin gave no error")
	}
	h, err := New(v.e, Options{BasePath: "/x"})
	if err != nil || h.(*handler).base != "/x/" {
		t.Errorf("BasePath /x: %v", err)
	}
}

// The metrics handler the application passes is served at <base>metrics, behind the
// same Authorize as the pages.
func TestMetricsBehindAuthorize(t *testing.T) {
	t.Parallel()
	v := newEnv(t, func(o *Options) {
		o.Metrics = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("edgeoutbox_pending 0\n")) })
	})
	if r := v.do(http.MethodGet, testMount+"metrics", nil, false, nil); r.Code != http.StatusForbidden || strings.Contains(r.Body, "edgeoutbox_pending") {
		t.Errorf("metrics without the token: %d", r.Code)
	}
	if r := v.get(testMount + "metrics"); r.Code != http.StatusOK || r.Body != "edgeoutbox_pending 0\n" {
		t.Errorf("metrics with the token: %d %q", r.Code, r.Body)
	}
}
