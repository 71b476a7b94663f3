package edgeoutbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// relay owns the goroutines that publish: the lease keeper and the publishing loop.
type relay struct {
	e         *Engine
	owner     string
	transport Transport

	startCtx context.Context // Start's context: its end is a hard stop
	runCtx   context.Context // cancelled by a hard stop
	cancel   context.CancelFunc
	stopping chan struct{} // closed by Stop: drain what is due, then end
	// leaseNews is signalled after every attempt of the lease keeper to take or renew
	// the lease, whatever its outcome.
	leaseNews chan struct{}
	wg        sync.WaitGroup
	finished  chan struct{} // closed once every goroutine of the relay has ended

	health relayHealth
	// draining is set by the publishing loop (and read only by it) once Stop was called.
	draining bool
	// horizon is the highest event id Stop drains: the newest when Stop was called.
	horizon atomic.Int64
	// base anchors leaseUntil on the monotonic clock: a wall-clock step changes no
	// in-process deadline.
	base       time.Time
	leaseUntil atomic.Int64 // since base; 0 when not held
	// leaseElsewhere: the last attempt found the lease held by another relay.
	leaseElsewhere atomic.Bool
	// fence is up while the lease is ours; every send runs under it.
	fence leaseFence
	// stopWait says what a draining Stop is waiting for, for its error if ctx ends.
	stopWait    atomic.Pointer[string]
	stopOnce    sync.Once
	releaseOnce sync.Once
	releaseErr  error
}

// Start starts the relay in the background and returns at once. It fails with
// ErrNoTransport when Config.Transport is nil. Cancelling ctx stops the relay as
// abruptly as a Stop whose context has ended (call Stop or Close afterwards to give
// the lease up at once, or Start again); prefer Stop. Start on a running engine is a
// no-op.
func (e *Engine) Start(ctx context.Context) error {
	if e.cfg.Transport == nil {
		return ErrNoTransport
	}
	if err := e.clearStoppedRelay(); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	if e.relay != nil {
		return nil
	}
	owner, err := newOwnerToken()
	if err != nil {
		return err
	}
	r := &relay{
		e:         e,
		owner:     owner,
		transport: e.cfg.Transport,
		stopping:  make(chan struct{}),
		leaseNews: make(chan struct{}, 1),
		base:      time.Now(),
	}
	r.horizon.Store(math.MaxInt64)
	r.startCtx = ctx
	r.runCtx, r.cancel = context.WithCancel(context.WithoutCancel(ctx))
	e.relay = r
	r.finished = make(chan struct{})
	r.wg.Add(4)
	go func() { r.wg.Wait(); close(r.finished) }()
	go r.keepLease()
	go r.run()
	go r.maintain()
	go func() { // Start's context ending is a hard stop.
		defer r.wg.Done()
		select {
		case <-ctx.Done():
			r.stop()
			r.cancel()
		case <-r.stopping:
		}
	}()
	e.log.Info().Str("owner", owner).Msg("relay started")
	return nil
}

// Stop publishes every event that was due when it was called, then stops the relay and
// gives up the lease so another relay can take over at once. To do so it waits, as long
// as ctx allows, for the lease and for the transport to be available, then sweeps the
// outbox once more from its first pending event. A lease held by another relay is left
// to it only once it proves alive by renewing the lease while Stop watches (it renews
// every LeaseTTL/3): a lease left by a killed process is waited out and taken over.
// Events that fail are scheduled for a retry as usual and not retried by Stop. If ctx
// ends first, the publish in flight is cancelled; its events stay pending and are
// published again later (JetStream drops the re-send by its Nats-Msg-Id), and Stop
// returns an error wrapping ctx's that says how many events are pending and what it
// waited for. Stop before Start, and Stop twice, return nil. Close calls Stop with a
// 10-second context.
func (e *Engine) Stop(ctx context.Context) error {
	// The relay stays registered until it has ended, so that a concurrent Stop (or
	// Close) waits for it too instead of closing the database under it.
	e.mu.Lock()
	r := e.relay
	e.mu.Unlock()
	if r == nil {
		return nil
	}
	r.setHorizon(ctx)
	r.stop()
	var err error
	select {
	case <-r.finished:
	case <-ctx.Done():
		r.cancel()
		<-r.finished
		err = r.stopError(ctx)
	}
	r.cancel()
	r.releaseOnce.Do(func() {
		releaseCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		r.releaseErr = e.releaseLease(releaseCtx, r.owner)
		e.log.Info().Str("owner", r.owner).Msg("relay stopped")
	})
	e.mu.Lock()
	if e.relay == r {
		e.relay = nil
	}
	e.mu.Unlock()
	if err == nil {
		err = r.releaseErr
	}
	return err
}

