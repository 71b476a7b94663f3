package edgeoutbox

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Status is where an event is in its life.
type Status string

const (
	// StatusPending events wait to be published (due now or after a backoff).
	StatusPending Status = "pending"
	// StatusPublished events were accepted by the transport.
	StatusPublished Status = "published"
	// StatusDeadLettered events failed for good; RetryDeadLetter sends them again.
	StatusDeadLettered Status = "dead_lettered"
)

// ParseStatus accepts "pending", "published", "dead_lettered" (or "dead").
func ParseStatus(s string) (Status, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "pending":
		return StatusPending, nil
	case "published":
		return StatusPublished, nil
	case "dead_lettered", "dead-lettered", "dead":
		return StatusDeadLettered, nil
	}
	return "", fmt.Errorf("unknown status %q: use pending, published or dead_lettered", s)
}

// StoredEvent is an event with its delivery state, as operators see it.
type StoredEvent struct {
	Event
	Status         Status     `json:"status"`
	PublishedAt    *time.Time `json:"published_at,omitempty"`
	NextAttemptAt  *time.Time `json:"next_attempt_at,omitempty"`
	LastError      string     `json:"last_error,omitempty"`
	LastErrorClass string     `json:"last_error_class,omitempty"`
	DeadLetteredAt *time.Time `json:"dead_lettered_at,omitempty"`
}

// EventFilter selects events for ListEvents. The zero value lists the newest 100 events.
type EventFilter struct {
	// Status limits the list to one status ("" for all).
	Status Status
	// Name limits the list to one event name.
	Name string
	// BeforeID pages backwards: only events with a smaller id (0: from the newest).
	BeforeID int64
	// Limit is the page size. Default 100, at most 1000.
	Limit int
}

const storedColumns = eventColumns + ", published_at, last_error, last_error_class, dead_lettered_at"

