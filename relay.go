package edgeoutbox

import (
	"context"
	"errors"
	"math"
	"sync"
	"time"
)

// run is the publishing loop: claim a due batch, publish it, record the outcome. The
// stages overlap when all goes well: while a full batch is being published, the next
// one is claimed (starting after it, so nothing is claimed twice); its outcome is
// recorded while the next one is published; and with a PipelinedTransport the next
// batch is sent before the acks of the current one are in (with an OrderedPipeline,
// a window of batches that may share entities). Any failure drains the pipeline
// first, so the next claim sees every retry schedule: that keeps per-entity order.
//
// After Stop the loop drains: it sweeps once more from the first pending event,
// waiting for the lease and for the transport as long as Stop's context allows, and
// ends when a whole sweep finds nothing more that was due when Stop was called.
func (r *relay) run() {
	defer r.wg.Done()
	e := r.e
	offline := newOfflineBackoff(e.cfg.OfflineProbeInterval)
	rec := newRecorder(&r.wg, e.cfg.MaxInFlightBytes, func(outs []outcome) recordResult {
		e.yieldAt(schedRecord)
		unavailable, err := e.recordOutcomes(context.WithoutCancel(r.runCtx), r.owner, outs)
		return recordResult{unavailable: unavailable, err: err}
	})
	var pre prefetcher
	var window flightWindow // sent, acks not yet awaited, oldest first (PipelinedTransport only)
	depth, ordered := r.pipelineDepth()
	var cursor claimCursor
	var holder holderWatch // another lease holder, watched while Stop drains
	// drain lands the batches in flight and waits for every background stage; it
	// returns the recordings' results not reported yet. The caller decides where to
	// claim next.
	drain := func() recordResult {
		pre.drop()
		r.landAll(rec, window.takeAll(), nil)
		return rec.wait()
	}
	defer drain()
	// When run returns, the lease keeper and the context watcher end too.
	defer r.cancel()
loop:
	for {
		if r.runCtx.Err() != nil {
			return
		}
		if !r.draining && r.isStopping() {
			r.draining = true
			drain()
			cursor = claimCursor{}
		}
		if !r.holdsLease() {
			drain()
			cursor = claimCursor{}
			wakeAt := time.Now().Add(e.cfg.LeaseTTL / 3)
			if r.draining && r.leaseElsewhere.Load() {
				if r.otherHolderAlive(&holder) {
					return // a live relay holds the lease: it publishes them
				}
				// Not proven alive yet: look again soon, and take the lease over if
				// it expires (the lease keeper goes on trying).
				r.setStopWait(holder.describe(time.Now()))
				wakeAt = time.Now().Add(holderPoll(e.cfg.LeaseTTL))
			}
			if !r.wait(wakeAt, r.leaseNews) {
				return
			}
			continue
		}
		now := e.now()
		var batch []*Event
		var next claimCursor
		var err error
		if pre.busy() {
			batch, next, err = pre.wait()
		} else {
			cursor = r.checkResume(cursor, now)
			e.yieldAt(schedClaim)
			batch, next, err = e.claimDue(r.runCtx, now, cursor, r.claimLimit())
		}
		if err != nil {
			drain()
			cursor = claimCursor{}
			if r.runCtx.Err() != nil {
				return
			}
			r.health.setError(err)
			e.log.Error().Err(err).Msg("relay: claim batch")
			if !r.wait(time.Now().Add(e.cfg.PollInterval), nil) {
				return
			}
			continue
		}
		if len(batch) == 0 {
			switch {
			case next.truncated:
				cursor = next // only events waiting for a retry so far: look further, at once
			case window.len() > 0 || rec.busy():
				// Look again from the start once everything in flight is recorded.
				res := drain()
				cursor = claimCursor{}
				if !r.afterDrain(res, offline) {
					return
				}
			case r.draining:
				return // a whole sweep since Stop found nothing more to publish
			default:
				// The sweep reached the end: wait, then sweep again from the start, or,
				// when all it found were entities held back by a retry, from here.
				cursor = r.resumeAfterSweep(next)
				wakeAt := time.Now().Add(e.cfg.PollInterval)
				if !next.nextDue.IsZero() {
					if untilDue := next.nextDue.Sub(now); untilDue < e.cfg.PollInterval {
						wakeAt = time.Now().Add(untilDue)
					}
				}
				if !r.wait(wakeAt, e.wake) {
					return
				}
			}
			continue
		}
		if !ordered && sharesEntity(window.flights, batch) {
			// A later event of an entity must not reach the broker before the outcome
			// of its earlier one is known: land the batch in flight first. (An
			// OrderedPipeline delivers in order on one connection and fences
			// reconnects, so there the broker learns each fate before the next event.)
			if l := r.landAll(rec, window.takeAll(), nil); !l.ok {
				// batch was claimed as if prev went through: claim again from the start.
				res := drain()
				cursor = claimCursor{}
				if !r.afterDrain(res, offline) {
					return
				}
				continue
			}
		}
		full := len(batch) == e.cfg.BatchSize || next.cut
		if full {
			limit := r.claimLimit()
			pre.start(&r.wg, func() ([]*Event, claimCursor, error) {
				e.yieldAt(schedClaim)
				return e.claimDue(r.runCtx, e.now(), next, limit)
			})
		}
		cur := r.send(batch)
		window.push(cur)
		// Land the oldest flights while the window is deep enough, or the batches in
		// flight (sent, or landed and not yet recorded) cost more than the budget.
		for window.len() > 1 && (window.len() >= depth || window.bytes+rec.bytes() > e.cfg.MaxInFlightBytes || !full || !cur.pipelined) {
			prev := window.pop()
			if l := r.land(rec, prev, nil); !l.ok {
				// The rest went out before prev's failure was known (sharing no entity
				// with prev, or in order behind it on one connection); land them,
				// holding back the failed entities, then start over.
				r.landAll(rec, window.takeAll(), l.failed)
				res := drain()
				cursor = claimCursor{}
				if !r.afterDrain(res, offline) {
					return
				}
				continue loop
			}
		}
		if full && cur.pipelined {
			cursor = next
			continue
		}
		window.takeAll() // cur alone: land it here
		l := r.land(rec, cur, nil)
		if l.ok && !l.recordFailed && (full || next.truncated) {
			cursor = next // the prefetched batch, or the rest of a long scan, comes next
			offline.reset()
			continue
		}
		res := drain()
		cursor = claimCursor{}
		if next.truncated && !l.recordFailed && res.err == nil {
			// Go on past the long scan, holding back the entities that just failed.
			cursor = next.withBlocked(l.failed)
		}
		if !r.afterDrain(res, offline) {
			return
		}
	}
}

