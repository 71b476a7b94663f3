package bench

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
)

// CleanupPeak is the disk a Cleanup of a drained backlog needed at its peak.
type CleanupPeak struct {
	Events int
	// Database is the database file's size before Cleanup (its WAL checkpointed away).
	Database int64
	// Peak is the largest database plus WAL size seen while Cleanup ran.
	Peak int64
	// After is database plus WAL once Cleanup returned.
	After int64
	Took  time.Duration
	// Finished is false when Cleanup was still running at the end of its time bound;
	// Deleted is then what it had deleted and the sizes are those so far.
	Finished bool
	Deleted  int64
	// Target is the most Peak/Database the project promises.
	Target float64
}

// Ratio is Peak / Database.
func (c CleanupPeak) Ratio() float64 {
	if c.Database == 0 {
		return 0
	}
	return float64(c.Peak) / float64(c.Database)
}

// String formats the result as one line.
func (c CleanupPeak) String() string {
	verdict := "meets target"
	if c.Ratio() > c.Target {
		verdict = "ABOVE target"
	}
	line := fmt.Sprintf("cleanup of %d drained events: database %.1f MB, peak database+WAL %.1f MB = %.2f× (target ≤ %.2f: %s); after %.1f MB, took %v",
		c.Events, mb(c.Database), mb(c.Peak), c.Ratio(), c.Target, verdict, mb(c.After), c.Took.Round(time.Millisecond))
	if !c.Finished {
		line += fmt.Sprintf(" — NOT FINISHED: stopped at its time bound after deleting %d events", c.Deleted)
	}
	return line
}

func mb(n int64) float64 { return float64(n) / 1e6 }

// fileSize is the size of the file at path, 0 when it does not exist.
func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// MeasureCleanup opens the drained database at path with the default settings and
// runs Cleanup of every published event while another goroutine samples the sizes
// of the database file and its WAL every millisecond. Cleanup is stopped after bound.
func MeasureCleanup(ctx context.Context, path string, events int, target float64, bound time.Duration) (CleanupPeak, error) {
	c := CleanupPeak{Events: events, Target: target}
	e, err := Open(ctx, path, edgeoutbox.Config{RetentionInterval: -1})
	if err != nil {
		return c, err
	}
	defer e.Close()
	if _, err := e.DB().ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return c, err
	}
	size := func() int64 { return fileSize(path) + fileSize(path+"-wal") }
	c.Database = size()
	stop := make(chan struct{})
	peak := make(chan int64)
	go func() {
		p := size()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				peak <- max(p, size())
				return
			case <-tick.C:
				p = max(p, size())
			}
		}
	}()
	bounded, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	start := time.Now()
	res, err := e.CleanupOlderThan(bounded, 0, -1)
	c.Took = time.Since(start)
	close(stop)
	c.Peak = <-peak
	c.After = size()
	c.Deleted = res.Published
	if bounded.Err() != nil && ctx.Err() == nil {
		return c, nil // not finished: reported as such
	}
	if err != nil {
		return c, err
	}
	if res.Published != int64(events) {
		return c, fmt.Errorf("cleanup deleted %d published events, want %d", res.Published, events)
	}
	c.Finished = true
	return c, nil
}
