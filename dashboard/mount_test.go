package dashboard

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestLinksStayInsideTheMount crawls every page reachable from the overview (under
// /ops/outbox/, behind http.StripPrefix) and checks that every link, form action,
// script and stylesheet, and every redirect of every form, stays below the mount.
func TestLinksStayInsideTheMount(t *testing.T) {
	t.Parallel()
	v := newEnv(t, nil)
	v.emit(60, "fine")
	dead := v.emit(3, poison)
	v.relay(60, 3)
	v.mem.SetOffline(true)

	base, _ := url.Parse(v.srv.URL)
	inside := func(from, ref string) (string, bool) {
		u, err := base.Parse(from)
		if err == nil {
			u, err = u.Parse(ref)
		}
		if err != nil {
			t.Errorf("%s: unparsable address %q", from, ref)
			return "", false
		}
		ok := u.Host == base.Host && strings.HasPrefix(u.Path, testMount) && !strings.Contains(u.Path, "..")
		if !ok {
			t.Errorf("%s: address %q leaves the mount (%s)", from, ref, u)
		}
		return u.RequestURI(), ok
	}

	seen := map[string]bool{}
	queue := []string{testMount, testMount + "events?status=dead_lettered", testMount + "dead-letters/confirm?name=order_noted",
		testMount + "nope", testMount + "events/999999"}
	for len(queue) > 0 && len(seen) < 200 {
		p := queue[0]
		queue = queue[1:]
		if seen[p] {
			continue
		}
		seen[p] = true
		r := v.get(p)
		if r.Code != http.StatusOK && r.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d", p, r.Code)
		}
		for _, ref := range links(r.Body) {
			if next, ok := inside(p, ref); ok && !strings.Contains(ref, "retry") && !strings.HasSuffix(ref, "logout") &&
				!strings.HasSuffix(ref, "login") && !strings.Contains(ref, "/static/") {
				queue = append(queue, next)
			}
		}
	}
	if len(seen) < 8 {
		t.Errorf("crawled only %d pages: %v", len(seen), seen)
	}
	// The denied page (its sign-in form) as well.
	r := v.do(http.MethodGet, testMount+"events?status=pending", nil, false, nil)
	for _, ref := range links(r.Body) {
		inside(testMount+"events", ref)
	}

	// Every redirect a form causes.
	posts := []struct {
		path string
		form url.Values
		auth bool
	}{
		{"dead-letters/retry", url.Values{"one": {itoa(dead[0])}, "return": {"event"}}, true},
		{"dead-letters/retry", url.Values{"id": {itoa(dead[1])}, "q": {"name=order_noted&entity_id=2"}}, true},
		{"dead-letters/retry", url.Values{"q": {"//evil.example/x"}}, true},
		{"dead-letters/retry-matching", url.Values{"name": {"order_noted"}}, true},
		{"dead-letters/retry-matching", url.Values{"name": {"order_noted"}, "confirm": {"yes"}}, true},
		{"login", url.Values{"token": {testToken}, "next": {"/dead-letters?name=x"}}, false},
		{"login", url.Values{"token": {testToken}, "next": {"//evil.example"}}, false},
		{"logout", url.Values{}, true},
	}
	for _, p := range posts {
		r := v.do(http.MethodPost, testMount+p.path, p.form, p.auth, nil)
		if r.Code != http.StatusSeeOther {
			t.Errorf("POST %s %v: %d, want 303\n%s", p.path, p.form, r.Code, r.Body)
			continue
		}
		inside(testMount+p.path, r.Header.Get("Location"))
	}
}
