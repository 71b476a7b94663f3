package edgeoutbox

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// leaseLockPoll is how often a lease write tries for SQLite's write lock.
const leaseLockPoll = 200 * time.Microsecond

// beginLeaseWrite begins the short write transaction of a lease renewal or takeover.
// It does not wait in SQLite's busy handler, which sleeps ever longer between tries
// (up to 100 ms): another process that emits under load commits back to back and
// leaves the write lock free only for moments between its transactions, which a
// sleeper misses for seconds (a holder's renewal starved past a 2 s lease was
// measured, so the lease changed hands while its relay was alive). It tries every
// leaseLockPoll instead, for up to BusyTimeout, which finds such a moment within
// milliseconds. The connection's busy timeout is restored afterwards. Without eager
// (a standby's attempt) it waits in the busy handler like any writer.
func (e *Engine) beginLeaseWrite(ctx context.Context, doing string, eager bool) (*sql.Conn, *sql.Tx, error) {
	connCtx, cancel := context.WithTimeout(ctx, e.cfg.BusyTimeout)
	defer cancel()
	pool := e.leasePool()
	if pool == nil {
		pool = e.db
	}
	conn, err := pool.Conn(connCtx)
	if err != nil {
		if ctx.Err() == nil && connCtx.Err() != nil {
			return nil, nil, fmt.Errorf("%s: %w", doing, errWriterHeld)
		}
		return nil, nil, e.storageError(doing, err)
	}
	if !eager {
		tx, err := beginWithin(ctx, conn, e.cfg.BusyTimeout)
		if err != nil {
			conn.Close()
			return nil, nil, e.storageError(doing, err)
		}
		return conn, tx, nil
	}
	var busyMillis int64
	if err := conn.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busyMillis); err != nil {
		conn.Close()
		return nil, nil, e.storageError(doing, err)
	}
	restore := func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf("PRAGMA busy_timeout = %d", busyMillis))
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA busy_timeout = 0"); err != nil {
		conn.Close()
		return nil, nil, e.storageError(doing, err)
	}
	deadline := time.Now().Add(e.cfg.BusyTimeout)
	for {
		tx, err := conn.BeginTx(ctx, nil)
		if err == nil {
			restore() // busy_timeout is per connection, not per transaction: safe inside it
			return conn, tx, nil
		}
		if !isBusy(err) || time.Now().After(deadline) || ctx.Err() != nil {
			restore()
			conn.Close()
			return nil, nil, e.storageError(doing, err)
		}
		t := time.NewTimer(leaseLockPoll)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
}

// leasePool returns the connection of its own that lease writes use when the engine
// opened the file itself (nil with New: they share the writer, through the gate).
// On the writer they would queue behind this process's own writes, and one of those
// waiting for SQLite's lock in the busy handler (a recording, while another process
// emits at full speed) held the renewal past the lease. It is opened on first use:
// a process that only emits never opens it.
func (e *Engine) leasePool() *sql.DB {
	if !e.ownDB || e.path == "" {
		return nil
	}
	e.leaseOnce.Do(func() {
		db, err := sql.Open("sqlite", DSN(e.path, e.cfg.Synchronous, e.cfg.BusyTimeout))
		if err != nil {
			return // sql.Open fails only for an unknown driver; the writer serves then
		}
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		e.leaseDB = db
	})
	return e.leaseDB
}
