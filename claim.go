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

// claimCursor carries a claim's scan state so that the next claim can start after a
// batch whose outcome is still being recorded. The zero value scans from the start.
type claimCursor struct {
	after   int64           // last id accounted for
	blocked map[string]bool // entities held back by an earlier event awaiting a retry
	nextDue time.Time       // earliest retry among the skipped events
	// truncated: the scan stopped at maxClaimScan rows before the end, so due events
	// may lie beyond after.
	truncated bool
}

// withBlocked returns c also holding back the given entities.
func (c claimCursor) withBlocked(entities map[string]bool) claimCursor {
	blocked := make(map[string]bool, len(c.blocked)+len(entities))
	for k := range c.blocked {
		blocked[k] = true
	}
	for k := range entities {
		if k != "" {
			blocked[k] = true
		}
	}
	c.blocked = blocked
	return c
}

// claimDue returns up to BatchSize due events in id order after cur, leaving out every
// event of an entity whose earlier event waits for a retry, and the cursor to continue
// from. Only the lease holder calls it, so nothing needs to be marked as claimed.
func (e *Engine) claimDue(ctx context.Context, now time.Time, cur claimCursor) ([]*Event, claimCursor, error) {
	next := claimCursor{after: cur.after, nextDue: cur.nextDue}
	if len(cur.blocked) > 0 {
		next.blocked = make(map[string]bool, len(cur.blocked))
		for k := range cur.blocked {
			next.blocked[k] = true
		}
	}
	nowNanos := now.UnixNano()
	limit := e.cfg.BatchSize
	var batch []*Event
	scanned := 0
	for len(batch) < e.cfg.BatchSize && scanned < maxClaimScan {
		page, err := e.pendingPage(ctx, next.after, limit)
		if err != nil {
			return nil, cur, err
		}
		for _, p := range page {
			if len(batch) == e.cfg.BatchSize {
				break // the rest of the page is scanned again next time
			}
			next.after = p.ev.ID
			k := p.ev.Entity.key()
			if p.nextAt > nowNanos {
				if k != "" {
					if next.blocked == nil {
						next.blocked = map[string]bool{}
					}
					next.blocked[k] = true
				}
				if due := time.Unix(0, p.nextAt); next.nextDue.IsZero() || due.Before(next.nextDue) {
					next.nextDue = due
				}
				continue
			}
			if k != "" && next.blocked[k] {
				continue
			}
			batch = append(batch, p.ev)
		}
		scanned += len(page)
		if len(page) < limit {
			return batch, next, nil
		}
	}
	next.truncated = len(batch) < e.cfg.BatchSize
	return batch, next, nil
}

type pendingRow struct {
	ev     *Event
	nextAt int64
}

// pendingPage reads up to limit pending events with id > after, in id order, through
// the reader pool, and closes the rows before returning so that no read snapshot holds
// back checkpoints.
func (e *Engine) pendingPage(ctx context.Context, after int64, limit int) ([]pendingRow, error) {
	rows, err := e.reader.QueryContext(ctx, "SELECT "+eventColumns+" FROM edgeoutbox_events WHERE "+
		pendingWhere+" AND id > ? ORDER BY id LIMIT ?", after, limit)
	if err != nil {
		return nil, fmt.Errorf("claim batch: %w", err)
	}
	defer rows.Close()
	page := make([]pendingRow, 0, limit)
	for rows.Next() {
		ev := new(Event)
		nextAt, err := scanEvent(rows, ev)
		if err != nil {
			return nil, fmt.Errorf("claim batch: %w", err)
		}
		page = append(page, pendingRow{ev: ev, nextAt: nextAt})
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
