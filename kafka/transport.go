package kafka

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/edgeoutbox/edgeoutbox/envelope"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Defaults of [Transport].
const (
	// DefaultTopicPrefix is the topic prefix: event cow_fed goes to events.cow_fed.
	DefaultTopicPrefix = "events"
	// DefaultPublishTimeout bounds one batch: records the broker has not confirmed by
	// then fail as unavailable (outcome unknown).
	DefaultPublishTimeout = 10 * time.Second
)

// Transport publishes events to Kafka through a franz-go client; see the package
// documentation for the record layout.
//
// Error classes:
//   - unavailable ([edgeoutbox.Unavailable]; no attempt counted, the relay waits for
//     WaitAvailable): dial and network errors, the batch deadline or the record
//     delivery timeout passing, retriable broker errors (not leader, not enough
//     replicas, request timed out, ...) once the client gave up on them, a closed
//     client.
//   - permanent ([edgeoutbox.Permanent]; dead-lettered at once): record too large,
//     invalid record, policy violation, invalid topic or timestamp, an event that
//     cannot be encoded or whose topic name is invalid.
//   - destination blocked ([ErrDestinationBlocked]; counts attempts, see Stats):
//     topic, cluster (IDEMPOTENT_WRITE) or SASL authorization failures, unknown topic.
//   - anything else: a plain error, retried with backoff.
//
// Ordering: every record of a batch is produced before any answer is awaited; the
// client keeps order per partition. When an event fails, later events of its entity
// in the batch are reported held back ([edgeoutbox.HoldBack]) so the relay sends them
// again after it; if the broker had stored such a later event, it then holds it
// twice, and consumers de-duplicate by the idempotency key header.
//
// Bounded: a batch waits at most the publish timeout. Records still unanswered then
// are reported unavailable and the client's buffered records are abandoned
// (kgo's UnsafeAbortBufferedRecords, after which it bumps its producer epoch), so
// that they cannot fail later batches once the broker is back. Give the transport a
// client of its own.
//
// A Transport never closes the client: the caller owns it.
type Transport struct {
	cl  *kgo.Client
	cfg config

	published, unavailable, permanent, blocked, failed atomic.Int64

	mu        sync.Mutex
	lastError string
}

var (
	_ edgeoutbox.Transport          = (*Transport)(nil)
	_ edgeoutbox.BatchTransport     = (*Transport)(nil)
	_ edgeoutbox.AvailabilityWaiter = (*Transport)(nil)
)

type config struct {
	topic          func(*edgeoutbox.Event) string
	topicPrefix    string
	key            func(*edgeoutbox.Event) []byte
	publishTimeout time.Duration
	layout         envelope.Encoder
	errs           []error
}

// Option configures a [Transport].
type Option func(*config)

// WithTopic sets the function that chooses an event's topic; it overrides
// WithTopicPrefix. An invalid topic name fails that event permanently.
func WithTopic(topic func(*edgeoutbox.Event) string) Option {
	return func(c *config) {
		if topic == nil {
			c.errs = append(c.errs, errors.New("WithTopic: nil function"))
			return
		}
		c.topic = topic
	}
}

// WithTopicPrefix sets the topic prefix (default "events"): an event goes to
// prefix + "." + event name.
func WithTopicPrefix(prefix string) Option {
	return func(c *config) {
		if err := validTopic(prefix); err != nil {
			c.errs = append(c.errs, fmt.Errorf("WithTopicPrefix(%q): %w", prefix, err))
			return
		}
		c.topicPrefix = prefix
	}
}

// WithKey sets the function that chooses a record's key (default [EntityKey]). Keep
// events of one entity on one key, or their order is lost across partitions.
func WithKey(key func(*edgeoutbox.Event) []byte) Option {
	return func(c *config) {
		if key == nil {
			c.errs = append(c.errs, errors.New("WithKey: nil function"))
			return
		}
		c.key = key
	}
}

// WithPublishTimeout bounds one batch (default DefaultPublishTimeout): records the
// broker has not confirmed by then fail as unavailable.
func WithPublishTimeout(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.errs = append(c.errs, fmt.Errorf("WithPublishTimeout(%s): must be positive", d))
			return
		}
		c.publishTimeout = d
	}
}

// WithLayout sets the record layout (default envelope.LayoutEnvelopeHeaders, which
// every consumer reads). The leaner layouts carry the same information in fewer
// bytes: envelope.LayoutEnvelope, envelope.LayoutHeaders, and CloudEvents in binary
// mode (envelope.LayoutCloudEvents: ce_ headers per the Kafka protocol binding, the
// payload as value) or structured mode (envelope.LayoutCloudEventsJSON). source is
// the CloudEvents source attribute (empty: envelope.DefaultCloudEventsSource).
// Consumers read every layout with envelope.DecodeMessage.
func WithLayout(layout envelope.Layout, source string) Option {
	return func(c *config) {
		enc, err := envelope.NewEncoder(layout, envelope.BindingKafka, source)
		if err != nil {
			c.errs = append(c.errs, fmt.Errorf("WithLayout: %w", err))
			return
		}
		c.layout = enc
	}
}

