package edgeoutbox

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// EventFilter selects events for ListEvents. The zero value lists the newest 100
// events. Every combination is answered from an index, never by reading the table.
type EventFilter struct {
	// Status limits the list to one status ("" for all).
	Status Status
	// Name limits the list to one event name.
	Name string
	// EntityClass and EntityID limit the list to one entity (EntityID needs EntityClass).
	EntityClass string
	EntityID    string
	// IdempotencyKey finds the one event with that key.
	IdempotencyKey string
	// CreatedFrom (inclusive) and CreatedTo (exclusive) limit the list to events stored
	// in that time range; zero leaves that side open.
	CreatedFrom time.Time
	CreatedTo   time.Time
	// BeforeID pages backwards: only events with a smaller id (0: from the newest).
	BeforeID int64
	// AfterID pages forwards: only events with a larger id. The page still lists
	// newest first: it is the page just above AfterID.
	AfterID int64
	// Limit is the page size. Default 100, at most 1000.
	Limit int
}

const storedColumns = eventColumns + ", published_at, last_error, last_error_class, dead_lettered_at"

// doneWhere matches the partial indexes of published and dead-lettered events; it is
// spelled exactly as in the migration so that SQLite can use them.
const doneWhere = "(published_at IS NOT NULL OR dead_lettered_at IS NOT NULL)"

// createdSlack widens a time range's id bounds: ids follow commit order, created_at the
// moment Emit was called, a little earlier.
const createdSlack = time.Minute

// ListEvents lists events newest first.
func (e *Engine) ListEvents(ctx context.Context, f EventFilter) ([]*StoredEvent, error) {
	queries, err := e.listQueries(ctx, &f)
	if err != nil {
		return nil, err
	}
	var all []*StoredEvent
	for _, q := range queries {
		part, err := e.queryEvents(ctx, q)
		if err != nil {
			return nil, err
		}
		all = append(all, part...)
	}
	if len(queries) == 1 {
		return all, nil
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ID > all[j].ID })
	if f.AfterID > 0 && len(all) > f.Limit {
		return all[len(all)-f.Limit:], nil // the page just above AfterID
	}
	return all[:min(len(all), f.Limit)], nil
}

// listQuery is one indexed query of a list.
type listQuery struct {
	sql  string
	args []any
	asc  bool // ascending ids: the page above AfterID, to be reversed
}

// listQueries builds the queries that answer f (after filling in its defaults): one,
// or two to merge when pending and finished events must both be read through the
// indexes that hold them.
func (e *Engine) listQueries(ctx context.Context, f *EventFilter) ([]listQuery, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	f.Limit = min(f.Limit, 1000)
	if f.EntityID != "" && f.EntityClass == "" {
		return nil, fmt.Errorf("list events: an entity id needs its entity class (EventFilter.EntityClass)")
	}
	var status []string
	switch f.Status {
	case "":
	case StatusPending:
		status = []string{pendingWhere}
	case StatusPublished:
		status = []string{"published_at IS NOT NULL", doneWhere}
	case StatusDeadLettered:
		status = []string{"dead_lettered_at IS NOT NULL", "published_at IS NULL", doneWhere}
	default:
		return nil, fmt.Errorf("list events: unknown status %q: use pending, published or dead_lettered", f.Status)
	}
	where, args, err := e.filterTerms(ctx, *f)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	if f.Status == StatusDeadLettered {
		// Dead letters are few: walk their own index and test name and entity on each
		// row. Left to itself SQLite picks the name or entity index of every finished
		// event and reads ~1000 published rows per dead letter (0.5 s a page at 1M).
		// "+" keeps a column's index out of the plan.
		for i, term := range where {
			if strings.HasPrefix(term, "name ") || strings.HasPrefix(term, "entity_") {
				where[i] = "+" + term
			}
		}
	}
	build := func(terms []string) listQuery {
		q := listQuery{sql: "SELECT " + storedColumns + " FROM edgeoutbox_events", asc: f.AfterID > 0}
		if len(terms) > 0 {
			q.sql += " WHERE " + strings.Join(terms, " AND ")
		}
		order := "DESC"
		if q.asc {
			order = "ASC"
		}
		q.sql += " ORDER BY id " + order + " LIMIT ?"
		q.args = append(append([]any(nil), args...), f.Limit)
		return q
	}
	if f.Status == "" && f.IdempotencyKey == "" && (f.Name != "" || f.EntityClass != "") {
		// Pending and finished events sit in different indexes: list each, then merge.
		return []listQuery{
			build(append([]string{pendingWhere}, where...)),
			build(append([]string{doneWhere}, where...)),
		}, nil
	}
	return []listQuery{build(append(status, where...))}, nil
}

