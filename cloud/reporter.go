package cloud

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// Reporter sends event metadata and a heartbeat to a cloud endpoint. It never
// blocks, slows or fails the application: the engine only hands it observations,
// which it copies into a bounded buffer (dropping the oldest when full); one goroutine
// of its own sends them.
type Reporter struct {
	cfg    Config
	eng    Engine
	on     bool
	log    zerolog.Logger
	ring   *ring
	kick   chan struct{}
	sender *sender

	mu      sync.Mutex
	started bool
	stopped bool
	remove  func()
	stopReq chan struct{} // closed by Stop: send what is buffered, then end
	cancel  context.CancelFunc
	done    chan struct{}

	sentBatches     atomic.Int64
	failedRequests  atomic.Int64
	rejectedBatches atomic.Int64
}

// ErrStopped is returned by Start after Stop.
var ErrStopped = errors.New("cloud: reporter stopped: create a new one with cloud.New")

// New returns a reporter for eng. Without an endpoint and an API key it returns an
// inert reporter (Start does nothing: no goroutine, no connection) and no error.
func New(eng Engine, cfg Config) (*Reporter, error) {
	if !cfg.Enabled() {
		switch {
		case cfg.Endpoint != "":
			cfg.Logger.Warn().Str("endpoint", redact(cfg.Endpoint)).Msg("cloud reporter off: an endpoint is set but no API key (set Config.APIKey or " + EnvAPIKey + ")")
		case cfg.APIKey != "":
			cfg.Logger.Warn().Msg("cloud reporter off: an API key is set but no endpoint (set Config.Endpoint or " + EnvEndpoint + ")")
		}
		return &Reporter{cfg: cfg}, nil
	}
	if eng == nil {
		return nil, errors.New("cloud: no engine: pass the *edgeoutbox.Engine to cloud.New")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	rt := cfg.Transport
	if rt == nil {
		rt = http.DefaultTransport.(*http.Transport).Clone()
	}
	return &Reporter{
		cfg:  cfg,
		eng:  eng,
		on:   true,
		log:  cfg.Logger.With().Str("component", "cloud").Logger(),
		ring: newRing(cfg.BufferSize),
		kick: make(chan struct{}, 1),
		sender: &sender{
			client:   &http.Client{Transport: rt},
			endpoint: cfg.Endpoint,
			apiKey:   cfg.APIKey,
			timeout:  cfg.Timeout,
		},
		stopReq: make(chan struct{}),
		done:    make(chan struct{}),
	}, nil
}

// Enabled reports whether the reporter was configured to send anything.
func (r *Reporter) Enabled() bool { return r.on }

// Start registers the reporter with the engine and starts its goroutine; it returns
// at once. An inert reporter does nothing. Cancelling ctx stops the reporter without
// sending what is buffered; prefer Stop. Start twice is a no-op.
func (r *Reporter) Start(ctx context.Context) error {
	if !r.on {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return ErrStopped
	}
	if r.started {
		return nil
	}
	r.started = true
	runCtx, cancel := context.WithCancel(ctx)
	r.cancel = cancel
	r.remove = r.eng.Observe(observer{r})
	go r.run(runCtx)
	r.log.Info().
		Str("endpoint", redact(r.cfg.Endpoint)).
		Str("app", r.cfg.App).
		Str("environment", r.cfg.Environment).
		Str("instance_id", r.cfg.InstanceID).
		Int("batch_size", r.cfg.BatchSize).
		Dur("flush_interval", r.cfg.FlushInterval).
		Dur("heartbeat_interval", r.cfg.HeartbeatInterval).
		Int("wire_version", WireVersion).
		Msg("cloud reporter started: sending event metadata (never payloads) to the endpoint")
	return nil
}

// Stop unregisters the reporter, sends what is buffered (one attempt per batch) until
// ctx ends, and waits for its goroutine. Stop before Start and Stop twice return nil.
func (r *Reporter) Stop(ctx context.Context) error {
	if !r.on {
		return nil
	}
	r.mu.Lock()
	if r.stopped || !r.started {
		r.stopped = true
		r.mu.Unlock()
		if r.done != nil && r.started {
			<-r.done
		}
		return nil
	}
	r.stopped = true
	r.remove()
	close(r.stopReq)
	r.mu.Unlock()
	var err error
	select {
	case <-r.done:
	case <-ctx.Done():
		err = fmt.Errorf("stop cloud reporter: %w (entries still buffered were not sent)", ctx.Err())
	}
	r.cancel()
	<-r.done
	r.log.Info().Int64("sent_batches", r.sentBatches.Load()).Int64("dropped", r.Health().DroppedTotal).Msg("cloud reporter stopped")
	return err
}

// Health returns the reporter's counters (zero for an inert reporter).
func (r *Reporter) Health() Health {
	if !r.on {
		return Health{}
	}
	waiting, dropped := r.ring.counts()
	return Health{
		Buffered:        waiting,
		DroppedTotal:    dropped,
		SentBatches:     r.sentBatches.Load(),
		FailedRequests:  r.failedRequests.Load(),
		RejectedBatches: r.rejectedBatches.Load(),
	}
}

// add buffers one entry and wakes the sender when a batch is full.
func (r *Reporter) add(e Entry) {
	if r.ring.push(e) == r.cfg.BatchSize {
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
}

// outgoing is one encoded body waiting to be sent (again).
type outgoing struct {
	kind, id string
	body     []byte
	failures int
	due      time.Time
}

func (r *Reporter) run(ctx context.Context) {
	defer close(r.done)
	var pending *outgoing
	failing := false
	now := time.Now()
	nextFlush, nextBeat := now.Add(r.cfg.FlushInterval), now // a heartbeat first: the schema
	for {
		now = time.Now()
		if pending == nil {
			pending = r.next(ctx, now, &nextFlush, &nextBeat)
		}
		if pending != nil && !now.Before(pending.due) {
			res := r.sender.send(ctx, pending.kind, pending.id, pending.body)
			if ctx.Err() != nil {
				return
			}
			switch {
			case res.err == nil:
				if pending.kind == KindEvents {
					r.sentBatches.Add(1)
				}
				if failing {
					failing = false
					r.log.Info().Str("endpoint", redact(r.cfg.Endpoint)).Msg("cloud endpoint accepts reports again")
				}
				pending = nil
				continue
			case !res.retry:
				r.rejectedBatches.Add(1)
				r.log.Error().Err(res.err).Str("batch_id", pending.id).Msg("cloud endpoint refused a report; it is dropped")
				pending = nil
				continue
			default:
				r.failedRequests.Add(1)
				pending.failures++
				wait := r.jitter(backoff(pending.failures, r.cfg.BackoffBase, r.cfg.BackoffMax, res.retryAfter), min(res.retryAfter, r.cfg.BackoffMax))
				pending.due = now.Add(wait)
				if !failing {
					failing = true
					r.log.Warn().Err(res.err).Dur("retry_in", wait).Msg("cloud endpoint unreachable; reports are buffered and retried")
				}
			}
		}
		wake := nextBeat
		if nextFlush.Before(wake) {
			wake = nextFlush
		}
		if pending != nil {
			wake = pending.due
		}
		t := time.NewTimer(max(time.Until(wake), 0))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-r.stopReq:
			t.Stop()
			r.drain(ctx, pending)
			return
		case <-r.kick:
		case <-t.C:
		}
		t.Stop()
	}
}

// next builds the body to send now, if any: a heartbeat when due, else a batch when
// one is full or the flush interval passed.
func (r *Reporter) next(ctx context.Context, now time.Time, nextFlush, nextBeat *time.Time) *outgoing {
	if !now.Before(*nextBeat) {
		*nextBeat = now.Add(r.cfg.HeartbeatInterval)
		return r.encode(r.heartbeat(ctx, now))
	}
	waiting, _ := r.ring.counts()
	full := waiting >= r.cfg.BatchSize
	if !full && now.Before(*nextFlush) {
		return nil
	}
	*nextFlush = now.Add(r.cfg.FlushInterval)
	if waiting == 0 {
		return nil
	}
	return r.encode(r.batch(now, r.cfg.BatchSize))
}

func (r *Reporter) batch(now time.Time, n int) *Envelope {
	entries := r.ring.take(n)
	_, dropped := r.ring.counts()
	return &Envelope{
		WireVersion: WireVersion, Kind: KindEvents, BatchID: newBatchID(), CreatedAt: now.UTC(),
		Origin: r.origin(), DroppedTotal: dropped, Events: entries,
	}
}

func (r *Reporter) origin() Origin {
	return Origin{App: r.cfg.App, Environment: r.cfg.Environment, InstanceID: r.cfg.InstanceID}
}

// encode turns env into an outgoing body; a body that cannot be encoded is logged and
// skipped (it cannot happen with these types, but nothing here may panic).
func (r *Reporter) encode(env *Envelope) *outgoing {
	body, err := encode(env)
	if err != nil {
		r.log.Error().Err(err).Msg("cloud report skipped")
		return nil
	}
	return &outgoing{kind: env.Kind, id: env.BatchID, body: body}
}

// drain sends the body in hand and what is buffered, one attempt each, and stops at
// the first failure or when ctx ends.
func (r *Reporter) drain(ctx context.Context, pending *outgoing) {
	for ctx.Err() == nil {
		if pending == nil {
			if waiting, _ := r.ring.counts(); waiting == 0 {
				return
			}
			if pending = r.encode(r.batch(time.Now(), r.cfg.BatchSize)); pending == nil {
				continue
			}
		}
		if res := r.sender.send(ctx, pending.kind, pending.id, pending.body); res.err != nil {
			r.failedRequests.Add(1)
			r.log.Warn().Err(res.err).Msg("cloud reporter stopping: buffered reports not sent")
			return
		}
		if pending.kind == KindEvents {
			r.sentBatches.Add(1)
		}
		pending = nil
	}
}

// jitter spreads retries of a fleet over +0..20% so devices do not return in step,
// never going below what the server asked for.
func (r *Reporter) jitter(d, floor time.Duration) time.Duration {
	if d <= 0 {
		return floor
	}
	return max(d+time.Duration(rand.Int64N(int64(d)/5+1)), floor)
}
