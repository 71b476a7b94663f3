package edgeoutbox

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// counterDelta is a change to the running counters of edgeoutbox_usage. It is written
// in the transaction that makes the change it counts, so the counters are exact in
// every snapshot, whichever process wrote the file.
type counterDelta struct {
	bytes, pending, published, deadLettered int64
	// rescan marks events that became due out of id order (dead letters retried): a
	// relay that skips what it already swept must look from the start again.
	rescan bool
}

func (d counterDelta) zero() bool {
	return d.bytes == 0 && d.pending == 0 && d.published == 0 && d.deadLettered == 0 && !d.rescan
}

// apply writes d in tx. Counts never go below zero: a database repaired by hand may be
// off, and a negative count would only mislead.
func (d counterDelta) apply(ctx context.Context, tx *sql.Tx) error {
	if d.zero() {
		return nil
	}
	generation := 0
	if d.rescan {
		generation = 1
	}
	_, err := tx.ExecContext(ctx, `UPDATE edgeoutbox_usage SET bytes = MAX(bytes + ?, 0), pending = MAX(pending + ?, 0),
		published = MAX(published + ?, 0), dead_lettered = MAX(dead_lettered + ?, 0), generation = generation + ? WHERE id = 1`,
		d.bytes, d.pending, d.published, d.deadLettered, generation)
	if err != nil {
		return fmt.Errorf("update outbox counters: %w", err)
	}
	return nil
}

// counters is a read of edgeoutbox_usage.
type counters struct {
	bytes, pending, published, deadLettered, generation int64
}

// readCounters reads the counters row through q (a *sql.DB or *sql.Tx).
func readCounters(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (counters, error) {
	var c counters
	err := q.QueryRowContext(ctx, `SELECT bytes, pending, published, dead_lettered, generation FROM edgeoutbox_usage WHERE id = 1`).
		Scan(&c.bytes, &c.pending, &c.published, &c.deadLettered, &c.generation)
	if err != nil {
		return c, fmt.Errorf("read outbox counters: %w", err)
	}
	return c, nil
}

// throughputKeep is how long per-minute throughput is kept.
const throughputKeep = 24 * time.Hour

// addThroughput counts published and dead-lettered events in the minute of now.
func addThroughput(ctx context.Context, tx *sql.Tx, now time.Time, published, deadLettered int64) error {
	if published == 0 && deadLettered == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO edgeoutbox_throughput (minute, published, dead_lettered) VALUES (?, ?, ?)
		ON CONFLICT(minute) DO UPDATE SET published = published + excluded.published,
			dead_lettered = dead_lettered + excluded.dead_lettered`,
		now.Unix()/60, published, deadLettered)
	if err != nil {
		return fmt.Errorf("count throughput: %w", err)
	}
	return nil
}

// ThroughputPoint is the number of events published and dead-lettered in one minute.
type ThroughputPoint struct {
	Minute       time.Time `json:"minute"`
	Published    int64     `json:"published"`
	DeadLettered int64     `json:"dead_lettered"`
}

// Throughput returns the events published and dead-lettered per minute since since
// (the last 24 hours are kept), oldest first; minutes without any are left out. It
// reads a small per-minute table, whatever the size of the outbox.
func (e *Engine) Throughput(ctx context.Context, since time.Time) ([]ThroughputPoint, error) {
	rows, err := e.reader.QueryContext(ctx, `SELECT minute, published, dead_lettered FROM edgeoutbox_throughput
		WHERE minute >= ? ORDER BY minute`, since.Unix()/60)
	if err != nil {
		return nil, fmt.Errorf("read throughput: %w", err)
	}
	defer rows.Close()
	var out []ThroughputPoint
	for rows.Next() {
		var p ThroughputPoint
		var minute int64
		if err := rows.Scan(&minute, &p.Published, &p.DeadLettered); err != nil {
			return nil, fmt.Errorf("read throughput: %w", err)
		}
		p.Minute = time.Unix(minute*60, 0).UTC()
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read throughput: %w", err)
	}
	return out, nil
}