// resumeAfterSweep returns where the next sweep starts after one that reached the end
// with nothing due. Events held back behind a retry are due at the earliest at
// next.nextDue; until then, and while no event became due out of order (the counters'
// generation), the next sweep only needs to look at events stored since: a blocked
// entity of 100 000 events costs nothing per poll.
func (r *relay) resumeAfterSweep(next claimCursor) claimCursor {
	if len(next.blocked) == 0 || next.nextDue.IsZero() || r.draining {
		return claimCursor{}
	}
	c, err := readCounters(r.runCtx, r.e.reader)
	if err != nil {
		return claimCursor{}
	}
	return claimCursor{after: next.after, blocked: next.blocked, nextDue: next.nextDue, resumable: true, generation: c.generation}
}

// checkResume keeps a resumed sweep's starting point only while it is still valid:
// nothing held back has come due and no event became due out of id order.
func (r *relay) checkResume(cur claimCursor, now time.Time) claimCursor {
	if !cur.resumable {
		return cur
	}
	if r.draining || !now.Before(cur.nextDue) || cur.nextDue.Sub(now) > r.e.maxDelay() {
		return claimCursor{}
	}
	c, err := readCounters(r.runCtx, r.e.reader)
	if err != nil || c.generation != cur.generation {
		return claimCursor{}
	}
	return cur
}

// claimLimit is the highest id a claim may take: while draining for Stop, the last
// event stored when Stop was called, so that a Stop ends even while emits go on.
func (r *relay) claimLimit() int64 {
	if r.draining {
		return r.horizon.Load()
	}
	return math.MaxInt64
}

// flight is a batch sent to the transport whose outcome may not be known yet.
type flight struct {
	batch     []*Event
	cost      int64 // batchCost(batch)
	wait      func() []error
	started   time.Time
	pipelined bool // the acks are still on their way
}

