package demo

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	events, entities := 600, 7
	if testing.Short() {
		events = 300
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var out strings.Builder
	rep, err := Run(ctx, &out, Options{Events: events, Entities: entities, OfflineHold: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	if !rep.OK() {
		t.Errorf("report not OK: %+v", rep)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"emitted", rep.Emitted, events},
		{"pending while offline", rep.PendingOffline, int64(events)},
		{"attempts while offline", rep.OfflineAttempts, int64(0)},
		{"published", rep.Published, int64(events)},
		{"stream messages", rep.StreamMessages, uint64(events)},
		{"distinct events", rep.DistinctEvents, events},
		{"order violations", rep.OrderViolations, 0},
		{"resent", rep.Resent, batchSize},
		{"duplicates dropped", rep.DuplicatesDropped, batchSize},
		{"stream after resend", rep.StreamAfterResend, uint64(events)},
		{"dead letters", rep.DeadLetters, int64(0)},
	}
	if events < batchSize {
		checks[7].want, checks[8].want = events, events
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if rep.EmitRate() <= 0 || rep.DrainRate() <= 0 {
		t.Errorf("rates: emit %v, drain %v", rep.EmitRate(), rep.DrainRate())
	}
	for _, want := range []string{"1. The broker is down", "0 publish attempts counted", "dropped"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("narration lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, &strings.Builder{}, Options{Events: 10}); err == nil {
		t.Fatal("Run with a cancelled context succeeded")
	}
}

func TestPerSecond(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 999.4: "999", 1234.5: "1,235", 1234567: "1,234,567"} {
		if got := perSecond(in); got != want {
			t.Errorf("perSecond(%v) = %q, want %q", in, got, want)
		}
	}
}
