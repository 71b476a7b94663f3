package dashboard

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCrossSitePOSTRefused(t *testing.T) {
	t.Parallel()
	v := newEnv(t, nil)
	v.emit(2, "fine")
	dead := v.emit(2, poison)
	v.relay(2, 2)
	v.mem.SetOffline(true) // retried events stay pending, where the test can see them
	for _, hd := range []map[string]string{
		{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
		{"Sec-Fetch-Site": "same-site", "Origin": "https://sub.evil.example"},
		{"Sec-Fetch-Site": "", "Origin": "https://evil.example"},
	} {
		for _, p := range []string{"dead-letters/retry", "dead-letters/retry-matching"} {
			r := v.do(http.MethodPost, testMount+p, url.Values{"one": {itoa(dead[0])}, "confirm": {"yes"}}, true, hd)
			if r.Code != http.StatusForbidden {
				t.Errorf("POST %s with %v: %d, want 403", p, hd, r.Code)
			}
		}
	}
	for _, id := range dead {
		if st := v.status(id); st != "dead_lettered" {
			t.Errorf("event %d is %s after refused cross-site posts", id, st)
		}
	}
	// Same origin, by either header, goes through.
	r := v.do(http.MethodPost, testMount+"dead-letters/retry", url.Values{"one": {itoa(dead[0])}}, true,
		map[string]string{"Sec-Fetch-Site": "", "Origin": v.srv.URL})
	if r.Code != http.StatusSeeOther {
		t.Fatalf("same-origin POST: %d, want 303\n%s", r.Code, r.Body)
	}
	if st := v.status(dead[0]); st != "pending" {
		t.Errorf("event %d is %s after a same-origin retry, want pending", dead[0], st)
	}
	r = v.post(testMount+"dead-letters/retry", url.Values{"one": {itoa(dead[1])}})
	if r.Code != http.StatusSeeOther || v.status(dead[1]) != "pending" {
		t.Errorf("Sec-Fetch-Site same-origin POST: %d, status %s", r.Code, v.status(dead[1]))
	}
}

func TestGETChangesNothing(t *testing.T) {
	t.Parallel()
	v := newEnv(t, nil)
	dead := v.emit(1, poison)
	v.relay(0, 1)
	for _, p := range []string{"dead-letters/retry?one=" + itoa(dead[0]), "dead-letters/retry-matching?confirm=yes", "logout"} {
		if r := v.get(testMount + p); r.Code != http.StatusMethodNotAllowed && r.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 405 or 404", p, r.Code)
		}
	}
	if st := v.status(dead[0]); st != "dead_lettered" {
		t.Errorf("a GET changed event %d to %s", dead[0], st)
	}
}

func TestSecurityHeadersAndRobots(t *testing.T) {
	t.Parallel()
	v := newEnv(t, nil)
	for _, p := range []string{"", "events", "dead-letters", "nope", "static/app.css"} {
		r := v.get(testMount + p)
		csp := r.Header.Get("Content-Security-Policy")
		for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "default-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", p, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("%s: CSP allows inline code: %q", p, csp)
		}
		if r.Header.Get("X-Frame-Options") != "DENY" || r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: headers %v", p, r.Header)
		}
	}
	r := v.do(http.MethodGet, testMount+"robots.txt", nil, false, nil)
	if r.Code != http.StatusOK || !strings.Contains(r.Body, "Disallow: /") {
		t.Errorf("robots.txt: %d %q", r.Code, r.Body)
	}
	if r := v.do(http.MethodGet, testMount+"static/../dashboard.go", nil, false, nil); r.Code == http.StatusOK {
		t.Errorf("static served a file outside static/")
	}
}

// scriptTagRE finds script elements; every one must load a file (no inline code).
var scriptTagRE = regexp.MustCompile(`(?i)<script[^>]*>`)

func TestXSSPayloadsAreInert(t *testing.T) {
	t.Parallel()
	v := newEnv(t, nil)
	const evil = `<script>alert("x")</script><img src=x onerror=alert(1)>`
	ids := v.emit(1, evil, edgeoutboxMetadata(map[string]string{"request": evil, evil: "key"}))
	dead := v.emit(1, poison+evil)
	v.relay(1, 1)
	pages := []string{"", "events", "events?name=" + url.QueryEscape(evil), "events/" + itoa(ids[0]), "events/" + itoa(dead[0]),
		"dead-letters", "dead-letters?key=" + url.QueryEscape(evil), "dead-letters/confirm?name=" + url.QueryEscape(evil)}
	for _, p := range pages {
		body := v.mustGet(testMount + p)
		for _, tag := range scriptTagRE.FindAllString(body, -1) {
			if !strings.Contains(tag, ` src="`+testMount+`static/app.js"`) {
				t.Errorf("%s: script element %q is not the dashboard's own file", p, tag)
			}
		}
		if strings.Contains(body, "<img src=x") || strings.Contains(body, `alert("x")</script>`) || strings.Contains(body, "<script>alert") {
			t.Errorf("%s: markup from the outbox reached the page unescaped", p)
		}
	}
	detail := v.mustGet(testMount + "events/" + itoa(ids[0]))
	if !strings.Contains(detail, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") && !strings.Contains(detail, `&lt;script&gt;alert(\&#34;x\&#34;)&lt;/script&gt;`) {
		t.Errorf("the payload is not shown as escaped text:\n%s", detail)
	}
}

func TestReadOnlyRefusesMutations(t *testing.T) {
	t.Parallel()
	v := newEnv(t, func(o *Options) { o.ReadOnly = true })
	dead := v.emit(2, poison)
	v.relay(0, 2)
	for _, p := range []string{"dead-letters", "events/" + itoa(dead[0])} {
		body := v.mustGet(testMount + p)
		if strings.Contains(body, "dead-letters/retry") || strings.Contains(body, "Retry") {
			t.Errorf("read-only %s offers a retry", p)
		}
		if !strings.Contains(body, "Read-only") {
			t.Errorf("read-only %s does not say so", p)
		}
	}
	for _, p := range []string{"dead-letters/retry", "dead-letters/retry-matching"} {
		r := v.post(testMount+p, url.Values{"one": {itoa(dead[0])}, "id": {itoa(dead[1])}, "confirm": {"yes"}})
		if r.Code != http.StatusForbidden || !strings.Contains(r.Body, "read-only") {
			t.Errorf("read-only POST %s: %d, want 403", p, r.Code)
		}
	}
	if r := v.get(testMount + "dead-letters/confirm"); r.Code != http.StatusForbidden {
		t.Errorf("read-only confirmation page: %d, want 403", r.Code)
	}
	for _, id := range dead {
		if st := v.status(id); st != "dead_lettered" {
			t.Errorf("read-only dashboard changed event %d to %s", id, st)
		}
	}
}

func TestStatsSharedBetweenTabs(t *testing.T) {
	t.Parallel()
	v := newEnv(t, nil)
	v.emit(3, "x")
	// A clock that stands still: however slow the machine, every load falls within
	// the cache's second.
	frozen := time.Now()
	v.h.stats.mu.Lock()
	v.h.stats.now = func() time.Time { return frozen }
	v.h.stats.mu.Unlock()
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() {
			if r := v.get(testMount); r.Code != http.StatusOK {
				t.Errorf("overview: %d", r.Code)
			}
		})
	}
	wg.Wait()
	v.h.stats.mu.Lock()
	reads := v.h.stats.reads
	v.h.stats.mu.Unlock()
	if reads != 1 {
		t.Errorf("12 overview loads read the counters %d times, want 1", reads)
	}
}
