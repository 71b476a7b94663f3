package edgeoutbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// holderWatch tells, while Stop drains, whether the relay holding the lease is alive.
// A lease row proves nothing by itself: a process killed a moment after renewing
// leaves a lease that looks as good as a live relay's for up to LeaseTTL. Only a
// write to the row after the watch began (a renewal, or another relay taking it)
// proves that some relay is alive and will publish what Stop leaves.
type holderWatch struct {
	seen    bool
	owner   string
	expires int64
	since   time.Time // when the watch first saw the row
}

// leaseRow reads the relay lease row as stored, expired or not ("" when absent).
func (e *Engine) leaseRow(ctx context.Context) (owner string, expires int64, err error) {
	err = e.reader.QueryRowContext(ctx, "SELECT owner, expires_at FROM edgeoutbox_leases WHERE name = ?", relayLease).Scan(&owner, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, nil
	}
	return owner, expires, err
}

// otherHolderAlive reports whether a relay other than r has written the lease row
// since the watch began: it is alive and holds the lease, so Stop may leave the
// events to it.
func (r *relay) otherHolderAlive(w *holderWatch) bool {
	owner, expires, err := r.e.leaseRow(r.runCtx)
	if err != nil || owner == "" || owner == r.owner {
		return false
	}
	if !w.seen {
		*w = holderWatch{seen: true, owner: owner, expires: expires, since: time.Now()}
		return false
	}
	return owner != w.owner || expires != w.expires
}

// describe says why Stop is still waiting for the lease.
func (w *holderWatch) describe(now time.Time) string {
	if !w.seen {
		return "waiting for the relay lease"
	}
	return fmt.Sprintf("the relay lease is held by relay %s until %s and it has not renewed it for %s (a process that exited without Stop, or is frozen); this relay takes over when it expires",
		w.owner, time.Unix(0, w.expires).UTC().Format(time.RFC3339), now.Sub(w.since).Round(time.Millisecond))
}

// holderPoll is how often a draining relay looks at the lease row of another holder:
// often enough to see a renewal (every LeaseTTL/3) soon after it happens.
func holderPoll(ttl time.Duration) time.Duration {
	return min(max(ttl/30, 10*time.Millisecond), 250*time.Millisecond)
}
