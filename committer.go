package edgeoutbox

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// emitRequest is one Emit call waiting for the group commit.
type emitRequest struct {
	row  *row
	id   int64
	err  error
	done chan struct{}
}

var emitRequestPool = sync.Pool{New: func() any { return &emitRequest{done: make(chan struct{}, 1)} }}

// committer is the group commit: one goroutine takes every Emit waiting at that moment
// and writes them in one transaction, so durable throughput is not one fsync per event.
// Each caller gets its own result; a duplicate key fails only its own caller.
type committer struct {
	e    *Engine
	reqs chan *emitRequest
	stop chan struct{}
	wg   sync.WaitGroup
	// mu makes "not closed yet, so queue the request" one step: a request queued
	// after close would never be answered.
	mu     sync.RWMutex
	closed bool
	// emitting counts Emit calls between their start and their result: callers still
	// casting inputs will submit in a moment, so a commit can wait briefly for them.
	emitting atomic.Int64
}

// maxGatherWait bounds how long a commit waits for emitters that are about to submit.
const maxGatherWait = 500 * time.Microsecond

func newCommitter(e *Engine) *committer {
	c := &committer{e: e, reqs: make(chan *emitRequest, e.cfg.MaxCommitBatch), stop: make(chan struct{})}
	c.wg.Add(1)
	go c.run()
	return c
}

// submit queues r and waits for its commit. A caller whose context ends first gets the
// context's error, but its event may still be committed: like any unacknowledged write,
// the caller cannot know, which is what idempotency keys are for.
func (c *committer) submit(ctx context.Context, r *emitRequest) error {
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return ErrClosed
	}
	select {
	case c.reqs <- r:
		c.mu.RUnlock()
	case <-ctx.Done():
		c.mu.RUnlock()
		return ctx.Err()
	}
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *committer) run() {
	defer c.wg.Done()
	batch := make([]*emitRequest, 0, c.e.cfg.MaxCommitBatch)
	for {
		select {
		case r := <-c.reqs:
			batch = append(batch[:0], r)
		case <-c.stop:
			// Commit what is already queued so no accepted request is left hanging.
			for {
				select {
				case r := <-c.reqs:
					c.commit([]*emitRequest{r})
				default:
					return
				}
			}
		}
		batch = c.gather(batch)
		c.commit(batch)
	}
}

// gather adds the requests already queued to batch. While more Emit calls are in
// flight than the batch holds, it yields so that they can submit, for at most
// maxGatherWait: the fsync saved is worth far more than the wait.
func (c *committer) gather(batch []*emitRequest) []*emitRequest {
	var deadline time.Time
	for {
	drain:
		for len(batch) < cap(batch) {
			select {
			case r := <-c.reqs:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		if len(batch) >= cap(batch) || int64(len(batch)) >= c.emitting.Load() {
			return batch
		}
		if deadline.IsZero() {
			deadline = time.Now().Add(maxGatherWait)
		} else if time.Now().After(deadline) {
			return batch
		}
		runtime.Gosched()
	}
}

// commit writes batch in one transaction and tells every caller its result.
func (c *committer) commit(batch []*emitRequest) {
	rows := make([]*row, 0, len(batch))
	for _, r := range batch {
		rows = append(rows, r.row)
	}
	var ids []int64
	err := c.e.inWriteTx(context.Background(), "emit", func(tx *sql.Tx) error {
		var err error
		ids, err = c.e.insertWithCaps(context.Background(), tx, rows)
		return err
	})
	for i, r := range batch {
		switch {
		case err != nil:
			r.err = err
		case ids[i] == 0:
			r.err = duplicateError(r.row)
		case ids[i] < 0:
			r.err = outboxFullError(c.e.cfg)
		default:
			r.id = ids[i]
		}
		r.done <- struct{}{}
	}
}

// close stops accepting requests, answers every queued one and ends the goroutine.
func (c *committer) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	close(c.stop)
	c.wg.Wait()
}

func duplicateError(r *row) error {
	return fmt.Errorf("%w: an event with idempotency key %q is already stored (nothing was written)", ErrDuplicateEvent, r.key)
}

func outboxFullError(cfg Config) error {
	return fmt.Errorf("%w: the cap (MaxPendingEvents %d, MaxOutboxBytes %d) is reached; nothing was written: emit again once the relay has drained the backlog, or raise the cap",
		ErrOutboxFull, cfg.MaxPendingEvents, cfg.MaxOutboxBytes)
}

// insertWithCaps inserts rows in tx and returns each row's id: 0 for a duplicate key,
// -1 for a row refused by a cap.
func (e *Engine) insertWithCaps(ctx context.Context, tx *sql.Tx, rows []*row) ([]int64, error) {
	accepted := rows
	var refused []bool
	if e.cfg.MaxPendingEvents > 0 || e.cfg.MaxOutboxBytes > 0 {
		var err error
		if refused, err = e.applyCaps(ctx, tx, rows); err != nil {
			return nil, err
		}
		accepted = make([]*row, 0, len(rows))
		for i, r := range rows {
			if !refused[i] {
				accepted = append(accepted, r)
			}
		}
	}
	got, err := e.insertRows(ctx, tx, accepted)
	if err != nil {
		return nil, e.storageError("emit", err)
	}
	if refused == nil {
		return got, nil
	}
	ids := make([]int64, len(rows))
	j := 0
	for i := range rows {
		if refused[i] {
			ids[i] = -1
			continue
		}
		ids[i] = got[j]
		j++
	}
	return ids, nil
}

// applyCaps decides, in order, which rows fit under MaxPendingEvents and MaxOutboxBytes.
func (e *Engine) applyCaps(ctx context.Context, tx *sql.Tx, rows []*row) ([]bool, error) {
	c, err := readCounters(ctx, tx)
	if err != nil {
		return nil, e.storageError("emit", err)
	}
	pending, bytes := c.pending, c.bytes
	// A duplicate key writes nothing, so it takes no room: let the insert report it.
	duplicate, err := keysAlreadyStored(ctx, tx, rows)
	if err != nil {
		return nil, e.storageError("emit: look up idempotency keys", err)
	}
	refused := make([]bool, len(rows))
	for i, r := range rows {
		if duplicate[r.key] {
			continue
		}
		if (e.cfg.MaxPendingEvents > 0 && pending+1 > e.cfg.MaxPendingEvents) ||
			(e.cfg.MaxOutboxBytes > 0 && bytes+r.size > e.cfg.MaxOutboxBytes) {
			refused[i] = true
			continue
		}
		duplicate[r.key] = true // a later row with the same key is a duplicate of this one
		pending++
		bytes += r.size
	}
	return refused, nil
}

// keysAlreadyStored returns which of the rows' idempotency keys the outbox already holds.
func keysAlreadyStored(ctx context.Context, tx *sql.Tx, rows []*row) (map[string]bool, error) {
	keys := make([]string, len(rows))
	for i, r := range rows {
		keys[i] = r.key
	}
	list, err := json.Marshal(keys)
	if err != nil {
		return nil, err
	}
	res, err := tx.QueryContext(ctx, `SELECT idempotency_key FROM edgeoutbox_events
		WHERE idempotency_key IN (SELECT value FROM json_each(?))`, string(list))
	if err != nil {
		return nil, err
	}
	defer res.Close()
	stored := make(map[string]bool, len(rows))
	for res.Next() {
		var k string
		if err := res.Scan(&k); err != nil {
			return nil, err
		}
		stored[k] = true
	}
	return stored, res.Err()
}
