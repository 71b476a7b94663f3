package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
)

// BacklogOptions sizes the backlog benchmark.
type BacklogOptions struct {
	// Sizes are the pending backlogs measured, smallest first; every figure at the
	// largest is compared with its figure at the smallest (normally 0).
	Sizes []int
	// Events is how many events each Emit ×64 measurement emits and each drain
	// measurement publishes.
	Events int
	// InlineEvents is how many events the DeliveryInline measurement emits.
	InlineEvents int
	// Samples is how many Stats and ListEvents calls give each p99.
	Samples int
	// Budget bounds one measurement: a slower one reports the rate it reached.
	Budget time.Duration
	// WriteEvents is how many events the bytes-per-event measurement emits with 64
	// emitters (a tenth of it, at least 200, with one).
	WriteEvents int
	// BareEvents is how many events the bare-table comparisons write (a tenth with
	// one emitter), best of Reps runs.
	BareEvents, Reps int
	// CleanupBound stops the Cleanup measurement, which then reports what it did.
	CleanupBound time.Duration
	// SizeReps is how many rounds measure every size (the sizes alternate); the best
	// figure of the rounds is kept, like Compare does.
	SizeReps int
}

// QuickBacklogOptions are small sizes for a smoke test of the code paths.
func QuickBacklogOptions() BacklogOptions {
	return BacklogOptions{Sizes: []int{0, 1000, 3000}, Events: 1000, InlineEvents: 200, Samples: 50,
		Budget: 10 * time.Second, WriteEvents: 1000, BareEvents: 1000, Reps: 1, CleanupBound: time.Minute, SizeReps: 1}
}

// DefaultBacklogOptions are the sizes: 0, 100 000 and 1 000 000 pending.
func DefaultBacklogOptions() BacklogOptions {
	return BacklogOptions{Sizes: []int{0, 100_000, 1_000_000}, Events: 50_000, InlineEvents: 10_000, Samples: 1000,
		Budget: 30 * time.Second, WriteEvents: 20_000, BareEvents: 50_000, Reps: 3, CleanupBound: 5 * time.Minute, SizeReps: 2}
}

// Figure is one measure at every backlog size.
type Figure struct {
	Name, Unit string
	// HigherIsBetter: a rate; otherwise a latency, whose ratio is inverted.
	HigherIsBetter bool
	Values         []float64
	// Target is the least Ratio the project promises (0: none).
	Target float64
	// Limit is the most the figure may be at the largest size (0: none).
	Limit float64
}

// Ratio compares the figure at the largest backlog with the smallest, so that 1 means
// flat and less means worse: rates largest/smallest, latencies smallest/largest.
func (f Figure) Ratio() float64 {
	if len(f.Values) < 2 {
		return 0
	}
	first, last := f.Values[0], f.Values[len(f.Values)-1]
	if !f.HigherIsBetter {
		first, last = last, first
	}
	if first == 0 {
		return 0
	}
	return last / first
}

// Verdict says whether the figure meets its target and limit.
func (f Figure) Verdict() string {
	var parts []string
	ok := true
	if f.Target > 0 {
		parts = append(parts, fmt.Sprintf("ratio ≥ %.2f", f.Target))
		ok = ok && f.Ratio() >= f.Target
	}
	if f.Limit > 0 && len(f.Values) > 0 {
		parts = append(parts, fmt.Sprintf("≤ %g %s at the largest", f.Limit, f.Unit))
		ok = ok && f.Values[len(f.Values)-1] <= f.Limit
	}
	if len(parts) == 0 {
		return ""
	}
	verdict := "meets target"
	if !ok {
		verdict = "BELOW target"
	}
	return "(target " + strings.Join(parts, ", ") + ": " + verdict + ")"
}

// BacklogReport is what the backlog benchmark measured.
type BacklogReport struct {
	Sizes   []int
	Figures []Figure
	Writes  []WriteCost
	Cleanup CleanupPeak
	Bare    []Comparison
}

