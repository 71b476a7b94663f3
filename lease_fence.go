package edgeoutbox

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// errLeaseEnded marks events not sent because the relay's lease ended first: not the
// events' failure, so no attempt is counted (it wraps context.Canceled).
var errLeaseEnded = fmt.Errorf("edgeoutbox: the relay's lease ended before the send: %w", context.Canceled)

// leaseFence is a context that lives while the relay holds its lease: every send runs
// under it, so a relay that was frozen or starved past its lease (another relay may
// have taken over) stops sending as soon as it runs again. It ends a margin before the
// lease expires and is extended by each renewal.
//
// The fence's context carries a [leaseTerm], through which a transport can check the
// fence at the moment bytes are written to the socket (see wireGuard).
type leaseFence struct {
	mu     sync.Mutex
	ctx    context.Context
	cancel context.CancelFunc
	timer  *time.Timer

	// term counts the fence's contexts: a new one opens after the last ended. until is
	// the current deadline in nanoseconds since monoBase (0: down). Both are read
	// without the lock by leaseTerm.valid.
	term  atomic.Uint64
	until atomic.Int64
}

// monoBase is the origin of the monotonic deadlines a leaseFence publishes.
var monoBase = time.Now()

// monoNow returns the monotonic time since monoBase.
func monoNow() int64 { return int64(time.Since(monoBase)) }

// leaseTerm is one term of a leaseFence: sends made under it are allowed while the
// fence stays up without reopening. A nil *leaseTerm allows everything (a send
// outside any relay, e.g. a direct PublishBatch).
type leaseTerm struct {
	fence *leaseFence
	term  uint64
}

// valid reports whether the term is still the fence's and the deadline is ahead.
func (lt *leaseTerm) valid() bool {
	if lt == nil {
		return true
	}
	until := lt.fence.until.Load() // before term: a new term is published first
	return lt.fence.term.Load() == lt.term && monoNow() < until
}

type leaseTermKey struct{}

// leaseTermOf returns the lease term a send context runs under, or nil.
func leaseTermOf(ctx context.Context) *leaseTerm {
	lt, _ := ctx.Value(leaseTermKey{}).(*leaseTerm)
	return lt
}

// extend keeps the fence up until deadline (a monotonic time), opening a new one if
// the last has ended.
func (f *leaseFence) extend(parent context.Context, deadline time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ctx != nil && f.ctx.Err() == nil && monoNow() >= f.until.Load() {
		// The term's deadline passed but its timer has not fired yet (the process was
		// frozen or starved): the term is over even so. A renewal must open a new one,
		// or sends made under the old term, which the wire guard now refuses, would
		// become valid again, after another relay may have held the lease.
		f.cancel()
	}
	if f.ctx == nil || f.ctx.Err() != nil {
		term := f.term.Add(1) // before until: see leaseTerm.valid
		ctx := context.WithValue(parent, leaseTermKey{}, &leaseTerm{fence: f, term: term})
		f.ctx, f.cancel = context.WithCancel(ctx)
	}
	if f.timer != nil {
		f.timer.Stop()
	}
	f.until.Store(int64(deadline.Sub(monoBase)))
	f.timer = time.AfterFunc(time.Until(deadline), f.cancel)
}

// drop ends the fence at once: the lease is lost.
func (f *leaseFence) drop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.until.Store(0)
	if f.cancel != nil {
		f.cancel()
	}
	if f.timer != nil {
		f.timer.Stop()
	}
}

// context returns the fence's context, and false when the fence is down.
func (f *leaseFence) context() (context.Context, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ctx == nil || f.ctx.Err() != nil {
		return nil, false
	}
	return f.ctx, true
}