func (r *relay) stop() { r.stopOnce.Do(func() { close(r.stopping) }) }

// setStopWait records what a draining Stop waits for.
func (r *relay) setStopWait(why string) { r.stopWait.Store(&why) }

// stopError is Stop's error when its context ended before the due events were
// published: how many are still pending and what Stop was waiting for.
func (r *relay) stopError(ctx context.Context) error {
	detail := ""
	readCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	if c, err := readCounters(readCtx, r.e.reader); err == nil {
		detail = fmt.Sprintf(": %d events still pending (kept for the next start)", c.pending)
	}
	if why := r.stopWait.Load(); why != nil {
		detail += "; " + *why
	}
	return fmt.Errorf("stop relay: %w%s", ctx.Err(), detail)
}

// clearStoppedRelay finishes off a relay that its Start context stopped, so that
// Start can run a new one instead of doing nothing.
func (e *Engine) clearStoppedRelay() error {
	e.mu.Lock()
	r := e.relay
	e.mu.Unlock()
	if r == nil {
		return nil
	}
	select {
	case <-r.stopping:
	case <-r.startCtx.Done():
	default:
		return nil // running
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return e.Stop(ctx)
}

func newOwnerToken() (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate relay owner token: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// setHorizon records the newest event id as the last one Stop drains.
func (r *relay) setHorizon(ctx context.Context) {
	var maxID int64
	if err := r.e.reader.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM edgeoutbox_events").Scan(&maxID); err != nil {
		return // drain everything, as before
	}
	r.horizon.Store(maxID)
}

// keepLease takes the lease when it is free and renews it every third of LeaseTTL.
// Losing it (another relay took an expired lease) stops publishing at once.
func (r *relay) keepLease() {
	defer r.wg.Done()
	ttl := r.e.cfg.LeaseTTL
	ticker := time.NewTicker(ttl / 3)
	defer ticker.Stop()
	for {
		// The deadline counts from before the write: the stored expiry is later.
		r.e.yieldAt(schedLease)
		until := time.Since(r.base) + ttl
		ok, err := r.e.acquireLease(r.runCtx, r.owner, ttl, r.leaseUntil.Load() != 0)
		r.e.yieldAt(schedLeaseNews)
		switch {
		case err != nil:
			r.e.log.Warn().Err(err).Msg("relay lease")
		case ok:
			r.leaseElsewhere.Store(false)
			// Sends stop a sixth of the TTL before the lease would expire: another
			// relay may take it from then on.
			r.fence.extend(r.runCtx, r.base.Add(until-ttl/6))
			if r.leaseUntil.Swap(int64(until)) == 0 {
				r.e.log.Info().Str("owner", r.owner).Msg("relay lease acquired")
			}
		default:
			r.leaseElsewhere.Store(true)
			r.fence.drop()
			if r.leaseUntil.Swap(0) != 0 {
				r.e.log.Warn().Str("owner", r.owner).Msg("relay lease lost to another relay: publishing stopped")
			}
		}
		// Signal every attempt, not only a fresh acquisition: a renewal that came late
		// (the writer was busy) leaves the publishing loop waiting for this, and a
		// draining Stop waits for the first answer.
		select {
		case r.leaseNews <- struct{}{}:
		default:
		}
		select {
		case <-ticker.C:
		case <-r.runCtx.Done(): // the publishing loop ended (or a hard stop)
			return
		}
	}
}

// holdsLease reports whether the lease is ours with a safety margin left: a publish
// started now must not outlive it.
func (r *relay) holdsLease() bool {
	until := r.leaseUntil.Load()
	return until != 0 && int64(time.Since(r.base)+r.e.cfg.LeaseTTL/3) < until
}
