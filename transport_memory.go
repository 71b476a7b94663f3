package edgeoutbox

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// MemoryTransport keeps published events in memory. It can be switched offline and made
// to fail, so applications can test their own code against edgeoutbox without a broker.
// It is safe for concurrent use.
type MemoryTransport struct {
	mu        sync.Mutex
	events    []*Event
	offline   bool
	back      chan struct{} // closed when the transport comes back online
	failNext  int
	failErr   error
	failWhere func(*Event) error
	notify    chan struct{} // closed and replaced on every publish
}

var (
	_ Transport          = (*MemoryTransport)(nil)
	_ BatchTransport     = (*MemoryTransport)(nil)
	_ AvailabilityWaiter = (*MemoryTransport)(nil)
)

// ErrMemoryOffline is the cause of the Unavailable errors of an offline MemoryTransport.
var ErrMemoryOffline = errors.New("memory transport is offline")

// NewMemoryTransport returns an online transport with no events.
func NewMemoryTransport() *MemoryTransport {
	return &MemoryTransport{back: make(chan struct{}), notify: make(chan struct{})}
}

// Publish records event, unless the transport is offline or told to fail.
func (m *MemoryTransport) Publish(ctx context.Context, event *Event) error {
	if err := ctx.Err(); err != nil {
		return Unavailable(err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.failure(event); err != nil {
		return err
	}
	m.record(event)
	return nil
}

// PublishBatch records events in order, holding back later events of an entity whose
// earlier event failed.
func (m *MemoryTransport) PublishBatch(ctx context.Context, events []*Event) []error {
	var errs []error
	fail := func(i int, err error) {
		if errs == nil {
			errs = make([]error, len(events))
		}
		errs[i] = err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var hold HoldBack
	for i, ev := range events {
		if err := ctx.Err(); err != nil {
			fail(i, Unavailable(err))
			continue
		}
		if err := hold.Check(ev); err != nil {
			fail(i, err)
			continue
		}
		if err := m.failure(ev); err != nil {
			fail(i, err)
			hold.Fail(ev, err)
			continue
		}
		m.record(ev)
	}
	return errs
}

// failure returns the error an injected fault gives event, or nil. m.mu is held.
func (m *MemoryTransport) failure(ev *Event) error {
	if m.offline {
		return Unavailable(ErrMemoryOffline)
	}
	if m.failWhere != nil {
		if err := m.failWhere(ev); err != nil {
			return err
		}
	}
	if m.failNext > 0 {
		m.failNext--
		return m.failErr
	}
	return nil
}

func (m *MemoryTransport) record(ev *Event) {
	cp := *ev
	m.events = append(m.events, &cp)
	close(m.notify)
	m.notify = make(chan struct{})
}

// WaitAvailable blocks while the transport is offline.
func (m *MemoryTransport) WaitAvailable(ctx context.Context) error {
	m.mu.Lock()
	offline, back := m.offline, m.back
	m.mu.Unlock()
	if !offline {
		return nil
	}
	select {
	case <-back:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// SetOffline switches the transport offline (every publish fails with an Unavailable
// error, so the relay counts no attempts) or back online.
func (m *MemoryTransport) SetOffline(offline bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.offline == offline {
		return
	}
	m.offline = offline
	if offline {
		m.back = make(chan struct{})
	} else {
		close(m.back)
	}
}

// FailNext makes the next n publishes fail with err (wrap it with Permanent or
// Unavailable to choose how the relay treats it; nil means a plain transient error).
func (m *MemoryTransport) FailNext(n int, err error) {
	if err == nil {
		err = errors.New("memory transport: injected failure")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failNext, m.failErr = n, err
}

// FailWhere makes every publish for which f returns an error fail with it; nil clears.
func (m *MemoryTransport) FailWhere(f func(*Event) error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failWhere = f
}

// Events returns copies of the published events, in publish order.
func (m *MemoryTransport) Events() []*Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Event, len(m.events))
	for i, ev := range m.events {
		cp := *ev
		out[i] = &cp
	}
	return out
}

// Len returns how many events were published.
func (m *MemoryTransport) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.events)
}

// WaitFor blocks until at least n events were published or ctx ends.
func (m *MemoryTransport) WaitFor(ctx context.Context, n int) error {
	for {
		m.mu.Lock()
		have, notify := len(m.events), m.notify
		m.mu.Unlock()
		if have >= n {
			return nil
		}
		select {
		case <-notify:
		case <-ctx.Done():
			return fmt.Errorf("memory transport: %d of %d events published: %w", have, n, ctx.Err())
		}
	}
}

// Reset forgets the published events and every injected fault, and goes online.
func (m *MemoryTransport) Reset() {
	m.SetOffline(false)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events, m.failNext, m.failErr, m.failWhere = nil, 0, nil, nil
}
