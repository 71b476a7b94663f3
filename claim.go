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
	// cut: the batch was cut short at the most a batch may cost (maxBatchCost): more
	// due events follow right after it, as after a full batch.
	cut bool
	// resumable: a sweep that starts at after instead of the first pending event,
	// valid while the counters' generation is still generation and nextDue has not come.
	resumable  bool
	generation int64
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
// Events with an id above maxID are left for later. The scan reads the pending index
// alone; only the events it takes are read from the table, so entities held back by a
// retry cost an index entry each, not their payloads.
func (e *Engine) claimDue(ctx context.Context, now time.Time, cur claimCursor, maxID int64) ([]*Event, claimCursor, error) {
	next := claimCursor{after: cur.after, nextDue: cur.nextDue}
	if len(cur.blocked) > 0 {
		next.blocked = make(map[string]bool, len(cur.blocked))
		for k := range cur.blocked {
			next.blocked[k] = true
		}
	}
	nowNanos := now.UnixNano()
	// A due time further ahead than any delay edgeoutbox sets was stamped by a clock
	// that has since been stepped back: it is due now, not in months.
	latest := nowNanos + int64(e.maxDelay())
	if len(cur.blocked) == 0 {
		// Nothing held back so far: one query usually does it.
		batch, cut, ok, err := e.claimPage(ctx, nowNanos, latest, cur.after, maxID)
		if err != nil {
			return nil, cur, err
		}
		if ok {
			if len(batch) > 0 {
				next.after = batch[len(batch)-1].ID
			}
			next.cut = cut
			return batch, next, nil
		}
	}
	limit := e.cfg.BatchSize
	var ids []int64
	scanned, reachedEnd := 0, false
	for len(ids) < e.cfg.BatchSize && scanned < maxClaimScan {
		page, err := e.pendingKeys(ctx, next.after, maxID, limit)
		if err != nil {
			return nil, cur, err
		}
		for _, p := range page {
			if len(ids) == e.cfg.BatchSize {
				break // the rest of the page is scanned again next time
			}
			next.after = p.id
			k := p.entity.key()
			if p.nextAt > nowNanos && p.nextAt <= latest {
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
			ids = append(ids, p.id)
		}
		scanned += len(page)
		if len(page) < limit {
			reachedEnd = true
			break
		}
	}
	// The scan stopped at maxClaimScan rows, before the end and before a full batch:
	// due events may lie further on.
	next.truncated = !reachedEnd && len(ids) < e.cfg.BatchSize
	batch, cut, err := e.pendingEvents(ctx, ids)
	if err != nil {
		return nil, cur, err
	}
	if cut {
		// Go on right after the last event taken. Entities found held back further on
		// stay in blocked: that only delays their earlier due events to the next
		// sweep, never sends a later one first.
		next.after, next.cut, next.truncated = batch[len(batch)-1].ID, true, false
	}
	return batch, next, nil
}

// claimPage reads the next BatchSize pending events after id after (up to maxID) in
// one query: the usual claim, when no event waits for a retry. ok is false, and the
// events are dropped, when one of them is not due yet: the entity of such an event
// must be held back, which the index-only scan of claimDue does without reading the
// payloads of its later events. cut reports a batch cut short at maxBatchCost.
func (e *Engine) claimPage(ctx context.Context, nowNanos, latest, after, maxID int64) (batch []*Event, cut, ok bool, err error) {
	rows, err := e.reader.QueryContext(ctx, "SELECT "+eventColumns+" FROM edgeoutbox_events WHERE "+
		pendingWhere+" AND id > ? AND id <= ? ORDER BY id LIMIT ?", after, maxID, e.cfg.BatchSize)
	if err != nil {
		return nil, false, false, fmt.Errorf("claim batch: %w", err)
	}
	defer rows.Close()
	batch = make([]*Event, 0, e.cfg.BatchSize)
	evs := make([]Event, e.cfg.BatchSize) // one allocation for the whole batch
	var cost int64
	for len(batch) < len(evs) && rows.Next() {
		ev := &evs[len(batch)]
		nextAt, err := scanEvent(rows, ev)
		if err != nil {
			return nil, false, false, fmt.Errorf("claim batch: %w", err)
		}
		if nextAt > nowNanos && nextAt <= latest {
			return nil, false, false, nil
		}
		batch = append(batch, ev)
		if cost += eventCost(ev); cost >= e.maxBatchCost() && len(batch) < len(evs) {
			cut = true
			break
		}
	}
	if err := rows.Err(); err != nil {
		return nil, false, false, fmt.Errorf("claim batch: %w", err)
	}
	return batch, cut, true, nil
}

// maxDelay is the furthest ahead edgeoutbox ever schedules an event.
func (e *Engine) maxDelay() time.Duration {
	return max(e.cfg.BackoffMax, inlineGrace)
}

// pendingKey is one entry of the pending index.
type pendingKey struct {
	id     int64
	nextAt int64
	entity Entity
}

// pendingKeys reads up to limit entries of the pending index with after < id <= maxID,
// in id order, and closes the rows before returning so that no read snapshot holds
// back checkpoints.
func (e *Engine) pendingKeys(ctx context.Context, after, maxID int64, limit int) ([]pendingKey, error) {
	rows, err := e.reader.QueryContext(ctx, "SELECT id, next_attempt_at, entity_class, entity_id FROM edgeoutbox_events WHERE "+
		pendingWhere+" AND id > ? AND id <= ? ORDER BY id LIMIT ?", after, maxID, limit)
	if err != nil {
		return nil, fmt.Errorf("claim batch: %w", err)
	}
	defer rows.Close()
	page := make([]pendingKey, 0, limit)
	for rows.Next() {
		var p pendingKey
		if err := rows.Scan(&p.id, &p.nextAt, &p.entity.Class, &p.entity.ID); err != nil {
			return nil, fmt.Errorf("claim batch: %w", err)
		}
		page = append(page, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim batch: %w", err)
	}
	return page, nil
}

// pendingEvents reads the events with the given ids (ascending), in id order, skipping
// any that is no longer pending, and stopping (cut) once they cost maxBatchCost.
func (e *Engine) pendingEvents(ctx context.Context, ids []int64) (batch []*Event, cut bool, err error) {
	if len(ids) == 0 {
		return nil, false, nil
	}
	match, args := "id IN (SELECT value FROM json_each(?))", []any{idList(ids)}
	if first, last := ids[0], ids[len(ids)-1]; last-first+1 == int64(len(ids)) {
		match, args = "id BETWEEN ? AND ?", []any{first, last}
	}
	rows, err := e.reader.QueryContext(ctx, "SELECT "+eventColumns+" FROM edgeoutbox_events WHERE "+
		match+" AND "+pendingWhere+" ORDER BY id", args...)
	if err != nil {
		return nil, false, fmt.Errorf("claim batch: %w", err)
	}
	defer rows.Close()
	batch = make([]*Event, 0, len(ids))
	var cost int64
	for rows.Next() {
		ev := new(Event)
		if _, err := scanEvent(rows, ev); err != nil {
			return nil, false, fmt.Errorf("claim batch: %w", err)
		}
		batch = append(batch, ev)
		if cost += eventCost(ev); cost >= e.maxBatchCost() && ev.ID != ids[len(ids)-1] {
			cut = true
			break
		}
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("claim batch: %w", err)
	}
	return batch, cut, nil
}

// decodeMetadata decodes metadata that edgeoutbox itself encoded.
func decodeMetadata(b []byte) map[string]string {
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return nil
	}
	return m
}
