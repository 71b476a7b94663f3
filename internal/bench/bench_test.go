package bench

import (
	"context"
	"testing"
	"time"
)

// TestSuitesRunSmall runs every comparison on a small backlog so that the benchmark
// code paths stay correct; the figures come from "edgeoutbox bench" and the Go
// benchmarks.
func TestSuitesRunSmall(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	if _, err := EmitSuite(ctx, dir, 300, 1); err != nil {
		t.Fatalf("emit suite: %v", err)
	}
	if _, err := DrainSuite(ctx, dir, 2000, 1); err != nil {
		t.Fatalf("drain suite: %v", err)
	}
	cs, err := NATSSuite(ctx, dir, 2000, 1)
	if err != nil {
		t.Fatalf("nats suite: %v", err)
	}
	kcs, err := KafkaSuite(ctx, dir, 2000, 1)
	if err != nil {
		t.Fatalf("kafka suite: %v", err)
	}
	for _, c := range append(cs, kcs...) {
		if c.Subject.Events != 2000 || c.Baseline.Events != 2000 || c.Ratio() <= 0 {
			t.Errorf("comparison %s", c)
		}
	}
}

// TestBigDrains prints the comparisons at full size (200 000 events). It takes
// a while; run it with EDGEOUTBOX_BENCH=1.
func TestBigDrains(t *testing.T) {
	if testing.Short() || !benchEnabled() {
		t.Skip("set EDGEOUTBOX_BENCH=1 to run the 200 000-event drains")
	}
	ctx := context.Background()
	dir := t.TempDir()
	c, err := DrainSuite(ctx, dir, 200000, 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(c)
	cs, err := NATSSuite(ctx, dir, 200000, 3)
	if err != nil {
		t.Fatal(err)
	}
	kcs, err := KafkaSuite(ctx, dir, 200000, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range append(cs, kcs...) {
		t.Log(c)
	}
}

// TestLinkSuiteRunsSmall runs the link comparison on a small backlog over two round
// trips, checking the stream's order after each relay drain.
func TestLinkSuiteRunsSmall(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rtts := []time.Duration{0, 20 * time.Millisecond}
	if testing.Short() {
		rtts = rtts[1:]
	}
	rep, err := LinkSuite(ctx, t.TempDir(), 2000, 1, rtts)
	if err != nil {
		t.Fatalf("link suite: %v", err)
	}
	if len(rep.Comparisons) != len(rtts) || len(rep.Wire) != 6 || len(rep.CPU) == 0 {
		t.Fatalf("report %+v", rep)
	}
	for _, c := range rep.Comparisons {
		if c.Subject.Events != 2000 || c.Baseline.Events != 2000 || c.Ratio() <= 0 {
			t.Errorf("comparison %s", c)
		}
		t.Log(c)
	}
	for _, w := range rep.Wire {
		if w.Up < 100 || w.Down <= 0 {
			t.Errorf("wire figure %+v", w)
		}
		t.Logf("%+v", w)
	}
	for _, c := range rep.CPU {
		t.Logf("%+v", c)
	}
	if rep.Note != "" {
		t.Log(rep.Note)
	}
}