// sharesEntity reports whether batch holds an event of an entity that a flight holds too.
func sharesEntity(flights []*flight, batch []*Event) bool {
	if len(flights) == 0 {
		return false
	}
	keys := make(map[string]bool)
	for _, f := range flights {
		for _, ev := range f.batch {
			if k := ev.Entity.key(); k != "" {
				keys[k] = true
			}
		}
	}
	for _, ev := range batch {
		if keys[ev.Entity.key()] {
			return true
		}
	}
	return false
}

// pipelineDepth is how many batches may be in flight, and whether they may share
// entities: an OrderedPipeline's depth, else 2 batches sharing no entity.
func (r *relay) pipelineDepth() (depth int, ordered bool) {
	if op, ok := r.transport.(OrderedPipeline); ok {
		if d := op.PipelineDepth(r.e.cfg.BatchSize); d >= 2 {
			return d, true
		}
	}
	return 2, false
}

// landAll lands flights in order. Events of the entities in heldBack, or of an entity
// that failed in an earlier flight, are kept pending even if the broker took them.
func (r *relay) landAll(rec *recorder, flights []*flight, heldBack map[string]bool) landing {
	all := landing{ok: true}
	for _, f := range flights {
		l := r.land(rec, f, heldBack)
		all.recordFailed = all.recordFailed || l.recordFailed
		if l.ok {
			continue
		}
		all.ok = false
		if len(l.failed) > 0 {
			merged := make(map[string]bool, len(heldBack)+len(l.failed))
			for k := range heldBack {
				merged[k] = true
			}
			for k := range l.failed {
				merged[k] = true
			}
			heldBack = merged
		}
	}
	all.failed = heldBack
	return all
}

// send publishes batch: with a PipelinedTransport it only sends it. It sends under the
// lease's fence: nothing at all when the lease is no longer ours with a margin left,
// and a context that ends when the lease does (less a margin), which transports check
// before each message.
func (r *relay) send(batch []*Event) *flight {
	r.e.yieldAt(schedSend)
	f := &flight{batch: batch, cost: batchCost(batch), started: time.Now()}
	ctx, ok := r.fence.context()
	if !ok || !r.holdsLease() {
		errs := make([]error, len(batch))
		for i := range errs {
			errs[i] = errLeaseEnded
		}
		f.wait = func() []error { return errs }
		return f
	}
	if pt, ok := r.transport.(PipelinedTransport); ok {
		f.wait, f.pipelined = pt.StartBatch(ctx, batch), true
		return f
	}
	errs := publishEvents(ctx, r.transport, batch)
	f.wait = func() []error { return errs }
	return f
}

// landing is what land learned about a batch.
type landing struct {
	ok           bool            // every event was published
	failed       map[string]bool // entities with an event not published
	recordFailed bool            // an earlier batch's outcome could not be recorded
}

// land awaits f's outcome and queues it for recording, after every earlier batch's so
// that outcomes are recorded in batch order. Events of the entities in heldBack are
// kept pending even if the broker took them: an earlier event of theirs failed.
func (r *relay) land(rec *recorder, f *flight, heldBack map[string]bool) landing {
	r.e.yieldAt(schedLand)
	errs := normalizeErrs(f.wait(), len(f.batch))
	var l landing
	for i, ev := range f.batch {
		if errs[i] == nil && len(heldBack) == 0 {
			continue
		}
		k := ev.Entity.key()
		if errs[i] == nil && k != "" && heldBack[k] {
			errs[i] = errHeldBack
		}
		if errs[i] != nil {
			if l.failed == nil {
				l.failed = map[string]bool{}
			}
			l.failed[k] = true
		}
	}
	l.ok = l.failed == nil
	if err := rec.takeErr(); err != nil {
		// Its events stay pending behind the cursor: stop pipelining and claim from
		// the start so they go out before anything later of their entities.
		r.e.log.Error().Err(err).Msg("relay: record publish outcome")
		l.recordFailed, l.ok = true, false
	}
	r.noteOutcome(errs)
	rec.add(outcome{batch: f.batch, errs: errs, started: f.started, cost: dropBodies(f.batch)})
	return l
}

