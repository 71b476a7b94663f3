package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
)

// WriteCost is the bytes written to disk per emitted event.
type WriteCost struct {
	Emitters int
	Events   int
	// PerEvent is bytes written per event, WAL and checkpoint included; 0 when Known
	// is false (only Linux says, in /proc/self/io).
	PerEvent float64
	Known    bool
	// Target is the most bytes per event the project promises.
	Target float64
}

// String formats the cost as one line.
func (w WriteCost) String() string {
	name := fmt.Sprintf("disk bytes written per event, Emit ×%d", w.Emitters)
	if !w.Known {
		return fmt.Sprintf("%-44s n/a (write_bytes of /proc/self/io: Linux only)", name)
	}
	verdict := "meets target"
	if w.PerEvent > w.Target {
		verdict = "ABOVE target"
	}
	return fmt.Sprintf("%-44s %8.0f B  (%d events; target ≤ %.0f B: %s)", name, w.PerEvent, w.Events, w.Target, verdict)
}

// WriteBytesPerEvent emits n events from the given number of goroutines into a new
// database in dir (default settings) and reports the bytes this process wrote to disk
// per event: the WAL frames and, through a final checkpoint, the database pages.
func WriteBytesPerEvent(ctx context.Context, dir string, emitters, n int, target float64, budget time.Duration) (WriteCost, error) {
	w := WriteCost{Emitters: emitters, Target: target}
	e, err := Open(ctx, filepath.Join(dir, fmt.Sprintf("writes-%d.db", emitters)), edgeoutbox.Config{RetentionInterval: -1})
	if err != nil {
		return w, err
	}
	defer e.Close()
	// Warm up: the first commits create the tables' first pages.
	for i := range 64 {
		if _, err := e.Emit(ctx, Event.Name(), Inputs(i)); err != nil {
			return w, err
		}
	}
	if _, err := e.DB().ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return w, err
	}
	before, ok := processWriteBytes()
	done, _, err := emitFor(emitters, n, budget, func(_, i int) error {
		_, err := e.Emit(ctx, Event.Name(), Inputs(64+i))
		return err
	})
	if err != nil {
		return w, err
	}
	if _, err := e.DB().ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
		return w, err
	}
	after, ok2 := processWriteBytes()
	w.Events = done
	if ok && ok2 && done > 0 {
		w.Known = true
		w.PerEvent = float64(after-before) / float64(done)
	}
	return w, nil
}
