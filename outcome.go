package edgeoutbox

import (
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// recordOutcome marks the published events of a batch and schedules or dead-letters the
// failed ones, all in one transaction. Events that were held back, cancelled or met an
// unavailable transport stay pending with no attempt counted; the first unavailable
// error is returned so the relay can wait for connectivity.
//
// owner, when set, is the relay's lease token: failures are only recorded while that
// relay still holds the lease, so a relay that lost it (and whose events another relay
// may be publishing) counts no attempts and dead-letters nothing. Published events are
// always marked: the broker has them, whoever sent them.
func (e *Engine) recordOutcome(ctx context.Context, owner string, batch []*Event, errs []error, started time.Time) (unavailable error, err error) {
	return e.recordOutcomes(ctx, owner, []outcome{{batch: batch, errs: errs, started: started}})
}

// outcome is a batch's publish results, waiting to be recorded.
type outcome struct {
	batch   []*Event
	errs    []error
	started time.Time
	cost    int64 // batchCost(batch): what the recorder holds while it waits
}

// recordOutcomes records the outcomes of several batches, in order, in one
// transaction (see recordOutcome): a relay whose batches land faster than one commit
// takes pays one commit, and one fsync, for all of them. Every outcome is final (its
// acks are in), so nothing is marked published before the broker said so. If the
// transaction fails, none of them is recorded: their events stay pending and are sent
// again.
func (e *Engine) recordOutcomes(ctx context.Context, owner string, outs []outcome) (unavailable error, err error) {
	now := e.now()
	n := 0
	for _, o := range outs {
		n += len(o.batch)
	}
	published := make([]int64, 0, n)
	var failures []failure
	perBatch := make([]struct{ published, failures int }, len(outs))
	for j, o := range outs {
		var failedEntities map[string]bool
		before, fails := len(published), len(failures)
		for i, ev := range o.batch {
			perr := o.errs[i]
			if perr == nil {
				published = append(published, ev.ID)
				continue
			}
			k := ev.Entity.key()
			switch {
			case errors.Is(perr, ErrTransportUnavailable):
				if unavailable == nil {
					unavailable = perr
				}
			case errors.Is(perr, errHeldBack), errors.Is(perr, context.Canceled), k != "" && failedEntities[k]:
				// Not the event's own failure.
			default:
				failures = append(failures, e.classify(ev, perr, now))
			}
			if k != "" {
				if failedEntities == nil {
					failedEntities = map[string]bool{}
				}
				failedEntities[k] = true
			}
		}
		perBatch[j].published, perBatch[j].failures = len(published)-before, len(failures)-fails
	}
	if len(published) == 0 && len(failures) == 0 {
		return unavailable, nil
	}
	recorded := failures
	err = e.inWriteTx(ctx, "record publish outcome", func(tx *sql.Tx) error {
		var err error
		recorded, err = e.writeOutcome(ctx, tx, owner, published, failures, now)
		return err
	})
	if err != nil {
		return unavailable, err
	}
	fails := 0
	for j, o := range outs {
		var fs []failure
		if len(recorded) > 0 { // none when the relay had lost its lease
			fs = failures[fails : fails+perBatch[j].failures]
		}
		fails += perBatch[j].failures
		e.afterOutcome(o.batch, o.errs, fs, perBatch[j].published, time.Since(o.started), now)
	}
	return unavailable, nil
}

// failure is what happens to an event whose publish failed.
type failure struct {
	ev      *Event
	err     error
	class   string
	dead    bool
	nextAt  time.Time
	attempt int // attempts after this one
}

func (e *Engine) classify(ev *Event, err error, now time.Time) failure {
	f := failure{ev: ev, err: err, class: errorClass(err), attempt: ev.Attempts + 1}
	switch {
	case f.class == ErrorClassPermanent:
		f.dead = true
	case f.attempt >= e.cfg.MaxAttempts:
		f.dead = true
		f.class = ErrorClassMaxAttempts
	default:
		f.nextAt = now.Add(e.backoff(f.attempt))
	}
	return f
}

// backoff is BackoffBase·2^(attempt-1), capped at BackoffMax, with jitter over its upper
// half so that many failing events do not retry in lock step.
func (e *Engine) backoff(attempt int) time.Duration {
	d := e.cfg.BackoffBase
	for i := 1; i < attempt && d < e.cfg.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, e.cfg.BackoffMax)
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + rand.N(half+1)
}

