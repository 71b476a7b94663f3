package bench

import (
	"context"
	"fmt"

	"github.com/edgeoutbox/edgeoutbox"
)

// Rare is the second event of the backlog benchmarks: each backlog holds RareEvents of
// it, the oldest, so that ListEvents filtered by its name must find 100 rows behind
// the whole backlog of Event (a scan without an index on the name).
var Rare = edgeoutbox.Define("bench_sensor_calibrated",
	edgeoutbox.EventType("domain"),
	edgeoutbox.Input("calibration"),
	edgeoutbox.EntityClass("kind", edgeoutbox.From("calibration"), edgeoutbox.String),
	edgeoutbox.EntityID("sensor", edgeoutbox.From("calibration"), edgeoutbox.Int),
	edgeoutbox.RequiredPayload("offset", edgeoutbox.From("calibration"), edgeoutbox.Float),
)

// RareEvents is how many Rare events each backlog holds.
const RareEvents = 100

// Calibration is the input of Rare.
type Calibration struct {
	Kind   string  `json:"kind"`
	Sensor int     `json:"sensor"`
	Offset float64 `json:"offset"`
}

// fillBatch is how many events one EmitBatch call of a fill writes.
const fillBatch = 1000

// FillBacklog writes the backlog benchmarks' database at path: RareEvents events of
// Rare (when rare is set: a new file), then Event number from..to-1, all pending. It writes
// fast (EmitBatch of 1000 at SyncOff: a crash would only lose a benchmark file) and
// checkpoints the WAL into the database, so that copying the database file alone
// copies the backlog. The measurements reopen the copies with the default settings.
func FillBacklog(ctx context.Context, path string, from, to int, rare bool) (err error) {
	e, err := Open(ctx, path, edgeoutbox.Config{Synchronous: edgeoutbox.SyncOff, RetentionInterval: -1})
	if err != nil {
		return err
	}
	defer func() {
		if cerr := e.Close(); err == nil {
			err = cerr
		}
	}()
	if rare {
		rare := make([]edgeoutbox.Emission, RareEvents)
		for i := range rare {
			rare[i] = edgeoutbox.Emission{Name: Rare.Name(),
				Inputs: edgeoutbox.Inputs{"calibration": Calibration{Kind: "calibration", Sensor: i, Offset: 0.5}}}
		}
		if _, err := e.EmitBatch(ctx, rare); err != nil {
			return fmt.Errorf("fill backlog: %w", err)
		}
	}
	batch := make([]edgeoutbox.Emission, 0, fillBatch)
	for i := from; i < to; i += fillBatch {
		batch = batch[:0]
		for j := i; j < min(i+fillBatch, to); j++ {
			batch = append(batch, edgeoutbox.Emission{Name: Event.Name(), Inputs: Inputs(j)})
		}
		if _, err := e.EmitBatch(ctx, batch); err != nil {
			return fmt.Errorf("fill backlog: %w", err)
		}
	}
	if _, err := e.DB().ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return fmt.Errorf("fill backlog: checkpoint: %w", err)
	}
	return nil
}

// backlogTemplates fills one template file per size, smallest first, each starting
// as a copy of the one before, and returns their paths.
func backlogTemplates(ctx context.Context, dir string, sizes []int, logf func(string, ...any)) ([]string, error) {
	paths := make([]string, len(sizes))
	prev, prevPath := 0, ""
	for i, n := range sizes {
		paths[i] = dbPath(dir, fmt.Sprintf("backlog-%d", n))
		if prevPath != "" {
			if err := CopyFile(paths[i], prevPath); err != nil {
				return nil, err
			}
		}
		logf("backlog: filling %d pending events", n)
		if err := FillBacklog(ctx, paths[i], prev, n, prevPath == ""); err != nil {
			return nil, err
		}
		prev, prevPath = n, paths[i]
	}
	return paths, nil
}
