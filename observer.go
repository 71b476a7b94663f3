package edgeoutbox

import (
	"sync"
	"sync/atomic"
	"time"
)

// Observer is told, synchronously and in this process, about every event the engine
// stores or settles: metrics and reporters count with it. Observe runs on the goroutine
// that committed the change (an emitter or the relay), so it must return at once: copy
// what it needs into a buffer of its own and do any I/O elsewhere. Unlike Hooks, whose
// queue drops notifications when hooks fall behind, nothing is dropped on the way to
// an Observer.
type Observer interface {
	Observe(Observation)
}

// ObservationKind says what happened to an event.
type ObservationKind int

const (
	// ObservedEmitted: stored by Emit or EmitBatch, or written by EmitTx (whose caller
	// may still roll back).
	ObservedEmitted ObservationKind = iota + 1
	// ObservedPublished: accepted by the transport and marked published.
	ObservedPublished
	// ObservedPublishFailed: a publish attempt failed; a retry is scheduled.
	ObservedPublishFailed
	// ObservedDeadLettered: dead-lettered.
	ObservedDeadLettered
)

// String returns "emitted", "published", "publish_failed" or "dead_lettered".
func (k ObservationKind) String() string {
	switch k {
	case ObservedEmitted:
		return "emitted"
	case ObservedPublished:
		return "published"
	case ObservedPublishFailed:
		return "publish_failed"
	case ObservedDeadLettered:
		return "dead_lettered"
	}
	return "unknown"
}

// Observation is what an Observer is told. It carries metadata only: never the
// payload, the metadata values, the idempotency key or the entity, so that an observer
// cannot leak them.
type Observation struct {
	Kind    ObservationKind
	Name    string
	Type    string
	Version int
	EventID int64
	// Attempts is how many publish attempts were made (for Published, this one too).
	Attempts int
	// ErrorClass is set for failures and dead letters: ErrorClassTransient,
	// ErrorClassPermanent or ErrorClassMaxAttempts.
	ErrorClass string
	OccurredAt time.Time
	CreatedAt  time.Time
	// At is when it happened.
	At time.Time
	// Latency is, for Published, the time from CreatedAt to publication.
	Latency time.Duration
}

// observers is the engine's list of observers, read without a lock on every event.
type observers struct {
	mu   sync.Mutex
	list atomic.Pointer[[]*observerEntry]
}

type observerEntry struct{ o Observer }

// Observe registers o until the returned function is called.
func (e *Engine) Observe(o Observer) (remove func()) {
	if o == nil {
		return func() {}
	}
	entry := &observerEntry{o: o}
	obs := &e.observers
	obs.mu.Lock()
	defer obs.mu.Unlock()
	var next []*observerEntry
	if cur := obs.list.Load(); cur != nil {
		next = append(next, *cur...)
	}
	next = append(next, entry)
	obs.list.Store(&next)
	var once sync.Once
	return func() {
		once.Do(func() {
			obs.mu.Lock()
			defer obs.mu.Unlock()
			cur := obs.list.Load()
			if cur == nil {
				return
			}
			kept := make([]*observerEntry, 0, len(*cur))
			for _, x := range *cur {
				if x != entry {
					kept = append(kept, x)
				}
			}
			obs.list.Store(&kept)
		})
	}
}

// observing reports whether any observer is registered, so callers build
// observations only when someone listens.
func (e *Engine) observing() bool {
	cur := e.observers.list.Load()
	return cur != nil && len(*cur) > 0
}

// observe tells every observer; one that panics is logged and does not stop the rest.
func (e *Engine) observe(ob Observation) {
	cur := e.observers.list.Load()
	if cur == nil {
		return
	}
	for _, x := range *cur {
		func() {
			defer func() {
				if p := recover(); p != nil {
					e.log.Error().Interface("panic", p).Msg("observer panicked")
				}
			}()
			x.o.Observe(ob)
		}()
	}
}

// observeEvent builds the observation of ev.
func observeEvent(kind ObservationKind, ev *Event, at time.Time) Observation {
	return Observation{Kind: kind, Name: ev.Name, Type: ev.Type, Version: ev.Version, EventID: ev.ID,
		Attempts: ev.Attempts, OccurredAt: ev.OccurredAt, CreatedAt: ev.CreatedAt, At: at}
}
