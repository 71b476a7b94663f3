package edgeoutbox

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// row is an event ready to be inserted into the outbox.
type row struct {
	key        string
	b          built
	metadata   []byte // JSON object or nil
	occurredAt int64
	createdAt  int64
	nextAt     int64
	size       int64
}

// maxIdempotencyKeyLen bounds caller-chosen keys: they travel as a message header.
const maxIdempotencyKeyLen = MaxHeaderValueLen

// prepareRow casts inputs against the schema and fills in every column. It touches no
// database, so it runs in the caller's goroutine, outside the writer's critical path.
func (e *Engine) prepareRow(name string, inputs Inputs, opts []EmitOption) (*row, error) {
	var o emitOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.versionSet && o.version < 1 {
		return nil, fmt.Errorf("%w: WithVersion(%d) for event %q: versions start at 1; leave WithVersion out for the latest", ErrUnknownVersion, o.version, name)
	}
	v, err := e.schema.lookup(name, o.version)
	if err != nil {
		return nil, err
	}
	b, err := v.build(name, inputs)
	if err != nil {
		return nil, err
	}
	r := &row{b: b, key: o.idempotencyKey}
	if r.key == "" {
		id, err := uuid.NewV7()
		if err != nil {
			return nil, fmt.Errorf("generate idempotency key: %w", err)
		}
		r.key = id.String()
	} else if len(r.key) > maxIdempotencyKeyLen || !utf8.ValidString(r.key) || strings.ContainsAny(r.key, "\r\n\x00") {
		return nil, &InputError{Event: name, Field: "idempotency key", Problem: fmt.Sprintf("must be valid UTF-8 without line breaks, at most %d bytes", maxIdempotencyKeyLen)}
	}
	if len(o.metadata) > 0 {
		if r.metadata, err = json.Marshal(o.metadata); err != nil {
			return nil, &InputError{Event: name, Field: "metadata", GoType: "map[string]string", Problem: "cannot be encoded as JSON"}
		}
	}
	now := time.Now()
	r.createdAt = now.UnixNano()
	r.occurredAt = r.createdAt
	if !o.occurredAt.IsZero() {
		r.occurredAt = o.occurredAt.UnixNano()
	}
	r.nextAt = r.createdAt
	r.size = int64(len(b.payload) + len(r.metadata))
	return r, nil
}

const insertColumns = `(id, idempotency_key, name, type, version, entity_class, entity_id, entity_version,
	payload, metadata, occurred_at, created_at, next_attempt_at, size_bytes)`

const insertPlaceholders = "(?,?,?,?,?,?,?,?,?,?,?,?,?,?)"

// insertStatementsSQL holds insertSQL(1<<i): the only statement shapes insertRows uses.
var insertStatementsSQL = func() (s [9]string) {
	for i := range s {
		s[i] = insertSQL(1 << i)
	}
	return s
}()

// insertSQL returns a multi-row insert of n rows that skips duplicate keys and returns
// the rows it inserted, so one duplicate does not fail the others in a group commit.
func insertSQL(n int) string {
	var sb strings.Builder
	sb.WriteString("INSERT INTO edgeoutbox_events ")
	sb.WriteString(insertColumns)
	sb.WriteString(" VALUES ")
	for i := 0; i < n; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(insertPlaceholders)
	}
	sb.WriteString(" ON CONFLICT(idempotency_key) DO NOTHING RETURNING id, idempotency_key")
	return sb.String()
}

func (r *row) appendArgs(args []any, id int64) []any {
	var entityVersion any
	if r.b.entity.Version != nil {
		entityVersion = *r.b.entity.Version
	}
	var metadata any
	if r.metadata != nil {
		metadata = string(r.metadata)
	}
	return append(args, id, r.key, r.b.name, r.b.typ, r.b.version, r.b.entity.Class, r.b.entity.ID,
		entityVersion, string(r.b.payload), metadata, r.occurredAt, r.createdAt, r.nextAt, r.size)
}

// insertStatements caches the prepared insert of each shape on the engine's database:
// parsing a 256-row insert costs more than executing it.
type insertStatements struct {
	stmts [len(insertStatementsSQL)]*sql.Stmt
	// reserve takes ids from next_id and counts the rows in the same statement: parsing
	// it again for each lone Emit costs as much as running it.
	reserve *sql.Stmt
}