// afterDrain reacts to the outcome of a drained pipeline: a storage error pauses for
// a poll interval, an unavailable transport waits for connectivity. It returns false
// when the relay is stopping.
func (r *relay) afterDrain(res recordResult, offline *offlineBackoff) bool {
	switch {
	case res.err != nil:
		if r.runCtx.Err() != nil {
			return false
		}
		r.health.setError(res.err)
		r.e.log.Error().Err(res.err).Msg("relay: record publish outcome")
		return r.wait(time.Now().Add(r.e.cfg.PollInterval), nil)
	case res.unavailable != nil:
		if r.draining {
			r.setStopWait("waiting for the transport: " + res.unavailable.Error())
		}
		r.health.offline.Store(true)
		r.health.setError(res.unavailable)
		r.e.log.Info().Err(res.unavailable).Msg("relay: transport unavailable, waiting for connectivity (no attempts counted)")
		return r.waitAvailable(offline)
	}
	offline.reset()
	return true
}

// prefetcher claims the next batch on its own goroutine while the current one is
// published. Nothing is published from a prefetch that is dropped.
type prefetcher struct {
	done chan prefetched
}

type prefetched struct {
	batch []*Event
	next  claimCursor
	err   error
}

func (p *prefetcher) busy() bool { return p.done != nil }

func (p *prefetcher) start(wg *sync.WaitGroup, claim func() ([]*Event, claimCursor, error)) {
	p.done = make(chan prefetched, 1)
	wg.Add(1)
	go func(done chan<- prefetched) {
		defer wg.Done()
		batch, next, err := claim()
		done <- prefetched{batch, next, err}
	}(p.done)
}

func (p *prefetcher) wait() ([]*Event, claimCursor, error) {
	res := <-p.done
	p.done = nil
	return res.batch, res.next, res.err
}

// drop waits for a prefetch in flight and discards it.
func (p *prefetcher) drop() {
	if p.done != nil {
		p.wait()
	}
}

func allNil(errs []error) bool {
	for _, err := range errs {
		if err != nil {
			return false
		}
	}
	return true
}

// recordResult is what recording outcomes returned.
type recordResult struct {
	unavailable error
	err         error
}

// merge adds a later recording's result to rr: the first error of each kind is kept.
func (rr *recordResult) merge(later recordResult) {
	if rr.unavailable == nil {
		rr.unavailable = later.unavailable
	}
	if rr.err == nil {
		rr.err = later.err
	}
}

// maxQueuedOutcomes is how many landed batches may wait for the recorder before the
// publishing loop waits for it. The recorder takes them all in one transaction, so
// this also bounds how long that transaction holds the writer that emits wait for
// (about 4 000 events at the default batch size; usually a few batches are queued).
const maxQueuedOutcomes = 8

// recorder records landed batches' outcomes in order on its own goroutine, while the
// publishing loop goes on. Outcomes that land while a transaction is being written
// queue up and are recorded together in the next one: one commit (and one fsync at
// SyncFull) for every batch that landed meanwhile, however deep the pipeline.
type recorder struct {
	wg     *sync.WaitGroup
	budget int64 // the cost the queue and the transaction may hold together
	record func([]outcome) recordResult

	mu      sync.Mutex
	changed sync.Cond // signalled when the queue is taken or the goroutine ends
	queue   []outcome
	held    int64        // the cost of the queued outcomes and of those being recorded
	running bool         // the recording goroutine runs
	res     recordResult // merged results not yet reported
}

func newRecorder(wg *sync.WaitGroup, budget int64, record func([]outcome) recordResult) *recorder {
	rc := &recorder{wg: wg, budget: budget, record: record}
	rc.changed.L = &rc.mu
	return rc
}

func (rc *recorder) busy() bool {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.running || len(rc.queue) > 0
}

// bytes is the cost of the outcomes queued or being recorded.
func (rc *recorder) bytes() int64 {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.held
}

// add queues o for recording after every outcome queued before it, waiting while
// maxQueuedOutcomes are already queued or o would take what the recorder holds past
// its budget (an outcome alone is always taken).
func (rc *recorder) add(o outcome) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for len(rc.queue) >= maxQueuedOutcomes || (rc.held > 0 && rc.held+o.cost > rc.budget) {
		rc.changed.Wait()
	}
	rc.queue = append(rc.queue, o)
	rc.held += o.cost
	if !rc.running {
		rc.running = true
		rc.wg.Add(1)
		go rc.loop()
	}
}

// loop records what is queued, all of it in one transaction, until the queue is empty.
func (rc *recorder) loop() {
	defer rc.wg.Done()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for len(rc.queue) > 0 {
		outs := rc.queue
		rc.queue = nil
		rc.changed.Broadcast()
		rc.mu.Unlock()
		res := rc.record(outs)
		var done int64
		for _, o := range outs {
			done += o.cost
		}
		rc.mu.Lock()
		rc.held -= done
		rc.res.merge(res)
		rc.changed.Broadcast()
	}
	rc.running = false
	rc.changed.Broadcast()
}

