package edgeoutbox

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// DeadLetters lists dead-lettered events, newest first (a shorthand for ListEvents).
func (e *Engine) DeadLetters(ctx context.Context, limit int, beforeID int64) ([]*StoredEvent, error) {
	return e.ListEvents(ctx, EventFilter{Status: StatusDeadLettered, Limit: limit, BeforeID: beforeID})
}

// RetryDeadLetter makes dead letter id pending again, due now, with its attempts reset
// and its idempotency key kept (so a broker that saw it can still drop a duplicate).
// An id that is not a dead letter gives an error matching ErrNotFound.
func (e *Engine) RetryDeadLetter(ctx context.Context, id int64) error {
	n, err := e.retryDeadLetters(ctx, fmt.Sprintf("retry dead letter %d", id), "id = ?", id)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("retry dead letter %d: no dead-lettered event has that id (see \"edgeoutbox dead-letters list\"): %w", id, ErrNotFound)
	}
	return nil
}

// RetryDeadLetters makes the given dead letters pending again in one transaction and
// returns how many it retried. Ids that are not (or no longer) dead letters are left
// alone and not counted, so retrying twice is harmless.
func (e *Engine) RetryDeadLetters(ctx context.Context, ids []int64) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	return e.retryDeadLetters(ctx, "retry dead letters", "id IN (SELECT value FROM json_each(?))", idList(ids))
}

// RetryDeadLettersMatching makes every dead letter that f matches pending again, in one
// transaction, and returns how many it retried. f.Status, f.Limit and paging are
// ignored: it is every match.
func (e *Engine) RetryDeadLettersMatching(ctx context.Context, f EventFilter) (int64, error) {
	f.BeforeID, f.AfterID = 0, 0
	where, args, err := e.filterTerms(ctx, f)
	if err != nil {
		return 0, fmt.Errorf("retry dead letters: %w", err)
	}
	match := "1"
	if len(where) > 0 {
		match = strings.Join(where, " AND ")
	}
	return e.retryDeadLetters(ctx, "retry dead letters", match, args...)
}

// RetryAllDeadLetters makes every dead letter pending again in one transaction and
// returns how many there were.
func (e *Engine) RetryAllDeadLetters(ctx context.Context) (int64, error) {
	return e.retryDeadLetters(ctx, "retry all dead letters", "1")
}

// retryDeadLetters makes the dead letters matching match pending again, due now, with
// their attempts reset, and keeps the counters in step, all in one transaction.
func (e *Engine) retryDeadLetters(ctx context.Context, doing, match string, args ...any) (int64, error) {
	var n int64
	err := e.inWriteTx(ctx, doing, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE edgeoutbox_events SET dead_lettered_at = NULL, attempts = 0, next_attempt_at = ?
			WHERE dead_lettered_at IS NOT NULL AND published_at IS NULL AND `+match, append([]any{e.now().UnixNano()}, args...)...)
		if err != nil {
			return e.storageError(doing, err)
		}
		if n, err = res.RowsAffected(); err != nil {
			return fmt.Errorf("%s: %w", doing, err)
		}
		if err := (counterDelta{pending: n, deadLettered: -n, rescan: n > 0}).apply(ctx, tx); err != nil {
			return e.storageError(doing, err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if n > 0 {
		e.signal()
	}
	return n, nil
}