// NewTransport returns a transport producing through client, which the caller owns
// (see [NewClient] for one with the right defaults). It does no I/O.
func NewTransport(client *kgo.Client, opts ...Option) (*Transport, error) {
	if client == nil {
		return nil, errors.New("new kafka transport: nil *kgo.Client: create one first, e.g. with kafka.NewClient")
	}
	cfg := config{topicPrefix: DefaultTopicPrefix, key: EntityKey, publishTimeout: DefaultPublishTimeout, layout: defaultEncoder}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if err := errors.Join(cfg.errs...); err != nil {
		return nil, fmt.Errorf("new kafka transport: %w", err)
	}
	cfg.errs = nil
	if cfg.topic == nil {
		prefix := cfg.topicPrefix
		cfg.topic = func(e *edgeoutbox.Event) string { return prefix + "." + e.Name }
	}
	return &Transport{cl: client, cfg: cfg}, nil
}

// Client returns the client the transport produces through.
func (t *Transport) Client() *kgo.Client { return t.cl }

// Publish publishes one event; see PublishBatch.
func (t *Transport) Publish(ctx context.Context, event *edgeoutbox.Event) error {
	if errs := t.PublishBatch(ctx, []*edgeoutbox.Event{event}); errs != nil {
		return errs[0]
	}
	return nil
}

// PublishBatch produces events in order, waits for the broker's answers within the
// publish timeout, and returns nil when the broker has all of them, or one error per
// event (nil where that event was published). See [Transport] for the error classes.
func (t *Transport) PublishBatch(ctx context.Context, events []*edgeoutbox.Event) []error {
	if len(events) == 0 {
		return nil
	}
	errs := make([]error, len(events))
	outcomes := make([]outcome, len(events))
	if err := ctx.Err(); err != nil {
		for i := range errs {
			errs[i] = fmt.Errorf("publish to kafka: %w", err)
			outcomes[i] = outcomeCancelled
		}
		return t.finish(events, errs, outcomes)
	}
	pctx, cancel := context.WithTimeout(ctx, t.cfg.publishTimeout)
	defer cancel()
	b := &pending{errs: errs, outcomes: outcomes, done: make(chan struct{})}
	var hold edgeoutbox.HoldBack
	recs := make([]*kgo.Record, len(events))
	topics := make([]string, len(events))
	for i, ev := range events {
		if errs[i] = hold.Check(ev); errs[i] != nil {
			outcomes[i] = outcomeCancelled // not this event's failure
			continue
		}
		if ev != nil {
			topics[i] = t.cfg.topic(ev)
		}
		rec, err := record(t.cfg.layout, topics[i], ev, t.cfg.key)
		if err != nil {
			errs[i], outcomes[i] = edgeoutbox.Permanent(fmt.Errorf("publish to kafka: %w", err)), outcomePermanent
			hold.Fail(ev, errs[i])
			continue
		}
		recs[i] = rec
		b.left++ // all counted before the first answer can arrive
	}
	for i, rec := range recs {
		if rec == nil {
			continue
		}
		ev, topic := events[i], topics[i]
		t.cl.Produce(pctx, rec, func(_ *kgo.Record, err error) {
			b.resolve(i, func() (error, outcome) { return classify(ctx, ev, topic, err) })
		})
	}
	var probed map[string]error
	abandoned := b.wait(pctx, func(i int) (error, outcome) {
		// The client cancels records only between requests, so a broker that does not
		// answer could hold them far past the deadline: give up on them here.
		// Outcome unknown; the relay sends them again once the broker answers.
		err := fmt.Errorf("no answer within the publish timeout %s: %w", t.cfg.publishTimeout, context.DeadlineExceeded)
		if ctx.Err() != nil {
			return classify(ctx, events[i], topics[i], err)
		}
		// Records for a topic that does not exist wait in the client for several
		// metadata refreshes: ask the broker, so that a missing topic is reported as
		// such rather than as an outage.
		if probed == nil {
			probed = make(map[string]error)
		}
		cause, ok := probed[topics[i]]
		if !ok {
			cause = t.probeTopic(ctx, topics[i])
			probed[topics[i]] = cause
		}
		if cause != nil {
			err = fmt.Errorf("%w: %w", err, cause)
		}
		return classify(ctx, events[i], topics[i], err)
	})
	if abandoned {
		// Left in the client, they would fail the records produced after them in
		// their partitions (the client keeps a partition gapless) once the broker is
		// back. Aborting makes the client bump its producer epoch for any it had sent.
		t.cl.UnsafeAbortBufferedRecords()
	}
	return t.finish(events, errs, outcomes)
}