// takeErr returns the storage error of a recording finished since the last report,
// if any, without waiting. The unavailable error stays for wait.
func (rc *recorder) takeErr() error {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	err := rc.res.err
	rc.res.err = nil
	return err
}

// wait waits until every queued outcome is recorded and returns the merged results
// not yet reported (the zero result when there were none).
func (rc *recorder) wait() recordResult {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for rc.running || len(rc.queue) > 0 {
		rc.changed.Wait()
	}
	res := rc.res
	rc.res = recordResult{}
	return res
}

func (r *relay) isStopping() bool {
	select {
	case <-r.stopping:
		return true
	default:
		return r.runCtx.Err() != nil
	}
}

// wait waits until deadline (none when zero) or a signal on ch. It returns false on a
// hard stop. Stop cuts a wait short (the loop then drains) but, once draining, waits
// run to their end: Stop waits for the lease and the transport as long as its context
// allows.
func (r *relay) wait(deadline time.Time, ch <-chan struct{}) bool {
	var timer <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		timer = t.C
	}
	var stopping <-chan struct{}
	if !r.draining {
		stopping = r.stopping
	}
	select {
	case <-timer:
	case <-ch:
	case <-stopping:
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
		if !r.draining {
			go func() {
				select {
				case <-r.stopping:
					cancel()
				case <-ctx.Done():
				}
			}()
		}
		started := time.Now()
		err := w.WaitAvailable(ctx)
		if r.runCtx.Err() != nil {
			return false
		}
		if err == nil && time.Since(started) > time.Millisecond {
			// It really was down and is back: resume at once.
			offline.reset()
			return true
		}
		if err != nil && ctx.Err() == nil {
			r.e.log.Warn().Err(err).Msg("relay: waiting for transport")
		}
		if !r.draining && r.isStopping() {
			return true // drain now
		}
	}
	// The transport says it is up but publishing said otherwise: probe with backoff so
	// a flapping broker does not turn into a busy loop.
	return r.wait(time.Now().Add(offline.next()), nil)
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

// normalizeErrs turns a batch transport's answer into one entry per event.
func normalizeErrs(errs []error, n int) []error {
	if errs == nil {
		return make([]error, n)
	}
	if len(errs) != n {
		// A broken transport: treat the whole batch as failed rather than guess.
		bad := errors.New("edgeoutbox: transport returned a wrong number of results from PublishBatch")
		errs = make([]error, n)
		for i := range errs {
			errs[i] = bad
		}
	}
	return errs
}

// publishEvents publishes batch through the transport's batch form when it has one,
// otherwise one by one, holding back later events of an entity that failed. The result
// has one entry per event (nil: published).
func publishEvents(ctx context.Context, t Transport, batch []*Event) []error {
	if bt, ok := t.(BatchTransport); ok {
		return normalizeErrs(bt.PublishBatch(ctx, batch), len(batch))
	}
	errs := make([]error, len(batch))
	var hold HoldBack
	for i, ev := range batch {
		if errs[i] = hold.Check(ev); errs[i] != nil {
			continue
		}
		if err := ctx.Err(); err != nil {
			// The lease's fence (or Stop's context) ended: call the transport no more.
			for j := i; j < len(batch); j++ {
				errs[j] = errLeaseEnded
			}
			break
		}
		err := t.Publish(ctx, ev)
		if err == nil {
			continue
		}
		errs[i] = err
		hold.Fail(ev, err)
		if errors.Is(err, ErrTransportUnavailable) || ctx.Err() != nil {
			for j := i + 1; j < len(batch); j++ {
				errs[j] = errHeldBack
			}
			break
		}
	}
	return errs
}

// noteOutcome updates RelayState from a batch's results: any event through means the
// transport is online.
func (r *relay) noteOutcome(errs []error) {
	for _, err := range errs {
		if err == nil {
			r.health.offline.Store(false)
			r.health.lastPublishAt.Store(r.e.now().UnixNano())
			return
		}
	}
	for _, err := range errs {
		if err != nil && !errors.Is(err, errHeldBack) {
			r.health.setError(err)
			return
		}
	}
}
