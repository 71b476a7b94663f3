package dashboard

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/edgeoutbox/edgeoutbox"
)

// retried reads the count a retry redirect reports.
func retried(t *testing.T, r response) string {
	t.Helper()
	if r.Code != http.StatusSeeOther {
		t.Fatalf("retry: %d, want 303\n%s", r.Code, r.Body)
	}
	u, err := url.Parse(r.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("retried")
}

func TestRetrySelectedIsIdempotent(t *testing.T) {
	t.Parallel()
	v := newEnv(t, nil)
	ok := v.emit(2, "fine")
	dead := v.emit(4, poison)
	v.relay(2, 4)
	v.mem.SetOffline(true) // retried events stay pending

	// Two dead letters, a published event and an unknown id: two are retried.
	form := url.Values{"id": {itoa(dead[0]), itoa(dead[1]), itoa(ok[0]), "999999"}}
	if n := retried(t, v.post(testMount+"dead-letters/retry", form)); n != "2" {
		t.Errorf("retried %s, want 2", n)
	}
	for i, id := range dead {
		want := "dead_lettered"
		if i < 2 {
			want = "pending"
		}
		if st := v.status(id); string(st) != want {
			t.Errorf("event %d: %s, want %s", id, st, want)
		}
	}
	// The same form again changes nothing and says so.
	r := v.post(testMount+"dead-letters/retry", form)
	if n := retried(t, r); n != "0" {
		t.Errorf("second retry counted %s, want 0", n)
	}
	page := v.mustGet(r.Header.Get("Location"))
	if !strings.Contains(page, "Nothing was retried") {
		t.Errorf("the page after a repeated retry does not say nothing happened")
	}
	// Two tabs posting the same selection at once retry each event once in total.
	form = url.Values{"id": {itoa(dead[2]), itoa(dead[3])}}
	var mu sync.Mutex
	var counts []string
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			n := retried(t, v.post(testMount+"dead-letters/retry", form))
			mu.Lock()
			counts = append(counts, n)
			mu.Unlock()
		})
	}
	wg.Wait()
	total := 0
	for _, c := range counts {
		total += int(c[0] - '0')
	}
	if total != 2 {
		t.Errorf("concurrent retries counted %v, want 2 in total", counts)
	}
	if s := v.waitStats("all pending", func(s edgeoutbox.Stats) bool { return s.DeadLettered == 0 }); s.Pending != 4 {
		t.Errorf("pending %d, want 4", s.Pending)
	}
	// Bad input is refused without changing anything.
	if r := v.post(testMount+"dead-letters/retry", url.Values{"id": {"1", "x"}}); r.Code != http.StatusBadRequest {
		t.Errorf("bad id: %d, want 400", r.Code)
	}
}

func TestRetryOneFromTheDetailPage(t *testing.T) {
	t.Parallel()
	v := newEnv(t, nil)
	dead := v.emit(1, poison)
	v.relay(0, 1)
	page := v.mustGet(testMount + "events/" + itoa(dead[0]))
	if !strings.Contains(page, `name="one" value="`+itoa(dead[0])+`"`) {
		t.Fatalf("the detail page of a dead letter has no retry form")
	}
	v.mem.FailWhere(nil) // the broker takes it now
	r := v.post(testMount+"dead-letters/retry", url.Values{"one": {itoa(dead[0])}, "return": {"event"}})
	if loc := r.Header.Get("Location"); r.Code != http.StatusSeeOther || loc != testMount+"events/"+itoa(dead[0])+"?retried=1" {
		t.Fatalf("retry: %d to %q", r.Code, loc)
	}
	v.waitStats("published", func(s edgeoutbox.Stats) bool { return s.Published == 1 })
	if body := v.mustGet(testMount + "events/" + itoa(dead[0])); !strings.Contains(body, "badge-published") {
		t.Errorf("the retried event's page does not show it published")
	}
}

func TestRetryMatchingNeedsConfirmation(t *testing.T) {
	t.Parallel()
	v := newEnv(t, nil)
	dead := v.emit(3, poison)
	v.relay(0, 3)
	v.mem.SetOffline(true)

	// Without confirm=yes the POST only leads to the confirmation page.
	r := v.post(testMount+"dead-letters/retry-matching", url.Values{"name": {"order_noted"}})
	if r.Code != http.StatusSeeOther || r.Header.Get("Location") != testMount+"dead-letters/confirm?name=order_noted" {
		t.Fatalf("unconfirmed: %d to %q", r.Code, r.Header.Get("Location"))
	}
	if st := v.status(dead[0]); st != "dead_lettered" {
		t.Fatalf("an unconfirmed retry changed event %d to %s", dead[0], st)
	}
	page := v.mustGet(r.Header.Get("Location"))
	for _, want := range []string{"Event name: order_noted", `name="confirm" value="yes"`, `name="name" value="order_noted"`,
		"<strong>3</strong> of the 3 dead letters match"} {
		if !strings.Contains(page, want) {
			t.Errorf("confirmation page lacks %q", want)
		}
	}
	if page := v.mustGet(testMount + "dead-letters/confirm?name=other_event"); !strings.Contains(page, "<strong>0</strong> of the 3 dead letters match") {
		t.Errorf("the confirmation of a filter matching nothing does not say so:\n%s", page)
	}
	// A filter that matches nothing retries nothing.
	if n := retried(t, v.post(testMount+"dead-letters/retry-matching", url.Values{"name": {"other_event"}, "confirm": {"yes"}})); n != "0" {
		t.Errorf("retry of a filter matching nothing counted %s", n)
	}
	if n := retried(t, v.post(testMount+"dead-letters/retry-matching", url.Values{"name": {"order_noted"}, "confirm": {"yes"}})); n != "3" {
		t.Errorf("retry matching counted %s, want 3", n)
	}
	if n := retried(t, v.post(testMount+"dead-letters/retry-matching", url.Values{"confirm": {"yes"}})); n != "0" {
		t.Errorf("repeated retry matching counted %s, want 0", n)
	}
}
