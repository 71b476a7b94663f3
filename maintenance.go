package edgeoutbox

import (
	"context"
	"time"
)

// maintain runs retention and the other housekeeping while this relay holds the lease,
// on its own goroutine: the publishing loop never waits for it. Each step is a small
// transaction, so emits and the relay get the writer between steps.
func (r *relay) maintain() {
	defer r.wg.Done()
	e := r.e
	if e.cfg.RetentionInterval <= 0 {
		return
	}
	next := time.Now() // the first run once the lease is ours
	for {
		wait := max(time.Until(next), 0)
		if !r.holdsLease() {
			wait = e.cfg.LeaseTTL / 3
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-r.stopping:
			t.Stop()
			return
		case <-r.runCtx.Done():
			t.Stop()
			return
		}
		if !r.holdsLease() || time.Now().Before(next) {
			continue
		}
		next = time.Now().Add(e.cfg.RetentionInterval)
		if _, err := e.Cleanup(r.runCtx); err != nil && r.runCtx.Err() == nil {
			e.log.Warn().Err(err).Msg("retention cleanup")
		}
		if err := e.pruneThroughput(r.runCtx); err != nil && r.runCtx.Err() == nil {
			e.log.Warn().Err(err).Msg("prune throughput")
		}
	}
}

// pruneThroughput deletes per-minute counts older than throughputKeep.
func (e *Engine) pruneThroughput(ctx context.Context) error {
	_, err := e.execWrite(ctx, false, "DELETE FROM edgeoutbox_throughput WHERE minute < ?", e.now().Add(-throughputKeep).Unix()/60)
	return err
}