// Format prints the report as a table.
func (r *BacklogReport) Format(w io.Writer) {
	fmt.Fprintf(w, "backlog: each figure at %s pending events; ratio = at %d against at %d (latencies inverted: 1 is flat, less is worse)\n",
		joinInts(r.Sizes), r.Sizes[len(r.Sizes)-1], r.Sizes[0])
	fmt.Fprintf(w, "%-40s", "")
	for _, n := range r.Sizes {
		fmt.Fprintf(w, " %12d", n)
	}
	fmt.Fprintf(w, "  %6s\n", "ratio")
	for _, f := range r.Figures {
		fmt.Fprintf(w, "%-40s", f.Name+" ("+f.Unit+")")
		for _, v := range f.Values {
			if v < 100 && f.Unit != "%" {
				fmt.Fprintf(w, " %12.3f", v)
			} else {
				fmt.Fprintf(w, " %12.0f", v)
			}
		}
		if f.Unit == "%" { // a share, not a cost: no ratio
			fmt.Fprintln(w)
			continue
		}
		fmt.Fprintf(w, "  %6.2f  %s\n", f.Ratio(), f.Verdict())
	}
	for _, c := range r.Writes {
		fmt.Fprintln(w, c)
	}
	fmt.Fprintln(w, r.Cleanup)
	for _, c := range r.Bare {
		fmt.Fprintln(w, c)
	}
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}

