package edgeoutbox

import (
	"errors"
	"sync"
)

// errPipelineBroken refuses a batch of an ordered pipeline whose epoch is broken: an
// earlier batch was not handed to the connection whole, or the connection changed,
// and not every earlier batch has been awaited yet.
var errPipelineBroken = errors.New("an earlier batch of the pipeline did not reach the connection whole; its outcome must be known first")

// pipelineFence is the one place that decides which batches an [OrderedPipeline]
// transport may hand to its connection. It keeps the rule that per-entity order rests
// on when batches are sent before earlier ones are answered:
//
//	a batch is handed to the connection only if every batch started before it in the
//	same epoch was handed whole to that same connection.
//
// An epoch begins when a batch starts while no earlier batch is unawaited, and lasts
// while any is. Within an epoch the connection is fixed (the generation of the first
// batch) and the fence is broken for good by the first batch that was not handed
// whole: refused here, failed before its first message (not connected, the stream
// could not be ensured, the lease's context ended), or missing any message (a
// client-side publish error, a connection replaced mid-batch). Every later batch of
// the epoch is refused, sending nothing.
//
// Why that keeps order in every interleaving: on one connection the broker handles
// messages in the order they were written, and a connection that dies loses a suffix
// of what was written to it, never a message in the middle. So what the broker stores
// of an epoch is a prefix of its messages in sending order, minus only messages the
// broker itself refused (see README, Guarantees) — provided nothing was skipped on
// the client side, which is exactly what a broken epoch stops. A skipped or lost
// event E therefore has nothing of its entity stored after it from the same epoch.
// The relay learns of E's failure when it awaits E's batch, and before it claims
// again it awaits every batch in flight (it lands its whole window, then claims from
// the first pending event), so the next epoch begins only after that, and re-sends E
// before anything later of its entity. Batches started after the epoch broke are
// refused, not held: no claim, prefetch or timing can slip one onto the connection.
//
// The caller pairs each start with exactly one done, also for refused batches: an
// abandoned batch keeps the epoch open (and, once broken, refusing) for good.
type pipelineFence struct {
	mu      sync.Mutex
	started int    // batches started and not yet awaited, refused ones included
	gen     uint64 // the connection of the epoch
	broken  bool   // a batch of the epoch was not handed to the connection whole
}

// pipelinePass is one batch's place in its epoch.
type pipelinePass struct {
	f *pipelineFence
}

// start enters a batch into the current epoch (or opens one) on the connection of
// generation gen. It returns an error when the batch must send nothing: the epoch
// is broken, or gen is not the epoch's connection. Either way the caller must call
// done once the batch has been awaited.
func (f *pipelineFence) start(gen uint64) (pipelinePass, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.started == 0 {
		f.gen, f.broken = gen, false
	}
	f.started++
	p := pipelinePass{f: f}
	switch {
	case f.broken:
		return p, errPipelineBroken
	case gen != f.gen:
		f.broken = true
		return p, errConnReplaced
	}
	return p, nil
}

// spoil records that the batch was not handed to the connection whole: nothing more
// of this epoch may be sent.
func (p pipelinePass) spoil() {
	p.f.mu.Lock()
	p.f.broken = true
	p.f.mu.Unlock()
}

// done ends the batch: it was awaited (its outcome is known to the caller).
func (p pipelinePass) done() {
	p.f.mu.Lock()
	p.f.started--
	p.f.mu.Unlock()
}

// errConnReplaced refuses a batch because the connection changed while earlier
// batches of the epoch were unawaited.
var errConnReplaced = errors.New("the connection was replaced while earlier batches awaited acks")

// handedWhole reports whether a batch reached its connection whole: every event was
// handed over, except events refused as Permanent (dead-lettered, never published: a
// later event of their entity may go out before them). An event held back behind an
// earlier failure of its entity, or not sent because the connection or the lease
// ended, breaks the batch: it will be sent again later, so nothing after it may go
// out in the meantime.
func handedWhole(errs []error, handed func(i int) bool) bool {
	for i, err := range errs {
		if !handed(i) && !errors.Is(err, ErrPermanent) {
			return false
		}
	}
	return true
}
