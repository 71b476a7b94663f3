package edgeoutbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// writeGate lets edgeoutbox's own writers use the one writer connection one at a time,
// in arrival order, with the relay lease ahead of everyone: without it they would queue
// in database/sql's pool, which hands a freed connection to a random waiter, so a busy
// emitter could starve the lease renewal (and the relay would stop publishing) or a
// greedy relay the emitters. Transactions an application opens on Engine.DB bypass it;
// they only make everyone wait for them.
type writeGate struct {
	mu     sync.Mutex
	busy   bool
	urgent []chan struct{}
	normal []chan struct{}
}

// enter waits for the gate; urgent callers go before every normal one.
func (g *writeGate) enter(ctx context.Context, urgent bool) error {
	g.mu.Lock()
	if !g.busy {
		g.busy = true
		g.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	if urgent {
		g.urgent = append(g.urgent, ch)
	} else {
		g.normal = append(g.normal, ch)
	}
	g.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		g.mu.Lock()
		removed := removeWaiter(&g.urgent, ch) || removeWaiter(&g.normal, ch)
		g.mu.Unlock()
		if !removed {
			g.leave() // it was handed to us in the meantime: pass it on
		}
		return ctx.Err()
	}
}

// leave hands the gate to the next waiter, urgent ones first.
func (g *writeGate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	var next chan struct{}
	switch {
	case len(g.urgent) > 0:
		next, g.urgent = g.urgent[0], g.urgent[1:]
	case len(g.normal) > 0:
		next, g.normal = g.normal[0], g.normal[1:]
	default:
		g.busy = false
		return
	}
	close(next)
}

func removeWaiter(list *[]chan struct{}, ch chan struct{}) bool {
	for i, c := range *list {
		if c == ch {
			*list = append((*list)[:i], (*list)[i+1:]...)
			return true
		}
	}
	return false
}

// write runs f through the gate.
func (e *Engine) write(ctx context.Context, urgent bool, f func() error) error {
	if err := e.gate.enter(ctx, urgent); err != nil {
		return err
	}
	defer e.gate.leave()
	return f()
}

// errWriterHeld explains the one way edgeoutbox's writer can be held for long.
var errWriterHeld = errors.New("the database's writer connection has been busy for the whole busy timeout: " +
	"a transaction on Engine.DB() holds it; if Emit or EmitBatch was called inside that transaction, " +
	"use EmitTx(ctx, tx, ...) instead (nothing was written)")

// beginWrite begins a write transaction on a writer connection, waiting at most
// BusyTimeout for the connection. It returns the connection too: close it after the
// transaction ends.
func (e *Engine) beginWrite(ctx context.Context, doing string) (*sql.Conn, *sql.Tx, error) {
	connCtx, cancel := context.WithTimeout(ctx, e.cfg.BusyTimeout)
	defer cancel()
	conn, err := e.db.Conn(connCtx)
	if err != nil {
		if ctx.Err() == nil && connCtx.Err() != nil {
			return nil, nil, fmt.Errorf("%s: %w", doing, errWriterHeld)
		}
		return nil, nil, e.storageError(doing, err)
	}
	tx, err := beginWithin(ctx, conn, e.cfg.BusyTimeout)
	if err != nil {
		conn.Close()
		return nil, nil, e.storageError(doing, err)
	}
	return conn, tx, nil
}

// beginWithin begins a transaction on conn, trying again while SQLite answers "database
// is locked" before busyTimeout has passed. SQLite's busy handler waits out ordinary
// lock contention, but some states of another process (a journal-mode switch or WAL
// recovery on a file that is being created) are answered at once, without waiting.
func beginWithin(ctx context.Context, conn *sql.Conn, busyTimeout time.Duration) (*sql.Tx, error) {
	deadline := time.Now().Add(busyTimeout)
	for pause := 5 * time.Millisecond; ; pause = min(2*pause, 100*time.Millisecond) {
		tx, err := conn.BeginTx(ctx, nil)
		if err == nil || !isBusy(err) || time.Now().Add(pause).After(deadline) {
			return tx, err
		}
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, err
		}
	}
}

// inWriteTx runs f in a write transaction taken through the gate, and commits it, or
// rolls it back when f fails.
func (e *Engine) inWriteTx(ctx context.Context, doing string, f func(tx *sql.Tx) error) error {
	return e.write(ctx, false, func() error {
		conn, tx, err := e.beginWrite(ctx, doing)
		if err != nil {
			return err
		}
		defer conn.Close()
		if err := f(tx); err != nil {
			// After a failed statement the transaction may already be over (ErrTxDone):
			// saying so would only muddle a clear error such as a full disk.
			if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
				err = fmt.Errorf("%w (rollback: %v)", err, rbErr)
			}
			return err
		}
		if err := tx.Commit(); err != nil {
			return e.storageError(doing+": commit", err)
		}
		return nil
	})
}

// execWrite runs one writing statement through the gate.
func (e *Engine) execWrite(ctx context.Context, urgent bool, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := e.write(ctx, urgent, func() error {
		var err error
		res, err = e.db.ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}
