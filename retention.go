package edgeoutbox

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"
)

// CleanupResult reports what Cleanup removed.
type CleanupResult struct {
	Published    int64 // published events deleted
	DeadLettered int64 // dead letters deleted
	FreedBytes   int64 // payload and metadata bytes no longer held
}

// retentionBatch is how many rows one cleanup transaction deletes: small, so emits
// waiting for the writer are not held up for long.
const retentionBatch = 1000

// Cleanup deletes published events older than RetentionPeriod and dead letters older
// than DeadLetterRetention, in small transactions, then gives the freed pages back to the
// file system (on a file created by edgeoutbox, which uses incremental auto-vacuum) and
// truncates the WAL. Pending events are never deleted. The relay owner runs it every
// RetentionInterval; call it yourself any time.
func (e *Engine) Cleanup(ctx context.Context) (CleanupResult, error) {
	return e.CleanupOlderThan(ctx, e.cfg.RetentionPeriod, e.cfg.DeadLetterRetention)
}

// CleanupOlderThan is Cleanup with explicit ages; a negative age deletes nothing of
// that kind.
func (e *Engine) CleanupOlderThan(ctx context.Context, published, deadLettered time.Duration) (CleanupResult, error) {
	var res CleanupResult
	now := e.now()
	if err := e.healFutureStamps(ctx, now); err != nil {
		return res, err
	}
	kinds := []struct {
		column string
		age    time.Duration
		count  *int64
	}{
		{"published_at", published, &res.Published},
		{"dead_lettered_at", deadLettered, &res.DeadLettered},
	}
	for _, k := range kinds {
		if k.age < 0 {
			continue
		}
		cutoff := now.Add(-k.age).UnixNano()
		for {
			n, freed, err := e.deleteOlder(ctx, k.column, cutoff)
			if err != nil {
				return res, err
			}
			*k.count += n
			res.FreedBytes += freed
			if n < retentionBatch {
				break
			}
		}
	}
	if res.Published+res.DeadLettered > 0 {
		e.giveSpaceBack(ctx)
		e.log.Info().Int64("published", res.Published).Int64("dead_lettered", res.DeadLettered).Msg("retention cleanup")
	}
	return res, nil
}

// deleteOlder deletes one batch of rows whose column is set and older than cutoff.
func (e *Engine) deleteOlder(ctx context.Context, column string, cutoff int64) (n, freed int64, err error) {
	err = e.inWriteTx(ctx, "cleanup", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `DELETE FROM edgeoutbox_events WHERE id IN (
				SELECT id FROM edgeoutbox_events WHERE `+column+` IS NOT NULL AND `+column+` < ? LIMIT ?)
			RETURNING size_bytes`, cutoff, retentionBatch)
		if err != nil {
			return e.storageError("cleanup: delete old events", err)
		}
		for rows.Next() {
			var size int64
			if err := rows.Scan(&size); err != nil {
				rows.Close()
				return e.storageError("cleanup: delete old events", err)
			}
			n++
			freed += size
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return e.storageError("cleanup: delete old events", err)
		}
		delta := counterDelta{bytes: -freed}
		if column == "published_at" {
			delta.published = -n
		} else {
			delta.deadLettered = -n
		}
		if err := delta.apply(ctx, tx); err != nil {
			return e.storageError("cleanup", err)
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	return n, freed, nil
}

// healFutureStamps sets publish and dead-letter times that lie in the future to now: a
// clock stepped back since they were written would otherwise keep them from ever
// growing old enough for retention. The partial indexes make it a look-up.
func (e *Engine) healFutureStamps(ctx context.Context, now time.Time) error {
	for _, column := range []string{"published_at", "dead_lettered_at"} {
		if _, err := e.execWrite(ctx, false, `UPDATE edgeoutbox_events SET `+column+` = ? WHERE `+column+` IS NOT NULL AND `+column+` > ?`,
			now.UnixNano(), now.Add(time.Minute).UnixNano()); err != nil {
			return e.storageError("cleanup: heal times written by a clock since stepped back", err)
		}
	}
	return nil
}

// vacuumStep is how many free pages one incremental vacuum step gives back: each step
// is one short transaction whose WAL is checkpointed before the next, so the WAL stays
// a few megabytes however much space is freed.
const vacuumStep = 2048

// giveSpaceBack returns free pages to the file system in small steps and truncates the
// WAL. Failures only mean the file stays larger; they are logged, not returned.
func (e *Engine) giveSpaceBack(ctx context.Context) {
	for ctx.Err() == nil {
		var free int64
		if err := e.db.QueryRowContext(ctx, "PRAGMA freelist_count").Scan(&free); err != nil {
			e.log.Warn().Err(err).Msg("cleanup: read free pages")
			break
		}
		if free == 0 {
			break
		}
		if _, err := e.execWrite(ctx, false, fmt.Sprintf("PRAGMA incremental_vacuum(%d)", vacuumStep)); err != nil {
			e.log.Warn().Err(err).Msg("cleanup: incremental vacuum")
			break
		}
		after := free
		if err := e.db.QueryRowContext(ctx, "PRAGMA freelist_count").Scan(&after); err != nil || after >= free {
			break // not an incremental auto-vacuum file: free pages are reused instead
		}
		if _, err := e.execWrite(ctx, false, "PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
			e.log.Warn().Err(err).Msg("cleanup: checkpoint")
		}
	}
	if err := e.write(ctx, false, func() error { return e.truncateWAL(ctx) }); err != nil {
		e.log.Warn().Err(err).Msg("cleanup: checkpoint")
	}
}

// truncateWAL empties the WAL file if nothing stops it at once. A TRUNCATE checkpoint
// blocks every new writer, of every process, while it waits for readers to move to the
// latest snapshot; with SQLite's busy timeout another process's emits could wait that
// long and fail. So it does not wait: if a reader is behind, the WAL keeps its size
// until a later checkpoint (journal_size_limit bounds it).
func (e *Engine) truncateWAL(ctx context.Context) error {
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA busy_timeout = 0"); err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	if _, rerr := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", e.cfg.BusyTimeout.Milliseconds())); rerr != nil {
		// The connection must not keep failing at once on locks: let the pool drop it.
		return errors.Join(err, rerr, conn.Raw(func(any) error { return driver.ErrBadConn }))
	}
	return err
}