// ListEvents lists events newest first.
func (e *Engine) ListEvents(ctx context.Context, f EventFilter) ([]*StoredEvent, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	f.Limit = min(f.Limit, 1000)
	var where []string
	var args []any
	switch f.Status {
	case "":
	case StatusPending:
		where = append(where, pendingWhere)
	case StatusPublished:
		where = append(where, "published_at IS NOT NULL")
	case StatusDeadLettered:
		where = append(where, "dead_lettered_at IS NOT NULL")
	default:
		return nil, fmt.Errorf("list events: unknown status %q: use pending, published or dead_lettered", f.Status)
	}
	if f.Name != "" {
		where = append(where, "name = ?")
		args = append(args, f.Name)
	}
	if f.BeforeID > 0 {
		where = append(where, "id < ?")
		args = append(args, f.BeforeID)
	}
	query := "SELECT " + storedColumns + " FROM edgeoutbox_events"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY id DESC LIMIT ?"
	args = append(args, f.Limit)
	rows, err := e.reader.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	var out []*StoredEvent
	for rows.Next() {
		se, err := scanStored(rows)
		if err != nil {
			return nil, fmt.Errorf("list events: %w", err)
		}
		out = append(out, se)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return out, nil
}

// GetEvent returns one event by id, or an error matching ErrNotFound.
func (e *Engine) GetEvent(ctx context.Context, id int64) (*StoredEvent, error) {
	rows, err := e.reader.QueryContext(ctx, "SELECT "+storedColumns+" FROM edgeoutbox_events WHERE id = ?", id)
	if err != nil {
		return nil, fmt.Errorf("get event %d: %w", id, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("get event %d: %w", id, err)
		}
		return nil, fmt.Errorf("get event %d: %w", id, ErrNotFound)
	}
	se, err := scanStored(rows)
	if err != nil {
		return nil, fmt.Errorf("get event %d: %w", id, err)
	}
	return se, rows.Close()
}

func scanStored(rows *sql.Rows) (*StoredEvent, error) {
	var se StoredEvent
	var published, dead sql.NullInt64
	var lastErr, lastClass sql.NullString
	nextAt, err := scanEvent(rows, &se.Event, &published, &lastErr, &lastClass, &dead)
	if err != nil {
		return nil, err
	}
	se.LastError, se.LastErrorClass = lastErr.String, lastClass.String
	switch {
	case published.Valid:
		se.Status = StatusPublished
		se.PublishedAt = nanosTime(published.Int64)
	case dead.Valid:
		se.Status = StatusDeadLettered
		se.DeadLetteredAt = nanosTime(dead.Int64)
	default:
		se.Status = StatusPending
		se.NextAttemptAt = nanosTime(nextAt)
	}
	return &se, nil
}

// scanEvent reads the eventColumns of one row into ev, then the extra columns into
// extra, and returns next_attempt_at.
func scanEvent(rows *sql.Rows, ev *Event, extra ...any) (nextAt int64, err error) {
	var entityVersion sql.NullInt64
	var payload []byte
	var metadata []byte
	var occurred, created int64
	dest := append([]any{&ev.ID, &ev.IdempotencyKey, &ev.Name, &ev.Type, &ev.Version, &ev.Entity.Class, &ev.Entity.ID,
		&entityVersion, &payload, &metadata, &occurred, &created, &ev.Attempts, &nextAt}, extra...)
	if err := rows.Scan(dest...); err != nil {
		return 0, err
	}
	if entityVersion.Valid {
		v := entityVersion.Int64
		ev.Entity.Version = &v
	}
	ev.Payload = json.RawMessage(payload)
	if len(metadata) > 0 {
		ev.Metadata = decodeMetadata(metadata)
	}
	ev.OccurredAt = time.Unix(0, occurred).UTC()
	ev.CreatedAt = time.Unix(0, created).UTC()
	return nextAt, nil
}

func nanosTime(n int64) *time.Time {
	t := time.Unix(0, n).UTC()
	return &t
}

// DeadLetters lists dead-lettered events, newest first (a shorthand for ListEvents).
func (e *Engine) DeadLetters(ctx context.Context, limit int, beforeID int64) ([]*StoredEvent, error) {
	return e.ListEvents(ctx, EventFilter{Status: StatusDeadLettered, Limit: limit, BeforeID: beforeID})
}

// RetryDeadLetter makes dead letter id pending again, due now, with its attempts reset
// and its idempotency key kept (so a broker that saw it can still drop a duplicate).
// An id that is not a dead letter gives an error matching ErrNotFound.
func (e *Engine) RetryDeadLetter(ctx context.Context, id int64) error {
	res, err := e.db.ExecContext(ctx, `UPDATE edgeoutbox_events SET dead_lettered_at = NULL, attempts = 0, next_attempt_at = ?
		WHERE id = ? AND dead_lettered_at IS NOT NULL`, time.Now().UnixNano(), id)
	if err != nil {
		return e.storageError(fmt.Sprintf("retry dead letter %d", id), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("retry dead letter %d: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("retry dead letter %d: no dead-lettered event has that id (see \"edgeoutbox dead-letters list\"): %w", id, ErrNotFound)
	}
	e.signal()
	return nil
}

// RetryAllDeadLetters makes every dead letter pending again in one transaction and
// returns how many there were.
func (e *Engine) RetryAllDeadLetters(ctx context.Context) (int64, error) {
	res, err := e.db.ExecContext(ctx, `UPDATE edgeoutbox_events SET dead_lettered_at = NULL, attempts = 0, next_attempt_at = ?
		WHERE dead_lettered_at IS NOT NULL`, time.Now().UnixNano())
	if err != nil {
		return 0, e.storageError("retry all dead letters", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("retry all dead letters: %w", err)
	}
	if n > 0 {
		e.signal()
	}
	return n, nil
}

// isNotFound is errors.Is(err, ErrNotFound), for readability at call sites.
func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
