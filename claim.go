package edgeoutbox

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// eventColumns are the columns scanEvent reads, in its order.
const eventColumns = `id, idempotency_key, name, type, version, entity_class, entity_id, entity_version,
	payload, metadata, occurred_at, created_at, attempts, next_attempt_at`

// pendingWhere selects unpublished, live events; it matches the partial index.
const pendingWhere = "published_at IS NULL AND dead_lettered_at IS NULL"

// maxClaimScan bounds how many pending rows one claim looks at when many of them wait
// for a retry; the rest are found on the next pass.
const maxClaimScan = 20000

// claimDue returns up to BatchSize due events in id order, leaving out every event of an
// entity whose earlier event waits for a retry, and the earliest time a skipped event
// becomes due (zero when none). Only the lease holder calls it, so nothing needs to be
// marked as claimed.
func (e *Engine) claimDue(ctx context.Context, now time.Time) (batch []*Event, nextDue time.Time, err error) {
	var blocked map[string]bool
	var after int64
	nowNanos := now.UnixNano()
	limit := e.cfg.BatchSize
	for scanned := 0; len(batch) < e.cfg.BatchSize && scanned < maxClaimScan; {
		page, err := e.pendingPage(ctx, after, limit)
		if err != nil {
			return nil, time.Time{}, err
		}
		for _, p := range page {
			after = p.ev.ID
			k := p.ev.Entity.key()
			if p.nextAt > nowNanos {
				if blocked == nil {
					blocked = map[string]bool{}
				}
				if k != "" {
					blocked[k] = true
				}
				if due := time.Unix(0, p.nextAt); nextDue.IsZero() || due.Before(nextDue) {
					nextDue = due
				}
				continue
			}
			if k != "" && blocked[k] {
				continue
			}
			if len(batch) < e.cfg.BatchSize {
				batch = append(batch, p.ev)
			}
		}
		scanned += len(page)
		if len(page) < limit {
			break
		}
	}
	return batch, nextDue, nil
}

type pendingRow struct {
	ev     *Event
	nextAt int64
}

// pendingPage reads up to limit pending events with id > after, in id order, through
// the reader pool, and closes the rows before returning so that no read snapshot holds
// back checkpoints.
func (e *Engine) pendingPage(ctx context.Context, after int64, limit int) ([]pendingRow, error) {
	rows, err := e.reader.QueryContext(ctx, "SELECT "+storedColumns+" FROM edgeoutbox_events WHERE "+
		pendingWhere+" AND id > ? ORDER BY id LIMIT ?", after, limit)
	if err != nil {
		return nil, fmt.Errorf("claim batch: %w", err)
	}
	defer rows.Close()
	page := make([]pendingRow, 0, limit)
	for rows.Next() {
		se, err := scanStored(rows)
		if err != nil {
			return nil, fmt.Errorf("claim batch: %w", err)
		}
		page = append(page, pendingRow{ev: &se.Event, nextAt: se.NextAttemptAt.UnixNano()})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim batch: %w", err)
	}
	return page, nil
}

// decodeMetadata decodes metadata that edgeoutbox itself encoded.
func decodeMetadata(b []byte) map[string]string {
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return nil
	}
	return m
}
