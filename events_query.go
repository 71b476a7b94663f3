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
	// Integers scan into int64: database/sql converts into an int through a string.
	var occurred, created, version, attempts int64
	dest := append([]any{&ev.ID, &ev.IdempotencyKey, &ev.Name, &ev.Type, &version, &ev.Entity.Class, &ev.Entity.ID,
		&entityVersion, &payload, &metadata, &occurred, &created, &attempts, &nextAt}, extra...)
	if err := rows.Scan(dest...); err != nil {
		return 0, err
	}
	ev.Version, ev.Attempts = int(version), int(attempts)
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

// isNotFound is errors.Is(err, ErrNotFound), for readability at call sites.
func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
