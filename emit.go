package edgeoutbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Emit checks inputs against the schema of event name, casts them, and stores the event
// durably (at the configured synchronous level) before it returns. Concurrent calls
// share transactions (group commit). The relay publishes the event later, or Emit does
// right away with DeliveryInline.
//
// Errors: ErrUnknownEvent, ErrUnknownVersion, ErrInvalidInput (an *InputError naming the
// field), ErrDuplicateEvent, ErrOutboxFull, ErrClosed; in each case nothing is stored.
func (e *Engine) Emit(ctx context.Context, name string, inputs Inputs, opts ...EmitOption) (Receipt, error) {
	e.committer.emitting.Add(1)
	defer e.committer.emitting.Add(-1)
	r, err := e.prepareRow(name, inputs, opts)
	if err != nil {
		return Receipt{}, err
	}
	e.holdForInline(r)
	if e.isClosed() {
		return Receipt{}, ErrClosed
	}
	req := emitRequestPool.Get().(*emitRequest)
	req.row, req.id, req.err = r, 0, nil
	if err := e.committer.submit(ctx, req); err != nil {
		// The committer may still answer: leave req to the garbage collector.
		return Receipt{}, err
	}
	id, err := req.id, req.err
	req.row = nil
	emitRequestPool.Put(req)
	if err != nil {
		return Receipt{}, err
	}
	e.emitted(r, id)
	return Receipt{ID: id, IdempotencyKey: r.key}, nil
}

// EmitTx stores the event inside the caller's transaction tx, so that it is committed
// or rolled back with the caller's own writes. tx must be a transaction on this
// engine's database (Engine.DB, or the *sql.DB given to New). EmitTx never commits or
// rolls back tx; after ErrDuplicateEvent nothing was written and tx remains usable.
// The relay is woken when the caller commits (or at the next poll).
func (e *Engine) EmitTx(ctx context.Context, tx *sql.Tx, name string, inputs Inputs, opts ...EmitOption) (Receipt, error) {
	if tx == nil {
		return Receipt{}, errors.New("edgeoutbox: EmitTx: tx is nil: begin one with engine.DB().BeginTx, or call Emit")
	}
	r, err := e.prepareRow(name, inputs, opts)
	if err != nil {
		return Receipt{}, err
	}
	ids, err := e.insertWithCaps(ctx, tx, []*row{r})
	if err != nil {
		return Receipt{}, err
	}
	switch {
	case ids[0] == 0:
		return Receipt{}, duplicateError(r)
	case ids[0] < 0:
		return Receipt{}, outboxFullError(e.cfg)
	}
	// The event is not committed yet: no emitted hook, but a wake-up costs nothing and
	// usually finds it committed.
	e.observeEmitted(r, ids[0])
	e.signal()
	return Receipt{ID: ids[0], IdempotencyKey: r.key}, nil
}

// BatchError reports which event of an EmitBatch call failed. Nothing of the batch was
// stored. It unwraps to the event's own error.
type BatchError struct {
	Index int // position in the batch
	Name  string
	Err   error
}

// Error implements error.
func (e *BatchError) Error() string {
	return fmt.Sprintf("emit batch: event %d (%s): %v", e.Index, e.Name, e.Err)
}

// Unwrap returns the event's error.
func (e *BatchError) Unwrap() error { return e.Err }

// EmitBatch stores many events in one transaction: all of them or, on any error (a
// *BatchError naming the event), none. It is the fastest way to write a backlog.
func (e *Engine) EmitBatch(ctx context.Context, events []Emission) ([]Receipt, error) {
	if len(events) == 0 {
		return nil, nil
	}
	if e.isClosed() {
		return nil, ErrClosed
	}
	rows := make([]*row, len(events))
	for i, ev := range events {
		r, err := e.prepareRow(ev.Name, ev.Inputs, ev.Options)
		if err != nil {
			return nil, &BatchError{Index: i, Name: ev.Name, Err: err}
		}
		e.holdForInline(r)
		rows[i] = r
	}
	var ids []int64
	err := e.inWriteTx(ctx, "emit batch", func(tx *sql.Tx) error {
		var err error
		if ids, err = e.insertWithCaps(ctx, tx, rows); err != nil {
			return err
		}
		return batchRowError(e.cfg, rows, ids)
	})
	if err != nil {
		return nil, err
	}
	receipts := make([]Receipt, len(rows))
	for i, r := range rows {
		receipts[i] = Receipt{ID: ids[i], IdempotencyKey: r.key}
		e.emitted(r, ids[i])
	}
	return receipts, nil
}

func batchRowError(cfg Config, rows []*row, ids []int64) error {
	for i, id := range ids {
		switch {
		case id == 0:
			return &BatchError{Index: i, Name: rows[i].b.name, Err: duplicateError(rows[i])}
		case id < 0:
			return &BatchError{Index: i, Name: rows[i].b.name, Err: outboxFullError(cfg)}
		}
	}
	return nil
}

// emitted runs after an event is committed: hook, then inline delivery or a wake-up.
func (e *Engine) emitted(r *row, id int64) {
	e.hooks.emitted(EventInfo{Name: r.b.name, Version: r.b.version, EventID: id, IdempotencyKey: r.key})
	e.observeEmitted(r, id)
	if e.cfg.Delivery == DeliveryInline && e.cfg.Transport != nil {
		e.publishInline(r, id)
		return
	}
	e.signal()
}

// observeEmitted tells observers about a stored event.
func (e *Engine) observeEmitted(r *row, id int64) {
	if !e.observing() {
		return
	}
	e.observe(Observation{Kind: ObservedEmitted, Name: r.b.name, Type: r.b.typ, Version: r.b.version, EventID: id,
		OccurredAt: time.Unix(0, r.occurredAt).UTC(), CreatedAt: time.Unix(0, r.createdAt).UTC(), At: e.now()})
}
