package bench

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
)

// emitFor runs emit from the given number of goroutines (g is the goroutine's index)
// for event numbers 0..n-1 until all are done or budget has passed, and returns how
// many returned nil and how long that took. The budget keeps a benchmark of a slow
// build finite: its rate is what it managed in the time.
func emitFor(emitters, n int, budget time.Duration, emit func(g, i int) error) (int, time.Duration, error) {
	var next, done atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, emitters)
	start := time.Now()
	deadline := start.Add(budget)
	for g := range emitters {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := emit(g, i); err != nil {
					errs <- err
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return 0, 0, err
	}
	return int(done.Load()), elapsed, nil
}

// rate is events per second.
func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// p99 calls f up to samples times, or until budget has passed (but at least 5 times),
// and returns the 99th percentile of its latency.
func p99(samples int, budget time.Duration, f func() error) (time.Duration, error) {
	var lat []time.Duration
	deadline := time.Now().Add(budget)
	for len(lat) < samples && (len(lat) < 5 || time.Now().Before(deadline)) {
		start := time.Now()
		if err := f(); err != nil {
			return 0, err
		}
		lat = append(lat, time.Since(start))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	idx := (len(lat)*99+99)/100 - 1
	return lat[min(max(idx, 0), len(lat)-1)], nil
}

// readFigures opens a copy of a backlog and measures Stats p99 and ListEvents by
// Rare's name p99 (a page of 100 that lies behind the whole backlog).
func readFigures(ctx context.Context, path string, o BacklogOptions) (stats, list time.Duration, err error) {
	e, err := Open(ctx, path, edgeoutbox.Config{RetentionInterval: -1})
	if err != nil {
		return 0, 0, err
	}
	defer e.Close()
	stats, err = p99(o.Samples, o.Budget, func() error {
		_, err := e.Stats(ctx)
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("stats: %w", err)
	}
	list, err = p99(o.Samples, o.Budget, func() error {
		page, err := e.ListEvents(ctx, edgeoutbox.EventFilter{Name: Rare.Name(), Limit: RareEvents})
		if err == nil && len(page) != RareEvents {
			err = fmt.Errorf("listed %d events named %s, want %d", len(page), Rare.Name(), RareEvents)
		}
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("list events: %w", err)
	}
	return stats, list, nil
}

// emitRate opens a copy of a backlog with cfg (default settings plus what the figure
// needs) and emits o.Events events from emitters goroutines; it returns events/s.
// Entities are the backlog's 64 sensors.
func emitRate(ctx context.Context, path string, cfg edgeoutbox.Config, emitters int, o BacklogOptions) (float64, error) {
	cfg.RetentionInterval = -1
	e, err := Open(ctx, path, cfg)
	if err != nil {
		return 0, err
	}
	defer e.Close()
	n, took, err := emitFor(emitters, o.Events, o.Budget, func(_, i int) error {
		_, err := e.Emit(ctx, Event.Name(), Inputs(i))
		return err
	})
	return rate(n, took), err
}

// inlineRate opens a copy of a backlog with DeliveryInline and the memory transport
// and emits o.InlineEvents events from 8 goroutines; it returns events/s and the
// share of them published inline. Goroutine g emits entity hygrometer/g, which no
// backlog event shares, so each Emit may take the inline path: commit, check that no
// earlier event of its entity is pending, publish, mark published. (The engine may
// hand an event to the relay instead, e.g. behind a large backlog; none runs here.)
func inlineRate(ctx context.Context, path string, o BacklogOptions) (perSecond, share float64, err error) {
	tr := edgeoutbox.NewMemoryTransport()
	e, err := Open(ctx, path, edgeoutbox.Config{Transport: tr, Delivery: edgeoutbox.DeliveryInline, RetentionInterval: -1})
	if err != nil {
		return 0, 0, err
	}
	defer e.Close()
	n, took, err := emitFor(8, o.InlineEvents, o.Budget, func(g, i int) error {
		in := edgeoutbox.Inputs{"reading": Reading{Kind: "hygrometer", Sensor: g, Value: float64(i), Unit: "percent"}}
		_, err := e.Emit(ctx, Event.Name(), in)
		return err
	})
	if err != nil || n == 0 {
		return 0, 0, err
	}
	return rate(n, took), 100 * float64(tr.Len()) / float64(n), nil
}

// drainRate adds o.Events events to a copy of a backlog (EmitBatch at SyncOff), then
// reopens it with the default settings, starts the relay with the memory transport and
// times the first o.Events events published. With all set, it then waits until the
// whole backlog is published.
func drainRate(ctx context.Context, path string, backlog int, all bool, o BacklogOptions) (float64, error) {
	if err := FillBacklog(ctx, path, backlog, backlog+o.Events, false); err != nil {
		return 0, err
	}
	total := backlog + o.Events + RareEvents
	published := make(chan int, 4096)
	tr := edgeoutbox.NewMemoryTransport()
	e, err := Open(ctx, path, edgeoutbox.Config{Transport: tr, RetentionInterval: -1,
		Hooks: edgeoutbox.Hooks{OnBatchPublished: func(b edgeoutbox.BatchInfo) { published <- b.Count }}})
	if err != nil {
		return 0, err
	}
	defer e.Close()
	start := time.Now()
	if err := e.Start(ctx); err != nil {
		return 0, err
	}
	want := o.Events
	if all {
		want = total
	}
	var took time.Duration
	timed := 0
	timer := time.NewTimer(o.Budget)
	defer timer.Stop()
	// Hook notifications may be dropped when hooks fall behind: with all set, also
	// look at the pending count now and then.
	check := time.NewTicker(2 * time.Second)
	defer check.Stop()
	for done := 0; done < want; {
		select {
		case c := <-published:
			done += c
			if took == 0 && done >= o.Events {
				took, timed = time.Since(start), done
			}
			if tr.Len() > 100_000 {
				tr.Reset() // the events are not needed; keep memory flat on big drains
			}
		case <-timer.C:
			if took == 0 { // slower than the budget: the rate is what it managed
				took, timed = time.Since(start), done
			}
			if !all {
				return rate(timed, took), e.Stop(ctx)
			}
		case <-check.C:
			if !all {
				continue
			}
			st, err := e.Stats(ctx)
			if err != nil {
				return 0, err
			}
			if st.Pending == 0 {
				done = want
			}
		case <-ctx.Done():
			return 0, fmt.Errorf("relay drain: %d of %d published: %w", done, want, ctx.Err())
		}
	}
	if took == 0 { // the pending count saw the end before the hooks did
		took, timed = time.Since(start), o.Events
	}
	if err := e.Stop(ctx); err != nil {
		return 0, err
	}
	if all {
		st, err := e.Stats(ctx)
		if err != nil {
			return 0, err
		}
		if st.Pending != 0 || st.Published != int64(total) {
			return 0, fmt.Errorf("relay drain: %d of %d events published, %d pending", st.Published, total, st.Pending)
		}
	}
	return rate(timed, took), nil
}
