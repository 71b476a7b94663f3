package edgeoutboxtest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/edgeoutbox/edgeoutbox"
)

// FaultyTransport wraps a transport and injects faults in front of it: offline
// (Unavailable errors), or failures chosen per event. Events it fails never reach the
// wrapped transport. Wrap returns a transport with exactly the optional capabilities
// of the wrapped one (BatchTransport, PipelinedTransport, AvailabilityWaiter), so that
// the relay takes the same path it takes without the wrapper. With no fault injected
// it passes everything through and only counts.
type FaultyTransport struct {
	inner edgeoutbox.Transport

	mu        sync.Mutex
	offline   bool
	failWhere func(*edgeoutbox.Event) error

	// OfflineCalls counts publish calls refused while offline.
	OfflineCalls atomic.Int64
	// Unavailable counts events the wrapped transport answered with an Unavailable
	// error (a real outage of its broker, not an injected one).
	Unavailable atomic.Int64
	// Published counts events the wrapped transport reported published.
	Published atomic.Int64
}

// NewFaultyTransport wraps inner with no fault injected.
func NewFaultyTransport(inner edgeoutbox.Transport) *FaultyTransport {
	return &FaultyTransport{inner: inner}
}

// SetOffline makes every publish fail with an Unavailable error until set back.
func (f *FaultyTransport) SetOffline(offline bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.offline = offline
}

// FailWhere fails every event for which fn returns an error (nil fn clears).
func (f *FaultyTransport) FailWhere(fn func(*edgeoutbox.Event) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failWhere = fn
}

var errInjectedOffline = errors.New("conformance: injected outage")

func (f *FaultyTransport) fault(ev *edgeoutbox.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.offline {
		f.OfflineCalls.Add(1)
		return edgeoutbox.Unavailable(errInjectedOffline)
	}
	if f.failWhere != nil {
		return f.failWhere(ev)
	}
	return nil
}

func (f *FaultyTransport) count(errs []error, n int) {
	if errs == nil {
		f.Published.Add(int64(n))
		return
	}
	for _, err := range errs {
		switch {
		case err == nil:
			f.Published.Add(1)
		case errors.Is(err, edgeoutbox.ErrTransportUnavailable) && !errors.Is(err, edgeoutbox.ErrHeldBack):
			f.Unavailable.Add(1)
		}
	}
}

// Publish implements edgeoutbox.Transport.
func (f *FaultyTransport) Publish(ctx context.Context, ev *edgeoutbox.Event) error {
	if err := f.fault(ev); err != nil {
		return err
	}
	err := f.inner.Publish(ctx, ev)
	f.count([]error{err}, 1)
	return err
}

// split applies the injected faults to events (holding back later events of an entity
// that failed) and returns the results so far and the events to pass on.
func (f *FaultyTransport) split(events []*edgeoutbox.Event) (errs []error, pass []*edgeoutbox.Event, passIdx []int) {
	errs = make([]error, len(events))
	var hold edgeoutbox.HoldBack
	for i, ev := range events {
		if errs[i] = hold.Check(ev); errs[i] != nil {
			continue
		}
		if err := f.fault(ev); err != nil {
			errs[i] = err
			hold.Fail(ev, err)
			continue
		}
		pass = append(pass, ev)
		passIdx = append(passIdx, i)
	}
	return errs, pass, passIdx
}

// merge puts the wrapped transport's answer for pass into errs and settles the batch.
func (f *FaultyTransport) merge(events []*edgeoutbox.Event, errs, inner []error, pass []*edgeoutbox.Event, passIdx []int) []error {
	f.count(inner, len(pass))
	if inner != nil {
		for j, err := range inner {
			if j < len(passIdx) {
				errs[passIdx[j]] = err
			}
		}
	}
	var settle edgeoutbox.HoldBack
	return settle.Settle(events, errs)
}

// batchFaulty is FaultyTransport over a BatchTransport.
type batchFaulty struct{ *FaultyTransport }

// PublishBatch implements edgeoutbox.BatchTransport: injected faults first (holding
// back later events of a failed entity), then the wrapped batch publish for the rest.
func (b batchFaulty) PublishBatch(ctx context.Context, events []*edgeoutbox.Event) []error {
	errs, pass, passIdx := b.split(events)
	var inner []error
	if len(pass) > 0 {
		inner = b.inner.(edgeoutbox.BatchTransport).PublishBatch(ctx, pass)
	}
	return b.merge(events, errs, inner, pass, passIdx)
}

// pipelinedFaulty is FaultyTransport over a PipelinedTransport.
type pipelinedFaulty struct{ batchFaulty }

// StartBatch implements edgeoutbox.PipelinedTransport: injected faults first, then the
// wrapped StartBatch for the rest; the returned function merges both answers.
func (p pipelinedFaulty) StartBatch(ctx context.Context, events []*edgeoutbox.Event) func() []error {
	errs, pass, passIdx := p.split(events)
	wait := func() []error { return nil }
	if len(pass) > 0 {
		wait = p.inner.(edgeoutbox.PipelinedTransport).StartBatch(ctx, pass)
	}
	return func() []error { return p.merge(events, errs, wait(), pass, passIdx) }
}

// waiter adds AvailabilityWaiter to a wrapper whose wrapped transport has it.
type waiter struct{ f *FaultyTransport }

// WaitAvailable implements edgeoutbox.AvailabilityWaiter. During an injected outage it
// returns at once, so that the relay keeps probing (the suite counts the probes);
// otherwise it waits for the wrapped transport.
func (w waiter) WaitAvailable(ctx context.Context) error {
	w.f.mu.Lock()
	offline := w.f.offline
	w.f.mu.Unlock()
	if offline {
		return nil
	}
	return w.f.inner.(edgeoutbox.AvailabilityWaiter).WaitAvailable(ctx)
}

// Wrap returns f as the transport to configure, with the optional capabilities of the
// wrapped transport and no others.
func (f *FaultyTransport) Wrap() edgeoutbox.Transport {
	_, batch := f.inner.(edgeoutbox.BatchTransport)
	_, piped := f.inner.(edgeoutbox.PipelinedTransport)
	_, waits := f.inner.(edgeoutbox.AvailabilityWaiter)
	w := waiter{f}
	switch {
	case piped && waits:
		return struct {
			pipelinedFaulty
			waiter
		}{pipelinedFaulty{batchFaulty{f}}, w}
	case piped:
		return pipelinedFaulty{batchFaulty{f}}
	case batch && waits:
		return struct {
			batchFaulty
			waiter
		}{batchFaulty{f}, w}
	case batch:
		return batchFaulty{f}
	case waits:
		return struct {
			*FaultyTransport
			waiter
		}{f, w}
	}
	return f
}
