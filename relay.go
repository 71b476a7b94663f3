package edgeoutbox

import (
	"context"
	"errors"
	"time"
)

// run is the publishing loop: claim a due batch, publish it, record the outcome.
func (r *relay) run() {
	defer r.wg.Done()
	e := r.e
	var nextCleanup time.Time
	offline := newOfflineBackoff(e.cfg.OfflineProbeInterval)
	for {
		if r.isStopping() {
			return
		}
		if !r.holdsLease() {
			if !r.waitFor(time.Time{}, r.gained) {
				return
			}
			continue
		}
		now := time.Now()
		if e.cfg.RetentionInterval > 0 && !now.Before(nextCleanup) {
			nextCleanup = now.Add(e.cfg.RetentionInterval)
			if _, err := e.Cleanup(r.runCtx); err != nil {
				e.log.Warn().Err(err).Msg("edgeoutbox retention cleanup")
			}
		}
		batch, nextDue, err := e.claimDue(r.runCtx, now)
		if err != nil {
			if r.runCtx.Err() != nil {
				return
			}
			e.log.Error().Err(err).Msg("edgeoutbox relay: claim batch")
			if !r.waitFor(now.Add(e.cfg.PollInterval), nil) {
				return
			}
			continue
		}
		if len(batch) == 0 {
			wakeAt := now.Add(e.cfg.PollInterval)
			if !nextDue.IsZero() && nextDue.Before(wakeAt) {
				wakeAt = nextDue
			}
			if !r.waitFor(wakeAt, e.wake) {
				return
			}
			continue
		}
		unavailable, err := r.publish(batch)
		if err != nil {
			if r.runCtx.Err() != nil {
				return
			}
			e.log.Error().Err(err).Msg("edgeoutbox relay: record publish outcome")
			if !r.waitFor(time.Now().Add(e.cfg.PollInterval), nil) {
				return
			}
			continue
		}
		if unavailable != nil {
			e.log.Info().Err(unavailable).Msg("edgeoutbox relay: transport unavailable, waiting for connectivity (no attempts counted)")
			if !r.waitAvailable(offline) {
				return
			}
			continue
		}
		offline.reset()
	}
}

func (r *relay) isStopping() bool {
	select {
	case <-r.stopping:
		return true
	default:
		return r.runCtx.Err() != nil
	}
}

// waitFor waits until deadline (none when zero) or a signal on ch. It returns false
// when the relay is stopping.
func (r *relay) waitFor(deadline time.Time, ch <-chan struct{}) bool {
	var timer <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-timer:
	case <-ch:
	case <-r.stopping:
		return false
	case <-r.runCtx.Done():
		return false
	}
	return true
}

// waitAvailable blocks until the transport says it is back (AvailabilityWaiter) or, for
// a transport that cannot tell, for the next probe interval.
func (r *relay) waitAvailable(offline *offlineBackoff) bool {
	if w, ok := r.transport.(AvailabilityWaiter); ok {
		ctx, cancel := context.WithCancel(r.runCtx)
		defer cancel()
		go func() {
			select {
			case <-r.stopping:
				cancel()
			case <-ctx.Done():
			}
		}()
		started := time.Now()
		err := w.WaitAvailable(ctx)
		if r.isStopping() {
			return false
		}
		if err == nil && time.Since(started) > time.Millisecond {
			// It really was down and is back: resume at once.
			offline.reset()
			return true
		}
		if err != nil {
			r.e.log.Warn().Err(err).Msg("edgeoutbox relay: waiting for transport")
		}
	}
	// The transport says it is up but publishing said otherwise: probe with backoff so
	// a flapping broker does not turn into a busy loop.
	return r.waitFor(time.Now().Add(offline.next()), nil)
}

// offlineBackoff spaces probes of an unavailable transport: 50ms doubling to a cap.
type offlineBackoff struct {
	cur, max time.Duration
}

func newOfflineBackoff(max time.Duration) *offlineBackoff {
	return &offlineBackoff{max: max}
}

func (b *offlineBackoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = 50 * time.Millisecond
	} else {
		b.cur *= 2
	}
	if b.cur > b.max {
		b.cur = b.max
	}
	return b.cur
}

func (b *offlineBackoff) reset() { b.cur = 0 }

// errHeldBack marks an event not sent because an earlier event of its entity failed in
// the same batch: it stays pending with no attempt counted.
var errHeldBack = errors.New("edgeoutbox: held back behind an earlier event of the same entity")

// publish sends batch and records the outcome. It returns the first Unavailable error
// when the transport is offline.
func (r *relay) publish(batch []*Event) (unavailable error, err error) {
	started := time.Now()
	errs := publishEvents(r.runCtx, r.transport, batch)
	if r.runCtx.Err() != nil && r.isStopping() {
		// A hard stop cancelled the publish: record what did get through.
		r.e.log.Debug().Msg("edgeoutbox relay: publish cancelled by stop")
	}
	return r.e.recordOutcome(context.WithoutCancel(r.runCtx), batch, errs, started)
}

// publishEvents publishes batch through the transport's batch form when it has one,
// otherwise one by one, holding back later events of an entity that failed. The result
// has one entry per event (nil: published).
func publishEvents(ctx context.Context, t Transport, batch []*Event) []error {
	if bt, ok := t.(BatchTransport); ok {
		errs := bt.PublishBatch(ctx, batch)
		if errs == nil {
			return make([]error, len(batch))
		}
		if len(errs) != len(batch) {
			// A broken transport: treat the whole batch as failed rather than guess.
			bad := errors.New("edgeoutbox: transport returned a wrong number of results from PublishBatch")
			errs = make([]error, len(batch))
			for i := range errs {
				errs[i] = bad
			}
		}
		return errs
	}
	errs := make([]error, len(batch))
	failed := map[string]bool{}
	for i, ev := range batch {
		k := ev.Entity.key()
		if k != "" && failed[k] {
			errs[i] = errHeldBack
			continue
		}
		err := t.Publish(ctx, ev)
		if err == nil {
			continue
		}
		errs[i] = err
		if k != "" {
			failed[k] = true
		}
		if errors.Is(err, ErrTransportUnavailable) || ctx.Err() != nil {
			for j := i + 1; j < len(batch); j++ {
				errs[j] = errHeldBack
			}
			break
		}
	}
	return errs
}