// pending collects the answers of one batch's records. After wait returned, late
// answers are dropped: the batch's results are final.
type pending struct {
	mu       sync.Mutex
	errs     []error
	outcomes []outcome
	resolved []bool
	left     int
	closed   bool
	done     chan struct{}
}

func (p *pending) resolve(i int, class func() (error, outcome)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	if p.resolved == nil {
		p.resolved = make([]bool, len(p.errs))
	}
	p.errs[i], p.outcomes[i] = class()
	p.resolved[i] = true
	p.left--
	if p.left == 0 {
		close(p.done)
	}
}

// wait waits for every answer or for ctx to end; then it fills in each record still
// without an answer with unanswered(i) and reports whether there was any.
func (p *pending) wait(ctx context.Context, unanswered func(i int) (error, outcome)) bool {
	p.mu.Lock()
	left := p.left
	p.mu.Unlock()
	if left > 0 {
		select {
		case <-p.done:
		case <-ctx.Done():
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if p.left == 0 {
		return false
	}
	for i := range p.errs {
		if p.errs[i] == nil && (p.resolved == nil || !p.resolved[i]) {
			p.errs[i], p.outcomes[i] = unanswered(i)
		}
	}
	return true
}

// finish counts the outcomes and applies the per-entity rule to the results.
func (t *Transport) finish(events []*edgeoutbox.Event, errs []error, outcomes []outcome) []error {
	var last error
	for i, o := range outcomes {
		switch o {
		case outcomePublished:
			t.published.Add(1)
			continue
		case outcomeUnavailable:
			t.unavailable.Add(1)
		case outcomePermanent:
			t.permanent.Add(1)
		case outcomeBlocked:
			t.blocked.Add(1)
		case outcomeFailed:
			t.failed.Add(1)
		default:
			continue
		}
		if last == nil {
			last = errs[i]
		}
	}
	if last != nil {
		t.mu.Lock()
		t.lastError = last.Error()
		t.mu.Unlock()
	}
	var settle edgeoutbox.HoldBack
	return settle.Settle(events, errs)
}

// WaitAvailable blocks until a broker answers (a metadata request), returning at once
// if one does. It returns an error when ctx ends first, and at once for a closed
// client, which never comes back.
func (t *Transport) WaitAvailable(ctx context.Context) error {
	backoff := 50 * time.Millisecond
	for {
		pctx, cancel := context.WithTimeout(ctx, min(t.cfg.publishTimeout, 2*time.Second))
		err := t.cl.Ping(pctx)
		cancel()
		switch {
		case err == nil:
			return nil
		case errors.Is(err, kgo.ErrClientClosed):
			return fmt.Errorf("wait for kafka: %w: create a new client", err)
		}
		timer := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("wait for kafka: %w (last error: %v)", ctx.Err(), err)
		case <-timer.C:
		}
		backoff = min(2*backoff, time.Second)
	}
}

// Stats counts what happened to the events this transport was given, by class.
type Stats struct {
	Published   int64 // the broker confirmed them
	Unavailable int64 // broker unreachable or outcome unknown: no attempt counted
	Permanent   int64 // refused for good: dead-lettered
	Blocked     int64 // destination blocked (authorization, unknown topic): attempts counted
	Failed      int64 // any other error: attempts counted
	// LastError is the last failure seen ("" if none).
	LastError string
}

// Stats returns the transport's counters since it was created.
func (t *Transport) Stats() Stats {
	t.mu.Lock()
	last := t.lastError
	t.mu.Unlock()
	return Stats{
		Published:   t.published.Load(),
		Unavailable: t.unavailable.Load(),
		Permanent:   t.permanent.Load(),
		Blocked:     t.blocked.Load(),
		Failed:      t.failed.Load(),
		LastError:   last,
	}
}

// probeTopic asks the cluster about topic after its records went unanswered. It
// returns the topic's error (unknown topic, not authorized), nil when the topic is
// fine or the cluster does not answer.
func (t *Transport) probeTopic(ctx context.Context, topic string) error {
	pctx, cancel := context.WithTimeout(ctx, min(t.cfg.publishTimeout, 2*time.Second))
	defer cancel()
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(pctx, t.cl)
	if err != nil {
		return nil
	}
	for _, rt := range resp.Topics {
		if rt.Topic != nil && *rt.Topic == topic {
			return kerr.ErrorForCode(rt.ErrorCode)
		}
	}
	return nil
}
