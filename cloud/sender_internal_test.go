package cloud

import (
	"net/http"
	"testing"
	"time"
)

func TestRingDropsOldest(t *testing.T) {
	t.Parallel()
	r := newRing(3)
	for i := range 5 {
		r.push(Entry{EventID: int64(i)})
	}
	if w, d := r.counts(); w != 3 || d != 2 {
		t.Fatalf("counts = %d waiting, %d dropped; want 3, 2", w, d)
	}
	got := r.take(2)
	if len(got) != 2 || got[0].EventID != 2 || got[1].EventID != 3 {
		t.Fatalf("take = %+v, want events 2 and 3", got)
	}
	r.push(Entry{EventID: 5})
	got = r.take(10)
	if len(got) != 2 || got[0].EventID != 4 || got[1].EventID != 5 {
		t.Fatalf("take = %+v, want events 4 and 5", got)
	}
}

func TestRetryAfterAndBackoff(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"": 0, "7": 7 * time.Second, "-3": 0, "soon": 0,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
	} {
		if got := parseRetryAfter(v, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", v, got, want)
		}
	}
	base, maxWait := time.Second, 10*time.Second
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 4: 8 * time.Second, 5: 10 * time.Second, 60: 10 * time.Second} {
		if got := backoff(n, base, maxWait, 0); got != want {
			t.Errorf("backoff(%d) = %v, want %v", n, got, want)
		}
	}
	if got := backoff(1, base, maxWait, 5*time.Second); got != 5*time.Second {
		t.Errorf("backoff honouring Retry-After 5s = %v", got)
	}
	if got := backoff(1, base, maxWait, time.Hour); got != maxWait {
		t.Errorf("backoff caps Retry-After at the max: got %v", got)
	}
}
