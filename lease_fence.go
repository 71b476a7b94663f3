package edgeoutbox

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// errLeaseEnded marks events not sent because the relay's lease ended first: not the
// events' failure, so no attempt is counted (it wraps context.Canceled).
var errLeaseEnded = fmt.Errorf("edgeoutbox: the relay's lease ended before the send: %w", context.Canceled)

// leaseFence is a context that lives while the relay holds its lease: every send runs
// under it, so a relay that was frozen or starved past its lease (another relay may
// have taken over) stops sending as soon as it runs again. It ends a margin before the
// lease expires and is extended by each renewal.
type leaseFence struct {
	mu     sync.Mutex
	ctx    context.Context
	cancel context.CancelFunc
	timer  *time.Timer
}

// extend keeps the fence up until deadline (a monotonic time), opening a new one if
// the last has ended.
func (f *leaseFence) extend(parent context.Context, deadline time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ctx == nil || f.ctx.Err() != nil {
		f.ctx, f.cancel = context.WithCancel(parent)
	}
	if f.timer != nil {
		f.timer.Stop()
	}
	f.timer = time.AfterFunc(time.Until(deadline), f.cancel)
}

// drop ends the fence at once: the lease is lost.
func (f *leaseFence) drop() {
	f.mu.Lock()
	defer f.mu.Unlock()
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