// BacklogSuite measures, in one run, how edgeoutbox's costs change with the number of
// pending events: at every size in o.Sizes, on copies of one filled file per size,
// Emit ×64, Emit ×64 with MaxPendingEvents set, DeliveryInline Emit ×8, Stats p99,
// ListEvents by name p99 and the relay's drain rate to the memory transport; then the
// bytes written to disk per event with 1 and 64 emitters, the disk peak of a Cleanup
// of the largest backlog once drained, and Emit ×1 and EmitBatch of 64 beside raw
// transactions on a bare table. logf reports progress.
func BacklogSuite(ctx context.Context, dir string, o BacklogOptions, logf func(string, ...any)) (*BacklogReport, error) {
	if len(o.Sizes) < 2 || !slices.IsSorted(o.Sizes) || o.Sizes[0] < 0 {
		return nil, fmt.Errorf("backlog sizes %v: give at least two, smallest first", o.Sizes)
	}
	templates, err := backlogTemplates(ctx, dir, o.Sizes, logf)
	if err != nil {
		return nil, fmt.Errorf("fill backlogs: %w", err)
	}
	r := &BacklogReport{Sizes: o.Sizes}
	emit64 := &Figure{Name: "Emit ×64", Unit: "events/s", HigherIsBetter: true, Target: 0.8}
	capped := &Figure{Name: "Emit ×64, MaxPendingEvents set", Unit: "events/s", HigherIsBetter: true, Target: 0.8}
	inline := &Figure{Name: "DeliveryInline Emit ×8", Unit: "events/s", HigherIsBetter: true, Target: 0.8}
	inlineShare := &Figure{Name: "  of which published inline", Unit: "%", HigherIsBetter: true}
	stats := &Figure{Name: "Stats p99", Unit: "ms", Target: 0.8, Limit: 5}
	list := &Figure{Name: "ListEvents by name p99", Unit: "ms", Target: 0.8}
	drain := &Figure{Name: "relay drain to memory", Unit: "events/s", HigherIsBetter: true, Target: 0.8}
	copies := 0
	fresh := func(template string) (string, error) {
		copies++
		p := dbPath(dir, fmt.Sprintf("copy-%d", copies))
		return p, CopyFile(p, template)
	}
	best := make([]sizeFigures, len(o.Sizes))
	reps := max(o.SizeReps, 1)
	for rep := range reps {
		for i, n := range o.Sizes {
			// The last round drains the largest backlog whole and cleans it up.
			cleanup := rep == reps-1 && i == len(o.Sizes)-1
			logf("backlog: measuring at %d pending events (round %d of %d)", n, rep+1, reps)
			f, err := measureSize(ctx, n, func() (string, error) { return fresh(templates[i]) }, cleanup, o, r, logf)
			if err != nil {
				return nil, fmt.Errorf("at %d pending: %w", n, err)
			}
			logf("backlog: at %d pending: %s", n, f)
			best[i] = best[i].better(f, rep == 0)
		}
	}
	for i := range o.Sizes {
		b := best[i]
		stats.Values = append(stats.Values, ms(b.stats))
		list.Values = append(list.Values, ms(b.list))
		emit64.Values = append(emit64.Values, b.emitted)
		capped.Values = append(capped.Values, b.capped)
		inline.Values = append(inline.Values, b.inlined)
		inlineShare.Values = append(inlineShare.Values, b.share)
		drain.Values = append(drain.Values, b.drained)
		removeDB(templates[i])
	}
	r.Figures = []Figure{*emit64, *capped, *inline, *inlineShare, *stats, *list, *drain}

	logf("backlog: bytes written per event")
	writeDir := filepath.Join(dir, "writes")
	if err := os.MkdirAll(writeDir, 0o755); err != nil {
		return nil, err
	}
	for _, c := range []struct {
		emitters, n int
		target      float64
	}{{1, max(o.WriteEvents/10, 200), 12 << 10}, {64, o.WriteEvents, 1536}} {
		w, err := WriteBytesPerEvent(ctx, writeDir, c.emitters, c.n, c.target, o.Budget)
		if err != nil {
			return nil, fmt.Errorf("bytes written per event: %w", err)
		}
		r.Writes = append(r.Writes, w)
	}
	os.RemoveAll(writeDir)

	logf("backlog: Emit and EmitBatch beside a bare table")
	if r.Bare, err = BareSuite(ctx, dir, max(o.BareEvents/10, 100), o.BareEvents, o.Reps); err != nil {
		return nil, fmt.Errorf("bare table comparison: %w", err)
	}
	return r, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// sizeFigures is one round of measurements at one backlog size.
type sizeFigures struct {
	stats, list                              time.Duration
	emitted, capped, inlined, share, drained float64
}

func (f sizeFigures) String() string {
	return fmt.Sprintf("Emit ×64 %.0f/s, with a cap %.0f/s, inline ×8 %.0f/s (%.0f%% inline), Stats p99 %.3f ms, ListEvents p99 %.3f ms, drain %.0f/s",
		f.emitted, f.capped, f.inlined, f.share, ms(f.stats), ms(f.list), f.drained)
}

// better keeps the best of two rounds, figure by figure (first: f is the only one).
func (b sizeFigures) better(f sizeFigures, first bool) sizeFigures {
	if first {
		return f
	}
	b.stats, b.list = min(b.stats, f.stats), min(b.list, f.list)
	b.emitted, b.capped, b.drained = max(b.emitted, f.emitted), max(b.capped, f.capped), max(b.drained, f.drained)
	if f.inlined > b.inlined {
		b.inlined, b.share = f.inlined, f.share
	}
	return b
}

// measureSize measures every figure at one backlog size, each on a fresh copy of its
// file; with cleanup set, the drain publishes the whole backlog and the Cleanup that
// follows is measured into r.Cleanup.
func measureSize(ctx context.Context, n int, fresh func() (string, error), cleanup bool, o BacklogOptions, r *BacklogReport,
	logf func(string, ...any)) (f sizeFigures, err error) {
	steps := []func(path string) error{
		func(p string) (err error) {
			if f.stats, f.list, err = readFigures(ctx, p, o); err != nil {
				return err
			}
			f.emitted, err = emitRate(ctx, p, edgeoutbox.Config{}, 64, o)
			return err
		},
		func(p string) (err error) {
			limit := int64(n + RareEvents + o.Events + 1)
			f.capped, err = emitRate(ctx, p, edgeoutbox.Config{MaxPendingEvents: limit}, 64, o)
			return err
		},
		func(p string) (err error) { f.inlined, f.share, err = inlineRate(ctx, p, o); return err },
		func(p string) (err error) {
			if f.drained, err = drainRate(ctx, p, n, cleanup, o); err != nil || !cleanup {
				return err
			}
			logf("backlog: cleanup of the drained %d-event backlog", n)
			r.Cleanup, err = MeasureCleanup(ctx, p, n+o.Events+RareEvents, 1.1, o.CleanupBound)
			logf("backlog: %s", r.Cleanup)
			return err
		},
	}
	for _, step := range steps {
		p, err := fresh()
		if err != nil {
			return f, err
		}
		err = step(p)
		removeDB(p)
		if err != nil {
			return f, err
		}
	}
	return f, nil
}
