package edgeoutbox

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// Hooks are callbacks for what happens to events. Each is optional. They run one at a
// time on a goroutine of their own, fed by a bounded queue: a slow hook delays other
// hooks, never an Emit or the relay; when the queue is full, notifications are dropped
// and counted (Stats.HooksDropped). A hook that panics is logged and skipped.
type Hooks struct {
	// OnEmitted runs after an event is committed by Emit or EmitBatch. (EmitTx events
	// are committed by the caller, so they do not trigger it.)
	OnEmitted func(EventInfo)
	// OnPublished runs for every event the transport accepted.
	OnPublished func(EventInfo)
	// OnPublishFailed runs when a publish failed and a retry is scheduled.
	OnPublishFailed func(EventInfo)
	// OnDeadLettered runs when an event is dead-lettered.
	OnDeadLettered func(EventInfo)
	// OnBatchPublished runs once per published batch.
	OnBatchPublished func(BatchInfo)
	// QueueSize bounds the notifications waiting for hooks. Default 10000.
	QueueSize int
}

// EventInfo describes one event in a hook notification.
type EventInfo struct {
	Name           string
	Version        int
	EventID        int64
	IdempotencyKey string
	// Attempts is how many publish attempts were made, this one included.
	Attempts int
	// ErrorMessage and ErrorClass are set for failures and dead letters; ErrorClass is
	// one of ErrorClassTransient, ErrorClassPermanent, ErrorClassMaxAttempts.
	ErrorMessage string
	ErrorClass   string
}

// BatchInfo describes one published batch.
type BatchInfo struct {
	// Count is how many events of the batch were published.
	Count int
	// Duration is how long publishing and marking the batch took.
	Duration time.Duration
}

type hookRunner struct {
	hooks   Hooks
	log     zerolog.Logger
	queue   chan func()
	dropped atomic.Int64
	wg      sync.WaitGroup
	once    sync.Once
	mu      sync.RWMutex
	closed  bool
}

func newHookRunner(h Hooks, log zerolog.Logger) *hookRunner {
	r := &hookRunner{hooks: h, log: log}
	if h.OnEmitted == nil && h.OnPublished == nil && h.OnPublishFailed == nil && h.OnDeadLettered == nil && h.OnBatchPublished == nil {
		return r // nothing to run: no goroutine
	}
	size := h.QueueSize
	if size <= 0 {
		size = 10000
	}
	r.queue = make(chan func(), size)
	r.wg.Add(1)
	go r.run()
	return r
}

func (r *hookRunner) run() {
	defer r.wg.Done()
	for f := range r.queue {
		r.call(f)
	}
}

func (r *hookRunner) call(f func()) {
	defer func() {
		if p := recover(); p != nil {
			r.log.Error().Interface("panic", p).Msg("hook panicked")
		}
	}()
	f()
}

func (r *hookRunner) enqueue(f func()) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed || r.queue == nil {
		return
	}
	select {
	case r.queue <- f:
	default:
		r.dropped.Add(1)
	}
}

func (r *hookRunner) emitted(info EventInfo) {
	if h := r.hooks.OnEmitted; h != nil {
		r.enqueue(func() { h(info) })
	}
}

func (r *hookRunner) wantsPublished() bool { return r.hooks.OnPublished != nil }

func (r *hookRunner) published(info EventInfo) {
	if h := r.hooks.OnPublished; h != nil {
		r.enqueue(func() { h(info) })
	}
}

func (r *hookRunner) failed(info EventInfo) {
	if h := r.hooks.OnPublishFailed; h != nil {
		r.enqueue(func() { h(info) })
	}
}

func (r *hookRunner) deadLettered(info EventInfo) {
	if h := r.hooks.OnDeadLettered; h != nil {
		r.enqueue(func() { h(info) })
	}
}

func (r *hookRunner) batchPublished(info BatchInfo) {
	if h := r.hooks.OnBatchPublished; h != nil {
		r.enqueue(func() { h(info) })
	}
}

// close runs the hooks already queued and stops the goroutine.
func (r *hookRunner) close() {
	r.once.Do(func() {
		r.mu.Lock()
		r.closed = true
		r.mu.Unlock()
		if r.queue != nil {
			close(r.queue)
			r.wg.Wait()
		}
	})
}