const reserveSQL = `UPDATE edgeoutbox_usage SET next_id = next_id + ?1, pending = pending + ?1,
	bytes = bytes + ?2 WHERE id = 1 RETURNING next_id - ?1`

// prepare prepares every shape on db. It runs at open, before any transaction holds
// the connection: a transaction binds them later without a round through the pool.
func (s *insertStatements) prepare(ctx context.Context, db *sql.DB) error {
	for i, text := range insertStatementsSQL {
		stmt, err := db.PrepareContext(ctx, text)
		if err != nil {
			return fmt.Errorf("prepare insert statement: %w", errors.Join(err, s.close()))
		}
		s.stmts[i] = stmt
	}
	stmt, err := db.PrepareContext(ctx, reserveSQL)
	if err != nil {
		return fmt.Errorf("prepare id reservation: %w", errors.Join(err, s.close()))
	}
	s.reserve = stmt
	return nil
}

// forTx returns the insert of 1<<shape rows bound to tx.
func (s *insertStatements) forTx(ctx context.Context, tx *sql.Tx, shape int) *sql.Stmt {
	return tx.StmtContext(ctx, s.stmts[shape])
}

func (s *insertStatements) close() error {
	var errs []error
	for i, stmt := range s.stmts {
		if stmt != nil {
			errs = append(errs, stmt.Close())
			s.stmts[i] = nil
		}
	}
	if s.reserve != nil {
		errs = append(errs, s.reserve.Close())
		s.reserve = nil
	}
	return errors.Join(errs...)
}

// insertRows inserts rows in as few statements as possible, counts the ones stored in
// the pending and bytes counters, and returns each row's id, or 0 where its
// idempotency key was already stored (or repeated earlier in rows).
// Ids come from the counters row's next_id, which only grows: an id is never reused,
// even after retention deleted the newest rows. (A duplicate leaves its id unused.)
func (e *Engine) insertRows(ctx context.Context, tx *sql.Tx, rows []*row) ([]int64, error) {
	ids := make([]int64, len(rows))
	if len(rows) == 0 {
		return ids, nil
	}
	// One statement reserves the ids and counts every row as added; rows that turn out
	// to be duplicates are taken off the counters afterwards (rare).
	var next, bytes int64
	for _, r := range rows {
		bytes += r.size
	}
	if err := tx.StmtContext(ctx, e.inserts.reserve).QueryRowContext(ctx, len(rows), bytes).Scan(&next); err != nil {
		return nil, fmt.Errorf("assign event ids: %w", err)
	}
	const chunk = 1 << (len(insertStatementsSQL) - 1)
	args := make([]any, 0, 14*chunk)
	for start := 0; start < len(rows); {
		n := min(chunk, len(rows)-start)
		// Round down to a power of two so only a handful of statement shapes exist and
		// SQLite's prepared-statement cache keeps them.
		for n&(n-1) != 0 {
			n &= n - 1
		}
		part := rows[start : start+n]
		args = args[:0]
		for i, r := range part {
			args = r.appendArgs(args, next+int64(start+i))
		}
		shape := bits.TrailingZeros(uint(n))
		res, err := e.inserts.forTx(ctx, tx, shape).QueryContext(ctx, args...)
		if err != nil {
			return nil, fmt.Errorf("insert events: %w", err)
		}
		inserted := make(map[string]int64, n)
		for res.Next() {
			var id int64
			var key string
			if err := res.Scan(&id, &key); err != nil {
				res.Close()
				return nil, fmt.Errorf("insert events: %w", err)
			}
			inserted[key] = id
		}
		if err := res.Err(); err != nil {
			res.Close()
			return nil, fmt.Errorf("insert events: %w", err)
		}
		if err := res.Close(); err != nil {
			return nil, fmt.Errorf("insert events: %w", err)
		}
		for i, r := range part {
			if id, ok := inserted[r.key]; ok {
				ids[start+i] = id
				delete(inserted, r.key) // a repeat of the key later in rows is a duplicate
			}
		}
		start += n
	}
	var duplicates counterDelta
	for i, r := range rows {
		if ids[i] == 0 {
			duplicates.pending--
			duplicates.bytes -= r.size
		}
	}
	if err := duplicates.apply(ctx, tx); err != nil {
		return nil, err
	}
	return ids, nil
}
