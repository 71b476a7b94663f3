package bench

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestSuitesRunSmall runs every comparison on a small backlog so that the benchmark
// code paths stay correct; the figures come from "edgeoutbox bench" and the Go
// benchmarks.
func TestSuitesRunSmall(t *testing.T) {
	t.Parallel()
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

// TestBacklogSuiteRunsSmall runs the backlog benchmark at tiny sizes: every figure is
// measured at every size, and the one-off measurements ran.
func TestBacklogSuiteRunsSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("fills and drains backlogs")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	o := QuickBacklogOptions()
	o.Sizes, o.Events, o.InlineEvents, o.WriteEvents, o.BareEvents = []int{0, 500}, 300, 50, 300, 300
	r, err := BacklogSuite(ctx, t.TempDir(), o, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Figures) != 7 {
		t.Fatalf("%d figures, want 7", len(r.Figures))
	}
	for _, f := range r.Figures {
		if f.Unit == "%" { // the share published inline may be 0
			continue
		}
		if len(f.Values) != 2 || f.Values[0] <= 0 || f.Values[1] <= 0 {
			t.Errorf("%s: values %v", f.Name, f.Values)
		}
	}
	if r.Cleanup.Events != 500+300+RareEvents || r.Cleanup.Database <= 0 || r.Cleanup.Peak < r.Cleanup.Database || !r.Cleanup.Finished {
		t.Errorf("cleanup %+v", r.Cleanup)
	}
	if len(r.Writes) != 2 || len(r.Bare) != 2 {
		t.Errorf("writes %v, bare %v", r.Writes, r.Bare)
	}
	var out strings.Builder
	r.Format(&out)
	t.Log("\n" + out.String())
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