// filterTerms turns everything but the status into WHERE terms.
func (e *Engine) filterTerms(ctx context.Context, f EventFilter) ([]string, []any, error) {
	var where []string
	var args []any
	add := func(term string, arg ...any) {
		where = append(where, term)
		args = append(args, arg...)
	}
	if f.IdempotencyKey != "" {
		add("idempotency_key = ?", f.IdempotencyKey)
	}
	if f.Name != "" {
		add("name = ?", f.Name)
	}
	if f.EntityClass != "" {
		add("entity_class = ?", f.EntityClass)
		if f.EntityID != "" {
			add("entity_id = ?", f.EntityID)
		}
	}
	if !f.CreatedFrom.IsZero() {
		lo, err := e.firstIDCreatedAt(ctx, f.CreatedFrom.Add(-createdSlack))
		if err != nil {
			return nil, nil, err
		}
		add("id >= ?", lo)
		add("created_at >= ?", f.CreatedFrom.UnixNano())
	}
	if !f.CreatedTo.IsZero() {
		hi, err := e.firstIDCreatedAt(ctx, f.CreatedTo.Add(createdSlack))
		if err != nil {
			return nil, nil, err
		}
		add("id < ?", hi)
		add("created_at < ?", f.CreatedTo.UnixNano())
	}
	if f.BeforeID > 0 {
		add("id < ?", f.BeforeID)
	}
	if f.AfterID > 0 {
		add("id > ?", f.AfterID)
	}
	return where, args, nil
}

// queryEvents runs one list query and returns its events newest first.
func (e *Engine) queryEvents(ctx context.Context, q listQuery) ([]*StoredEvent, error) {
	rows, err := e.reader.QueryContext(ctx, q.sql, q.args...)
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
	if q.asc {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out, nil
}

// firstIDCreatedAt returns the smallest id whose event was created at or after t, by a
// binary search over ids (about 20 lookups by primary key on a million rows): ids
// follow creation order closely enough, and callers widen the bound by createdSlack
// and filter on created_at exactly. It returns max(id)+1 when every event is older.
func (e *Engine) firstIDCreatedAt(ctx context.Context, t time.Time) (int64, error) {
	var lo, hi int64
	// MIN and MAX in separate subqueries: together in one SELECT, SQLite drops its
	// min/max shortcut and scans the whole table (~1 s per call at 1M events).
	if err := e.reader.QueryRowContext(ctx, "SELECT COALESCE((SELECT MIN(id) FROM edgeoutbox_events), 1), COALESCE((SELECT MAX(id) FROM edgeoutbox_events), 0) + 1").Scan(&lo, &hi); err != nil {
		return 0, fmt.Errorf("find events by time: %w", err)
	}
	target := t.UnixNano()
	for lo < hi {
		mid := lo + (hi-lo)/2
		var id, created int64
		err := e.reader.QueryRowContext(ctx, "SELECT id, created_at FROM edgeoutbox_events WHERE id >= ? ORDER BY id LIMIT 1", mid).Scan(&id, &created)
		if err != nil {
			return 0, fmt.Errorf("find events by time: %w", err)
		}
		if created >= target {
			hi = mid
		} else {
			lo = id + 1
		}
	}
	return lo, nil
}
