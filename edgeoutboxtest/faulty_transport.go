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
// wrapped transport. It implements BatchTransport when the wrapped one does so that the
// fast path is what is tested.
type FaultyTransport struct {
	inner edgeoutbox.Transport

	mu        sync.Mutex
	offline   bool
	failWhere func(*edgeoutbox.Event) error

	// OfflineCalls counts publish calls refused while offline.
	OfflineCalls atomic.Int64
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

// Publish implements edgeoutbox.Transport.
func (f *FaultyTransport) Publish(ctx context.Context, ev *edgeoutbox.Event) error {
	if err := f.fault(ev); err != nil {
		return err
	}
	return f.inner.Publish(ctx, ev)
}

// batchFaulty is FaultyTransport over a BatchTransport.
type batchFaulty struct{ *FaultyTransport }

// PublishBatch implements edgeoutbox.BatchTransport: injected faults first (holding
// back later events of a failed entity), then the wrapped batch publish for the rest.
func (b batchFaulty) PublishBatch(ctx context.Context, events []*edgeoutbox.Event) []error {
	errs := make([]error, len(events))
	var pass []*edgeoutbox.Event
	var passIdx []int
	failed := map[string]bool{}
	failedAny := false
	for i, ev := range events {
		key := ev.Entity.Class + "\x00" + ev.Entity.ID
		if failed[key] {
			errs[i] = errors.New("conformance: held back behind a failed event of the same entity")
			continue
		}
		if err := b.fault(ev); err != nil {
			errs[i], failed[key], failedAny = err, true, true
			continue
		}
		pass = append(pass, ev)
		passIdx = append(passIdx, i)
	}
	if len(pass) > 0 {
		inner := b.inner.(edgeoutbox.BatchTransport).PublishBatch(ctx, pass)
		if inner != nil {
			for j, err := range inner {
				errs[passIdx[j]] = err
			}
			failedAny = true
		}
	}
	if !failedAny {
		return nil
	}
	return errs
}

// Wrap returns f as the transport to configure: a BatchTransport when the wrapped
// transport is one.
func (f *FaultyTransport) Wrap() edgeoutbox.Transport {
	if _, ok := f.inner.(edgeoutbox.BatchTransport); ok {
		return batchFaulty{f}
	}
	return f
}