// writeOutcome returns the failures it recorded: none when owner lost the lease.
func (e *Engine) writeOutcome(ctx context.Context, tx *sql.Tx, owner string, published []int64, failures []failure, now time.Time) ([]failure, error) {
	var delta counterDelta
	if len(published) > 0 {
		n, revived, err := markPublished(ctx, tx, published, now)
		if err != nil {
			return nil, e.storageError("mark batch published", err)
		}
		delta.pending -= n
		delta.deadLettered -= revived
		delta.published += n + revived
	}
	if len(failures) > 0 && owner != "" {
		var holds int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM edgeoutbox_leases WHERE name = ? AND owner = ? AND expires_at > ?",
			relayLease, owner, now.UnixNano()).Scan(&holds); err != nil {
			return nil, e.storageError("record failed publish: check the relay lease", err)
		}
		if holds == 0 {
			e.log.Warn().Int("failures", len(failures)).Msg("relay lost its lease: failures not recorded")
			failures = nil
		}
	}
	for _, f := range failures {
		msg := truncateError(f.err.Error())
		var res sql.Result
		var err error
		if f.dead {
			res, err = tx.ExecContext(ctx, `UPDATE edgeoutbox_events SET attempts = ?, last_error = ?, last_error_class = ?,
				dead_lettered_at = ? WHERE id = ? AND `+pendingWhere, f.attempt, msg, f.class, now.UnixNano(), f.ev.ID)
		} else {
			res, err = tx.ExecContext(ctx, `UPDATE edgeoutbox_events SET attempts = ?, last_error = ?, last_error_class = ?,
				next_attempt_at = ? WHERE id = ? AND `+pendingWhere, f.attempt, msg, f.class, f.nextAt.UnixNano(), f.ev.ID)
		}
		if err != nil {
			return nil, e.storageError("record failed publish", err)
		}
		if f.dead {
			n, err := res.RowsAffected()
			if err != nil {
				return nil, e.storageError("record failed publish", err)
			}
			delta.pending -= n
			delta.deadLettered += n
		}
	}
	if err := delta.apply(ctx, tx); err != nil {
		return nil, e.storageError("record publish outcome", err)
	}
	if err := addThroughput(ctx, tx, now, delta.published, max(delta.deadLettered, 0)); err != nil {
		return nil, e.storageError("record publish outcome", err)
	}
	return failures, nil
}

// markPublished marks the events published and returns how many pending events it
// marked and how many dead letters it revived: a published event is not a dead
// letter, even if a slower path said so. A batch of consecutive ids (the usual case)
// is marked by range: cheaper than probing the id list. Several batches recorded
// together are usually one range too.
func markPublished(ctx context.Context, tx *sql.Tx, ids []int64, now time.Time) (pending, revived int64, err error) {
	if !slices.IsSorted(ids) {
		ids = slices.Clone(ids)
		slices.Sort(ids)
	}
	match, arg1, arg2 := "id IN (SELECT value FROM json_each(?))", any(idList(ids)), []any(nil)
	if first, last := ids[0], ids[len(ids)-1]; last-first+1 == int64(len(ids)) {
		match, arg1, arg2 = "id BETWEEN ? AND ?", first, []any{last}
	}
	args := append([]any{now.UnixNano(), arg1}, arg2...)
	// Dead letters first, through their small index: usually there are none.
	res, err := tx.ExecContext(ctx, `UPDATE edgeoutbox_events SET published_at = ?, dead_lettered_at = NULL
		WHERE `+match+` AND dead_lettered_at IS NOT NULL AND published_at IS NULL`, args...)
	if err != nil {
		return 0, 0, err
	}
	if revived, err = res.RowsAffected(); err != nil {
		return 0, 0, err
	}
	res, err = tx.ExecContext(ctx, `UPDATE edgeoutbox_events SET published_at = ? WHERE `+match+` AND `+pendingWhere, args...)
	if err != nil {
		return 0, 0, err
	}
	pending, err = res.RowsAffected()
	return pending, revived, err
}

// afterOutcome logs and runs hooks once the outcome is committed.
func (e *Engine) afterOutcome(batch []*Event, errs []error, failures []failure, published int, took time.Duration, now time.Time) {
	if wantHook, observing := e.hooks.wantsPublished(), e.observing(); wantHook || observing {
		for i, ev := range batch {
			if errs[i] != nil {
				continue
			}
			if wantHook {
				e.hooks.published(EventInfo{Name: ev.Name, Version: ev.Version, EventID: ev.ID, IdempotencyKey: ev.IdempotencyKey, Attempts: ev.Attempts + 1})
			}
			if observing {
				ob := observeEvent(ObservedPublished, ev, now)
				ob.Attempts++
				ob.Latency = max(now.Sub(ev.CreatedAt), 0)
				e.observe(ob)
			}
		}
	}
	if published > 0 {
		e.hooks.batchPublished(BatchInfo{Count: published, Duration: took})
		e.log.Debug().Int("count", published).Dur("took", took).Msg("batch published")
	}
	for _, f := range failures {
		info := EventInfo{Name: f.ev.Name, Version: f.ev.Version, EventID: f.ev.ID, IdempotencyKey: f.ev.IdempotencyKey,
			Attempts: f.attempt, ErrorMessage: f.err.Error(), ErrorClass: f.class}
		if e.observing() {
			ob := observeEvent(ObservedPublishFailed, f.ev, now)
			if f.dead {
				ob.Kind = ObservedDeadLettered
			}
			ob.Attempts, ob.ErrorClass = f.attempt, f.class
			e.observe(ob)
		}
		if f.dead {
			e.log.Warn().Int64("event_id", f.ev.ID).Str("event", f.ev.Name).Str("error_class", f.class).Err(f.err).Msg("event dead-lettered")
			e.hooks.deadLettered(info)
		} else {
			e.log.Info().Int64("event_id", f.ev.ID).Str("event", f.ev.Name).Int("attempts", f.attempt).Time("next_attempt_at", f.nextAt).Err(f.err).Msg("publish failed, will retry")
			e.hooks.failed(info)
		}
	}
}

// idList encodes ids as a JSON array for json_each.
func idList(ids []int64) string {
	b := make([]byte, 0, len(ids)*8)
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, ']'))
}

// truncateError keeps stored error messages bounded.
func truncateError(msg string) string {
	const max = 2000
	if len(msg) <= max {
		return msg
	}
	return strings.ToValidUTF8(msg[:max], "") + "…"
}
