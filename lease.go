package edgeoutbox

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// relayLease is the name of the lease row that makes one relay per database file.
const relayLease = "relay"

// acquireLease takes or renews the lease for owner until now+ttl, if it is free,
// expired or already owner's. It reports whether owner holds the lease afterwards. A
// lease expiring more than ttl from now was stamped by a clock since stepped back: it
// counts as expired, so a dead relay's lease never blocks the file for long. renewing
// says owner holds the lease now: its renewal then tries for the write lock eagerly
// (see beginLeaseWrite); a standby's attempt waits like any writer, adding no pressure.
func (e *Engine) acquireLease(ctx context.Context, owner string, ttl time.Duration, renewing bool) (bool, error) {
	var n int64
	write := func(f func() error) error { return e.write(ctx, true, f) }
	if e.leasePool() != nil {
		write = func(f func() error) error { return f() } // its own connection: no queue
	}
	err := write(func() error {
		// The time is read inside the write transaction (BEGIN IMMEDIATE: the file's
		// write lock is ours): a stale "now" would make the holder's valid lease look
		// stamped too far ahead, and take it. Read before the lock, a process frozen
		// (or kept waiting for the lock) in between would resume with a time older than
		// the holder's last renewal; read under the lock, no renewal can be newer.
		conn, tx, err := e.beginLeaseWrite(ctx, "acquire relay lease", renewing)
		if err != nil {
			return err
		}
		defer conn.Close()
		defer func() { _ = tx.Rollback() }() // after Commit: sql.ErrTxDone, ignored
		now := e.now()
		// The holder's own ttl is stored with the lease: a relay configured with a
		// longer LeaseTTL than this one is not mistaken for a clock step.
		res, err := tx.ExecContext(ctx, `INSERT INTO edgeoutbox_leases (name, owner, expires_at, ttl) VALUES (?, ?, ?, ?)
			ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at, ttl = excluded.ttl
			WHERE edgeoutbox_leases.owner = excluded.owner OR edgeoutbox_leases.expires_at < ?
				OR edgeoutbox_leases.expires_at > ? + MAX(edgeoutbox_leases.ttl, excluded.ttl)`,
			relayLease, owner, now.Add(ttl).UnixNano(), int64(ttl), now.UnixNano(), now.UnixNano())
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		return tx.Commit()
	})
	if err != nil {
		return false, fmt.Errorf("acquire relay lease: %w", err)
	}
	return n == 1, nil
}

// releaseLease gives the lease up so another relay can take over at once.
func (e *Engine) releaseLease(ctx context.Context, owner string) error {
	if _, err := e.execWrite(ctx, true, "DELETE FROM edgeoutbox_leases WHERE name = ? AND owner = ?", relayLease, owner); err != nil {
		return fmt.Errorf("release relay lease: %w", err)
	}
	return nil
}

// LeaseInfo describes who holds the relay lease of a database file.
type LeaseInfo struct {
	Owner     string
	ExpiresAt time.Time
}

// Lease returns the current relay lease, or nil when no relay holds one.
func (e *Engine) Lease(ctx context.Context) (*LeaseInfo, error) {
	var owner string
	var expires, ttl int64
	err := e.reader.QueryRowContext(ctx, "SELECT owner, expires_at, ttl FROM edgeoutbox_leases WHERE name = ?", relayLease).Scan(&owner, &expires, &ttl)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read relay lease: %w", err)
	}
	info := &LeaseInfo{Owner: owner, ExpiresAt: time.Unix(0, expires)}
	if now := e.now(); info.ExpiresAt.Before(now) || info.ExpiresAt.After(now.Add(max(time.Duration(ttl), e.cfg.LeaseTTL))) {
		return nil, nil // expired, or stamped by a clock since stepped back: expired too
	}
	return info, nil
}
