package dashboard

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
)

func TestOverviewShowsTheOutbox(t *testing.T) {
	t.Parallel()
	v := newEnv(t, nil)
	v.emit(5, "fine")
	v.emit(2, poison)
	v.relay(5, 2)
	v.mem.SetOffline(true)
	v.emit(3, "waiting")
	body := v.mustGet(testMount)
	for _, want := range []string{
		`id="count-pending">3<`, `id="count-published">5<`, `id="count-dead">2<`, // counts
		"oldest waiting", "p50", "p99", // age and latency
		"Lease holder", "Lease expires", // relay lease
		"Transport",                     // online/offline
		"<svg", "Throughput, last hour", // server-side chart
		"order_noted", "v1", "sha256:", // schema events and versions
	} {
		if !strings.Contains(body, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
}

// rowIDs returns the event ids of a list page, in order.
var rowIDRE = regexp.MustCompile(`<td class="num"><a href="[^"]*events/(\d+)">`)

func rowIDs(body string) []string {
	var out []string
	for _, m := range rowIDRE.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// pagerLink returns the address of the pager's rel link, or "".
func pagerLink(body, rel string) string {
	m := regexp.MustCompile(`href="([^"]*)" rel="` + rel + `"`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return strings.ReplaceAll(m[1], "&amp;", "&")
}

func TestEventsKeysetPagination(t *testing.T) {
	t.Parallel()
	v := newEnv(t, nil)
	ids := v.emit(2*pageSize+10, "fine")
	first := v.mustGet(testMount + "events")
	got := rowIDs(first)
	if len(got) != pageSize || got[0] != itoa(ids[len(ids)-1]) {
		t.Fatalf("first page: %d rows from %v", len(got), got[:1])
	}
	if pagerLink(first, "prev") != "" {
		t.Errorf("the newest page links to a newer one")
	}
	second := v.mustGet(pagerLink(first, "next"))
	if g := rowIDs(second); len(g) != pageSize || g[0] != itoa(ids[len(ids)-1-pageSize]) {
		t.Errorf("second page starts at %v", g[:1])
	}
	third := v.mustGet(pagerLink(second, "next"))
	if g := rowIDs(third); len(g) != 10 || pagerLink(third, "next") != "" {
		t.Errorf("last page: %d rows, older link %q", len(g), pagerLink(third, "next"))
	}
	back := v.mustGet(pagerLink(third, "prev"))
	if g := rowIDs(back); strings.Join(g, ",") != strings.Join(rowIDs(second), ",") {
		t.Errorf("newer from the last page gave %v, want the second page", g[:1])
	}
}

func TestEventsFiltersAreBookmarkable(t *testing.T) {
	t.Parallel()
	v := newEnv(t, nil)
	v.emit(3, "fine", edgeoutbox.WithMetadata(map[string]string{"k": "v"}))
	keyed := v.emit(1, "keyed", edgeoutbox.WithIdempotencyKey("order-42-noted"))
	dead := v.emit(2, poison)
	v.relay(4, 2)

	check := func(query string, want []int64) {
		t.Helper()
		body := v.mustGet(testMount + "events?" + query)
		var ws []string
		for i := len(want) - 1; i >= 0; i-- {
			ws = append(ws, itoa(want[i]))
		}
		if got := rowIDs(body); strings.Join(got, ",") != strings.Join(ws, ",") {
			t.Errorf("events?%s: %v, want %v", query, got, ws)
		}
		// The form shows the filter, so the address is the whole state.
		q, _ := url.ParseQuery(query)
		for k := range q {
			if !strings.Contains(body, `name="`+k+`"`) {
				t.Errorf("events?%s: the form has no %s field", query, k)
			}
		}
	}
	check("status=dead_lettered", dead)
	check("status=dead_lettered&name=order_noted", dead)
	check("name=other", nil)
	check("key=order-42-noted", keyed)
	check("entity_class=Order&entity_id=2", []int64{2, dead[1]})
	future := time.Now().UTC().Add(time.Hour).Format("2006-01-02T15:04")
	check("to="+future+"&status=published", []int64{1, 2, 3, keyed[0]})
	check("from="+future, nil)

	if r := v.get(testMount + "events?entity_id=2"); r.Code != 400 || !strings.Contains(r.Body, "needs its entity class") {
		t.Errorf("entity id without class: %d, want 400 saying why", r.Code)
	}
	if r := v.get(testMount + "events?status=bogus&from=yesterday"); r.Code != 400 || !strings.Contains(r.Body, "bogus") || !strings.Contains(r.Body, "yesterday") {
		t.Errorf("bad filters: %d, want 400 naming both", r.Code)
	}
}

// The attempts column counts failed publishes: "Attempts 0" on a published event
// read as "never tried". Every page that shows it says "Failed attempts".
func TestFailedAttemptsLabel(t *testing.T) {
	t.Parallel()
	v := newEnv(t, nil)
	ids := v.emit(1, "fine")
	dead := v.emit(1, poison)
	v.relay(1, 1)
	for _, page := range []string{"events/" + itoa(ids[0]), "events/" + itoa(dead[0]), "events", "dead-letters"} {
		body := v.mustGet(testMount + page)
		if !strings.Contains(body, ">Failed attempts<") || strings.Contains(body, ">Attempts<") {
			t.Errorf("%s does not label the attempts column \"Failed attempts\"", page)
		}
	}
}

func TestEventDetail(t *testing.T) {
	t.Parallel()
	v := newEnv(t, nil)
	ids := v.emit(1, "fine", edgeoutbox.WithMetadata(map[string]string{"request_id": "req-7"}))
	dead := v.emit(1, poison)
	v.relay(1, 1)
	body := v.mustGet(testMount + "events/" + itoa(ids[0]))
	for _, want := range []string{
		"order_noted", "badge-published", "Failed attempts", "Occurred", "Created", "Published", "Latency",
		"Idempotency key", "v1", "sha256:", // schema version and fingerprint
		"{\n  &#34;note&#34;: &#34;fine 0&#34;,", // pretty-printed payload
		"request_id", "req-7",                    // metadata
	} {
		if !strings.Contains(body, want) {
			t.Errorf("detail lacks %q", want)
		}
	}
	body = v.mustGet(testMount + "events/" + itoa(dead[0]))
	for _, want := range []string{"badge-dead_lettered", "Last error", "broker refused", "permanent", "Dead-lettered"} {
		if !strings.Contains(body, want) {
			t.Errorf("dead letter detail lacks %q", want)
		}
	}
	if r := v.get(testMount + "events/424242"); r.Code != 404 {
		t.Errorf("unknown event: %d, want 404", r.Code)
	}
	if r := v.get(testMount + "events/abc"); r.Code != 404 {
		t.Errorf("bad id: %d, want 404", r.Code)
	}
}
