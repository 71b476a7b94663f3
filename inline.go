package edgeoutbox

import (
	"context"
	"database/sql"
	"time"
)

// inlineGrace keeps the relay away from an event that its Emit call is publishing
// inline. If the process dies in between, the relay publishes it once the grace ends.
const inlineGrace = 30 * time.Second

// holdForInline makes a row invisible to the relay for inlineGrace.
func (e *Engine) holdForInline(r *row) {
	if e.cfg.Delivery == DeliveryInline && e.cfg.Transport != nil {
		r.nextAt = r.createdAt + int64(inlineGrace)
	}
}

// publishInline publishes a just-committed event from the emitting goroutine. It only
// does so when no earlier event of the same entity is pending (order first); otherwise,
// and on any failure, it hands the event to the relay at once.
func (e *Engine) publishInline(r *row, id int64) {
	// Done well before the relay may take the event over (createdAt + inlineGrace).
	ctx, cancel := context.WithDeadline(context.Background(), time.Unix(0, r.createdAt).Add(inlineGrace-5*time.Second))
	defer cancel()
	ev := &Event{
		ID: id, IdempotencyKey: r.key, Name: r.b.name, Type: r.b.typ, Version: r.b.version,
		Entity: r.b.entity, Payload: r.b.payload,
		OccurredAt: time.Unix(0, r.occurredAt).UTC(), CreatedAt: time.Unix(0, r.createdAt).UTC(),
	}
	if r.metadata != nil {
		ev.Metadata = decodeMetadata(r.metadata)
	}
	if e.earlierPending(ctx, ev) {
		e.releaseToRelay(ctx, id)
		return
	}
	started := time.Now()
	if err := e.cfg.Transport.Publish(ctx, ev); err != nil {
		e.log.Debug().Err(err).Int64("event_id", id).Msg("inline publish failed; the relay will retry")
		e.releaseToRelay(ctx, id)
		return
	}
	if _, err := e.recordOutcome(ctx, "", []*Event{ev}, []error{nil}, started); err != nil {
		e.log.Warn().Err(err).Int64("event_id", id).Msg("inline publish: mark published")
		e.releaseToRelay(ctx, id)
	}
}

// inlineCheckLimit bounds the pending events the inline order check reads. With more
// pending than that (a backlog after an outage) the relay is draining anyway: the
// event goes to the relay, which keeps the order, without looking.
const inlineCheckLimit = 1000

// earlierPending reports whether an earlier event of ev's entity may still be pending.
// It reads the running count, then at most inlineCheckLimit entries of the pending
// index: its cost does not grow with the backlog.
func (e *Engine) earlierPending(ctx context.Context, ev *Event) bool {
	if ev.Entity.key() == "" {
		return false
	}
	c, err := readCounters(ctx, e.reader)
	if err != nil || c.pending > inlineCheckLimit {
		return true
	}
	var n int
	err = e.reader.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM edgeoutbox_events
		WHERE `+pendingWhere+` AND id < ? AND entity_class = ? AND entity_id = ? LIMIT 1)`,
		ev.ID, ev.Entity.Class, ev.Entity.ID).Scan(&n)
	return err != nil || n > 0
}

// releaseToRelay makes an inline event due now and wakes the relay. The event was held
// out of id order, so the relay must look from the start again (generation).
func (e *Engine) releaseToRelay(ctx context.Context, id int64) {
	err := e.inWriteTx(ctx, "inline publish: hand to relay", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE edgeoutbox_events SET next_attempt_at = ? WHERE id = ? AND "+pendingWhere, e.now().UnixNano(), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		return counterDelta{rescan: true}.apply(ctx, tx)
	})
	if err != nil {
		e.log.Warn().Err(err).Int64("event_id", id).Msg("inline publish: hand to relay (it publishes after the grace period)")
	}
	e.signal()
}
