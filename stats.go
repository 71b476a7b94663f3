package edgeoutbox

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"
)

// Stats is a snapshot of the outbox, read from the database (so it covers every
// process writing the file).
type Stats struct {
	Pending      int64 `json:"pending"`
	Published    int64 `json:"published"`
	DeadLettered int64 `json:"dead_lettered"`
	// OldestPendingAge is how long the oldest pending event has waited (0 when none).
	OldestPendingAge time.Duration `json:"oldest_pending_age_ns"`
	// LastPublishedAt is when the newest published event was published (zero if none).
	LastPublishedAt time.Time `json:"last_published_at"`
	// PublishLatency summarises created→published over the last 1000 published events.
	PublishLatency LatencySummary `json:"publish_latency"`
	// OutboxBytes is the payload and metadata bytes the outbox holds (MaxOutboxBytes).
	OutboxBytes int64 `json:"outbox_bytes"`
	// HooksDropped counts hook notifications dropped because hooks fell behind (this
	// process only).
	HooksDropped int64 `json:"hooks_dropped"`
}

// LatencySummary summarises durations; all zero when there is no sample.
type LatencySummary struct {
	Samples int           `json:"samples"`
	P50     time.Duration `json:"p50_ns"`
	P99     time.Duration `json:"p99_ns"`
	Max     time.Duration `json:"max_ns"`
}

// Stats reads counts by status, the oldest pending age, the last publish time and
// the recent publish latency. Its cost does not grow with the outbox: the counts are
// running counters, the rest are index look-ups.
func (e *Engine) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	now := e.now()
	c, err := readCounters(ctx, e.reader)
	if err != nil {
		return s, fmt.Errorf("read outbox stats: %w", err)
	}
	s.Pending, s.Published, s.DeadLettered, s.OutboxBytes = c.pending, c.published, c.deadLettered, c.bytes
	var oldest, lastPub sql.NullInt64
	err = e.reader.QueryRowContext(ctx, `SELECT
		(SELECT created_at FROM edgeoutbox_events WHERE `+pendingWhere+` ORDER BY id LIMIT 1),
		(SELECT MAX(published_at) FROM edgeoutbox_events WHERE published_at IS NOT NULL)`).Scan(&oldest, &lastPub)
	if err != nil {
		return s, fmt.Errorf("read outbox stats: %w", err)
	}
	if oldest.Valid {
		s.OldestPendingAge = pendingAge(now, oldest.Int64)
	}
	if lastPub.Valid {
		s.LastPublishedAt = time.Unix(0, lastPub.Int64).UTC()
	}
	if s.PublishLatency, err = e.publishLatency(ctx); err != nil {
		return s, err
	}
	s.HooksDropped = e.hooks.dropped.Load()
	return s, nil
}

// pendingAge is how long an event created at createdAt has waited. A creation time
// in the future (the clock was stepped back since the event was stored) cannot tell
// its age; it reads as 1ns rather than 0, so that "something is waiting" never reads
// as "nothing is".
func pendingAge(now time.Time, createdAt int64) time.Duration {
	return max(now.Sub(time.Unix(0, createdAt)), time.Nanosecond)
}

// latencySamples is how many of the newest published events the latency summary
// covers.
const latencySamples = 1000

func (e *Engine) publishLatency(ctx context.Context) (LatencySummary, error) {
	// The published index covers (published_at, created_at): no table reads.
	rows, err := e.reader.QueryContext(ctx, `SELECT published_at - created_at FROM edgeoutbox_events
		WHERE published_at IS NOT NULL ORDER BY published_at DESC LIMIT ?`, latencySamples)
	if err != nil {
		return LatencySummary{}, fmt.Errorf("read publish latency: %w", err)
	}
	defer rows.Close()
	samples := make([]time.Duration, 0, latencySamples)
	for rows.Next() {
		var d int64
		if err := rows.Scan(&d); err != nil {
			return LatencySummary{}, fmt.Errorf("read publish latency: %w", err)
		}
		samples = append(samples, time.Duration(max(d, 0)))
	}
	if err := rows.Err(); err != nil {
		return LatencySummary{}, fmt.Errorf("read publish latency: %w", err)
	}
	return summarize(samples), nil
}

func summarize(samples []time.Duration) LatencySummary {
	if len(samples) == 0 {
		return LatencySummary{}
	}
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	at := func(q float64) time.Duration { return samples[int(q*float64(len(samples)-1))] }
	return LatencySummary{Samples: len(samples), P50: at(0.5), P99: at(0.99), Max: samples[len(samples)-1]}
}
