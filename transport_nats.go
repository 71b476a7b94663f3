package edgeoutbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/edgeoutbox/edgeoutbox/envelope"
)

// Defaults of [NATSTransport].
const (
	// DefaultNATSSubjectPrefix is the subject prefix: event cow_fed goes to
	// events.cow_fed.
	DefaultNATSSubjectPrefix = "events"
	// DefaultNATSPublishTimeout bounds how long a batch waits for JetStream acks (or,
	// in core mode, for the flush that proves the server has the batch).
	DefaultNATSPublishTimeout = 10 * time.Second
	// DefaultNATSMaxPending is the most JetStream publishes awaiting an ack at once;
	// larger batches are published in chunks of this size.
	DefaultNATSMaxPending = 4000
	// DefaultNATSDuplicateWindow is the stream duplicate window used by
	// WithEnsureStream when none is given (the server's own default).
	DefaultNATSDuplicateWindow = 2 * time.Minute
)

// jsReadyPoll is how often WaitAvailable re-checks JetStream after the connection
// is back, and the safety-net poll of the connection status.
const jsReadyPoll = 250 * time.Millisecond

// NATSTransport publishes events to NATS, in core mode (default) or JetStream mode
// ([WithJetStream], [WithStream] or [WithEnsureStream]).
//
// Each event becomes one message on its subject (events.<name> by default) whose body
// is the JSON [Envelope] and whose headers carry the attributes (see [HeaderEvent] and
// the other Header constants) and Nats-Msg-Id = the idempotency key.
//
// Core mode publishes the batch and then flushes: a successful flush proves the
// server received every message (core NATS keeps nothing for absent subscribers, so
// this is the strongest guarantee it offers). JetStream mode publishes the batch
// asynchronously and waits for every ack; a duplicate ack (the server already had
// that Nats-Msg-Id) counts as success.
//
// Error mapping:
//   - not connected, disconnected while waiting, connection closed, flush or ack
//     timeout (outcome unknown; the stable Nats-Msg-Id makes a re-send safe within the
//     stream's duplicate window): [Unavailable]. A closed connection never comes back:
//     WaitAvailable then returns an error.
//   - message larger than the server's max payload or the stream's max message size,
//     invalid subject, payload that cannot be encoded: [Permanent].
//   - no stream captures the subject while JetStream answers, or any other server
//     rejection (e.g. stream full): a plain error, so the relay retries with backoff
//     and dead-letters after MaxAttempts.
//   - "no responders" while JetStream itself does not answer (a server still
//     starting): [Unavailable].
//
// Ordering: once an event of an entity fails, later events of that entity in the
// batch are reported failed too (classed like the earlier error, except that they are
// never Permanent). Core mode does not send them. JetStream mode sends the batch
// before any ack arrives, so such a later event may already be stored: it is still
// reported failed so that the relay re-sends it after the earlier one, and the server
// drops that re-send as a duplicate within the window.
//
// Fencing at the socket: on a connection made by [DialNATS], the transport also checks
// each socket write nats.go makes (see DialNATS): a message still in nats.go's buffer
// when the relay's lease ends, or about to go out on a connection the batch was not
// sent on, is never written. On a connection made otherwise (nats.Connect), the
// transport checks the lease and the connection just before handing each message to
// nats.go, and a message nats.go has buffered but not yet written when the process is
// frozen is written when it resumes: after its lease may have passed to another
// relay, or on a new connection after a reconnect that completed between the check
// and the hand-over. Use DialNATS for the relay's connection.
//
// A NATSTransport never closes the connection: the caller owns it.
type NATSTransport struct {
	nc    *nats.Conn
	guard *wireGuard // the socket-write guard of a DialNATS connection, or nil
	cfg   natsConfig
	js    jetstream.JetStream // nil in core mode

	// sem serialises batches so that JetStream chunks never exceed maxPending (a
	// stalled async publish fails) and core flushes cover whole batches. The holder
	// builds its messages with build.
	sem   chan struct{}
	build msgBuilder

	mu            sync.Mutex
	streamEnsured bool

	// pipe admits batches to the connection so that pipelining keeps per-entity
	// order: see OrderedPipeline and pipelineFence.
	pipe pipelineFence
}

var (
	_ Transport          = (*NATSTransport)(nil)
	_ BatchTransport     = (*NATSTransport)(nil)
	_ AvailabilityWaiter = (*NATSTransport)(nil)
	_ PipelinedTransport = (*NATSTransport)(nil)
	_ OrderedPipeline    = (*NATSTransport)(nil)
)

type natsConfig struct {
	subject        func(*Event) string
	subjectPrefix  string
	jetStream      bool
	stream         *jetstream.StreamConfig
	publishTimeout time.Duration
	maxPending     int
	layout         envelope.Encoder
	errs           []error
}

// NATSOption configures a [NATSTransport].
type NATSOption func(*natsConfig)

// WithSubject sets the function that chooses an event's subject. It overrides
// WithSubjectPrefix. A subject that is empty or contains wildcards or whitespace makes
// that event's publish fail permanently.
func WithSubject(subject func(*Event) string) NATSOption {
	return func(c *natsConfig) {
		if subject == nil {
			c.errs = append(c.errs, errors.New("WithSubject: nil function"))
			return
		}
		c.subject = subject
	}
}

// WithSubjectPrefix sets the subject prefix (default "events"): an event is published
// on prefix + "." + event name.
func WithSubjectPrefix(prefix string) NATSOption {
	return func(c *natsConfig) {
		if err := validSubject(prefix); err != nil {
			c.errs = append(c.errs, fmt.Errorf("WithSubjectPrefix(%q): %w", prefix, err))
			return
		}
		c.subjectPrefix = prefix
	}
}

// WithJetStream switches the transport to JetStream mode: asynchronous publishes that
// wait for the stream's ack, with Nats-Msg-Id set for de-duplication. Some stream
// must capture the subjects; see WithEnsureStream.
func WithJetStream() NATSOption {
	return func(c *natsConfig) { c.jetStream = true }
}

// WithStream enables JetStream mode and makes the transport create the stream cfg
// before its first publish if it does not exist (or verify that an existing stream of
// that name captures cfg's subjects; an existing stream is never changed). Publishes
// then expect that stream (Nats-Expected-Stream). An empty Subjects list means
// prefix + ".>"; a zero Duplicates means DefaultNATSDuplicateWindow, capped at MaxAge.
func WithStream(cfg jetstream.StreamConfig) NATSOption {
	return func(c *natsConfig) {
		if cfg.Name == "" {
			c.errs = append(c.errs, errors.New("WithStream: stream name is empty"))
			return
		}
		if cfg.Duplicates < 0 {
			c.errs = append(c.errs, fmt.Errorf("WithStream: negative duplicate window %s", cfg.Duplicates))
			return
		}
		c.jetStream = true
		c.stream = &cfg
	}
}

// WithEnsureStream is WithStream for the common case: a file-backed stream name
// capturing subjects (default prefix + ".>") with the given duplicate window (0 means
// DefaultNATSDuplicateWindow).
//
// The duplicate window is what makes a crash harmless: a batch the server stored
// but that the outbox had not yet marked published is sent again after a restart,
// and the server drops the re-send only if it arrives within the window of the
// original. Choose a window longer than a typical restart; the server caps it at the
// stream's MaxAge. Consumers should still de-duplicate by idempotency key for longer
// gaps.
func WithEnsureStream(name string, subjects []string, duplicateWindow time.Duration) NATSOption {
	return WithStream(jetstream.StreamConfig{
		Name:       name,
		Subjects:   append([]string(nil), subjects...),
		Storage:    jetstream.FileStorage,
		Duplicates: duplicateWindow,
	})
}

// WithPublishTimeout bounds how long a batch waits for JetStream acks (in core mode:
// for the confirming flush). Default DefaultNATSPublishTimeout. A timeout is reported
// as unavailable.
func WithPublishTimeout(d time.Duration) NATSOption {
	return func(c *natsConfig) {
		if d <= 0 {
			c.errs = append(c.errs, fmt.Errorf("WithPublishTimeout(%s): must be positive", d))
			return
		}
		c.publishTimeout = d
	}
}

// WithLayout sets the message layout (default envelope.LayoutEnvelopeHeaders, which
// every consumer reads). The leaner layouts carry the same information in fewer
// bytes: envelope.LayoutEnvelope, envelope.LayoutHeaders, and CloudEvents in binary
// (envelope.LayoutCloudEvents, ce- headers) or structured mode
// (envelope.LayoutCloudEventsJSON). Consumers read every layout with
// envelope.DecodeMessage. source is the CloudEvents source attribute ("" means
// envelope.DefaultCloudEventsSource).
func WithLayout(layout envelope.Layout, source string) NATSOption {
	return func(c *natsConfig) {
		enc, err := envelope.NewEncoder(layout, envelope.BindingNATS, source)
		if err != nil {
			c.errs = append(c.errs, fmt.Errorf("WithLayout: %w", err))
			return
		}
		c.layout = enc
	}
}

// WithMaxPending sets how many JetStream publishes may await an ack at once (default
// DefaultNATSMaxPending); larger batches are published in chunks.
func WithMaxPending(n int) NATSOption {
	return func(c *natsConfig) {
		if n < 1 {
			c.errs = append(c.errs, fmt.Errorf("WithMaxPending(%d): must be at least 1", n))
			return
		}
		c.maxPending = n
	}
}

// NewNATSTransport returns a transport publishing through nc, which the caller owns
// (see [DialNATS] for a connection that reconnects forever). It does no I/O: in
// JetStream mode a configured stream is ensured before the first publish, or earlier
// by calling EnsureStream.
func NewNATSTransport(nc *nats.Conn, opts ...NATSOption) (*NATSTransport, error) {
	if nc == nil {
		return nil, errors.New("new nats transport: nil *nats.Conn: connect first, e.g. with edgeoutbox.DialNATS(url)")
	}
	cfg := natsConfig{
		subjectPrefix:  DefaultNATSSubjectPrefix,
		publishTimeout: DefaultNATSPublishTimeout,
		maxPending:     DefaultNATSMaxPending,
	}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if err := errors.Join(cfg.errs...); err != nil {
		return nil, fmt.Errorf("new nats transport: %w", err)
	}
	cfg.errs = nil
	if cfg.subject == nil {
		prefix := cfg.subjectPrefix
		cfg.subject = func(e *Event) string { return prefix + "." + e.Name }
	}
	if s := cfg.stream; s != nil {
		if len(s.Subjects) == 0 {
			s.Subjects = []string{cfg.subjectPrefix + ".>"}
		}
		if s.Duplicates == 0 {
			s.Duplicates = DefaultNATSDuplicateWindow
		}
		if s.MaxAge > 0 && s.Duplicates > s.MaxAge {
			s.Duplicates = s.MaxAge // the server refuses a window longer than MaxAge
		}
	}

	t := &NATSTransport{nc: nc, guard: guardOf(nc), cfg: cfg, sem: make(chan struct{}, 1)}
	if cfg.jetStream {
		js, err := jetstream.New(nc,
			jetstream.WithPublishAsyncTimeout(cfg.publishTimeout),
			jetstream.WithPublishAsyncMaxPending(cfg.maxPending),
		)
		if err != nil {
			return nil, fmt.Errorf("new nats transport: jetstream: %w", err)
		}
		t.js = js
	}
	return t, nil
}

// Conn returns the connection the transport publishes through.
func (t *NATSTransport) Conn() *nats.Conn { return t.nc }

// JetStream returns the JetStream context in JetStream mode, nil in core mode.
func (t *NATSTransport) JetStream() jetstream.JetStream { return t.js }

// Publish publishes one event; see PublishBatch.
func (t *NATSTransport) Publish(ctx context.Context, event *Event) error {
	errs := t.PublishBatch(ctx, []*Event{event})
	if errs == nil {
		return nil
	}
	return errs[0]
}

// PublishBatch publishes events in order and returns nil when the server has all of
// them, or one error per event (nil where that event was published). See
// [NATSTransport] for the error classes.
func (t *NATSTransport) PublishBatch(ctx context.Context, events []*Event) []error {
	return t.StartBatch(ctx, events)()
}

// StartBatch implements [PipelinedTransport]. In JetStream mode it sends the batch
// and returns a function that awaits the acks, so the relay can send the next batch
// meanwhile; in core mode (and for a batch larger than half the max pending setting)
// the whole publish happens before it returns.
func (t *NATSTransport) StartBatch(ctx context.Context, events []*Event) (wait func() []error) {
	if len(events) == 0 {
		return func() []error { return nil }
	}
	errs := make([]error, len(events))
	// The batch takes its place in the pipeline's epoch before anything can fail: a
	// batch that sends nothing, or not all of it, must stop every later batch of the
	// epoch from going out (see pipelineFence).
	gen := t.generation()
	pass, err := t.pipe.start(gen)
	var leaveOnce sync.Once
	guarded, whole := false, false
	leave := func(answered bool) {
		leaveOnce.Do(func() {
			if !whole {
				pass.spoil()
			}
			if guarded && t.guard != nil {
				t.guard.leave(gen, answered)
			}
			pass.done()
		})
	}
	fail := func(err error) func() []error {
		for i := range errs {
			errs[i] = err
		}
		pass.spoil()
		return func() []error {
			leave(true)
			return errs
		}
	}
	if err != nil {
		return fail(Unavailable(fmt.Errorf("publish to nats: %w: %w", nats.ErrDisconnected, err)))
	}
	if err := ctx.Err(); err != nil {
		return fail(fmt.Errorf("publish to nats: %w", err))
	}
	select {
	case t.sem <- struct{}{}:
	case <-ctx.Done():
		return fail(fmt.Errorf("publish to nats: %w", ctx.Err()))
	}
	defer func() { <-t.sem }()

	if err := t.notConnected(); err != nil {
		return fail(err)
	}
	if t.js != nil {
		if err := t.ensureStream(ctx); err != nil {
			return fail(err)
		}
	}
	if t.guard != nil {
		// Open the guarded connection for the batch's messages under the relay's lease
		// term (nil: none).
		t.guard.enter(gen, leaseTermOf(ctx))
		guarded = true
	}

	if t.js == nil {
		var answered bool
		answered, whole = t.publishCore(ctx, events, errs, gen)
		leave(answered)
		return func() []error { return finishBatch(events, errs) }
	}
	// Two batches may be in flight (the relay sends the next before awaiting this
	// one): beyond half the async limit, a publish would stall, so await here.
	if 2*len(events) > t.cfg.maxPending {
		var answered bool
		answered, whole = t.publishJetStream(ctx, events, errs, gen)
		leave(answered)
		return func() []error { return finishBatch(events, errs) }
	}
	var awaitAcks func() bool
	awaitAcks, whole = t.sendJetStream(ctx, events, errs, gen)
	if !whole {
		pass.spoil() // at once: the relay may start the next batch before awaiting this one
	}
	return func() []error {
		leave(awaitAcks())
		return finishBatch(events, errs)
	}
}

// PipelineDepth implements [OrderedPipeline]: in JetStream mode, on a connection
// whose reconnect buffer is off (nats.ReconnectBufSize(-1), as [DialNATS] sets it),
// as many batches as the max pending setting holds; otherwise 1. With a reconnect
// buffer, publishes made while reconnecting would reach the new connection after
// the relay had been told they failed, so no promise can be made.
func (t *NATSTransport) PipelineDepth(batchSize int) int {
	if t.js == nil || batchSize < 1 || t.nc.Opts.ReconnectBufSize >= 0 {
		return 1
	}
	return max(1, t.cfg.maxPending/batchSize)
}

// generation identifies the current connection: the guard's count of dialed
// connections, or without a guard the reconnect count.
func (t *NATSTransport) generation() uint64 {
	if t.guard != nil {
		return t.guard.generation()
	}
	return t.nc.Stats().Reconnects
}

// notOnConn returns an Unavailable error unless the connection is CONNECTED and is
// still the one of generation gen: a message must never go out on a newer
// connection than the batch's. nats.go offers no atomic "publish only on this
// connection": a reconnect that completed entirely between this check and the
// publish call right after it would slip through, unless the connection is guarded
// (DialNATS), whose guard refuses the write on the new connection.
func (t *NATSTransport) notOnConn(gen uint64) error {
	if err := t.notConnected(); err != nil {
		return err
	}
	if t.generation() != gen {
		return Unavailable(fmt.Errorf("publish to nats: %w: the connection was replaced during the batch", nats.ErrDisconnected))
	}
	return nil
}

// nextMessage builds ev's message, valid until the next call, unless it must not be
// sent: it cannot be encoded (Permanent), the relay's lease is ending (or Stop's
// context), or the connection of generation gen is gone (nothing more of the batch
// goes out, on any connection). to names the destination in errors.
func (t *NATSTransport) nextMessage(ctx context.Context, ev *Event, gen uint64, to string) (*nats.Msg, error) {
	m, err := t.build.build(t, ev)
	switch {
	case err != nil:
		return nil, err
	case ctx.Err() != nil:
		return nil, fmt.Errorf("publish event %d (%s) to %s: %w", ev.ID, ev.Name, to, ctx.Err())
	}
	if err := t.notOnConn(gen); err != nil {
		return nil, err
	}
	return m, nil
}

// publishCore publishes events with core NATS on the connection of generation gen,
// skipping events whose entity already failed, then proves delivery with one flush.
// It reports whether the server answered for everything sent (the flush returned),
// and whether every event was handed to nats.go (see handedWhole).
func (t *NATSTransport) publishCore(ctx context.Context, events []*Event, errs []error, gen uint64) (answered, whole bool) {
	var hold HoldBack
	sent := make([]bool, len(events))
	nsent := 0
	for i, ev := range events {
		if errs[i] = hold.Check(ev); errs[i] != nil {
			continue
		}
		if m, err := t.nextMessage(ctx, ev, gen, "nats"); err != nil {
			errs[i] = err
		} else if err := t.nc.PublishMsg(m); err != nil {
			errs[i] = t.classify(ctx, fmt.Errorf("publish event %d (%s) to nats: %w", ev.ID, ev.Name, err), nil)
		}
		if errs[i] != nil {
			hold.Fail(ev, errs[i])
			continue
		}
		sent[i] = true
		nsent++
	}
	whole = handedWhole(errs, func(i int) bool { return sent[i] })
	if nsent == 0 {
		return true, whole
	}
	fctx, cancel := context.WithTimeout(ctx, t.cfg.publishTimeout)
	defer cancel()
	if err := t.nc.FlushWithContext(fctx); err != nil {
		// Unless the connection is gone, the batch may still sit in nats.go's buffer.
		answered = errors.Is(err, nats.ErrConnectionClosed) || errors.Is(err, nats.ErrDisconnected) ||
			errors.Is(err, nats.ErrConnectionReconnecting)
		var ferr error
		if ctx.Err() != nil {
			ferr = fmt.Errorf("flush nats: %w", ctx.Err())
		} else {
			// Outcome unknown: the server may have some of the batch.
			ferr = Unavailable(fmt.Errorf("flush nats (batch of %d not confirmed): %w", nsent, err))
		}
		for i := range sent {
			if sent[i] {
				errs[i] = ferr
			}
		}
		return answered, whole
	}
	return true, whole
}

// WaitAvailable blocks until the connection is CONNECTED (and, in JetStream mode,
// JetStream answers), returning at once if it already is. It returns ctx's error when
// ctx ends first, and an error at once if the connection is closed: a closed
// *nats.Conn never reconnects, so the caller must make a new one.
func (t *NATSTransport) WaitAvailable(ctx context.Context) error {
	ch := t.nc.StatusChanged(nats.CONNECTED, nats.CLOSED)
	defer t.nc.RemoveStatusListener(ch)
	// Status events are dropped when a listener's buffer is full; the ticker is a
	// safety net so that a missed event cannot block forever.
	tick := time.NewTicker(jsReadyPoll)
	defer tick.Stop()
	for {
		switch t.nc.Status() {
		case nats.CONNECTED:
			if t.js == nil || t.jetStreamReady(ctx) {
				return nil
			}
		case nats.CLOSED:
			return fmt.Errorf("wait for nats: %w: the connection will not reconnect; create a new one", nats.ErrConnectionClosed)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for nats: %w", ctx.Err())
		case <-ch:
		case <-tick.C:
		}
	}
}

// notConnected returns an Unavailable error unless the connection is CONNECTED.
// Publishing while reconnecting would only fill the reconnect buffer (and duplicate
// core messages after the relay re-sends), so a batch is refused up front.
func (t *NATSTransport) notConnected() error {
	switch st := t.nc.Status(); st {
	case nats.CONNECTED:
		return nil
	case nats.CLOSED:
		return Unavailable(fmt.Errorf("publish to nats: %w", nats.ErrConnectionClosed))
	default:
		return Unavailable(fmt.Errorf("publish to nats: %w (connection %s)", nats.ErrDisconnected, strings.ToLower(st.String())))
	}
}

// readyMemo remembers one JetStream readiness probe for the rest of a batch, so that
// a batch of events all failing with "no responders" costs one probe, not one each.
type readyMemo struct {
	probed, ready bool
}

func (t *NATSTransport) jetStreamReadyMemo(ctx context.Context, memo *readyMemo) bool {
	if memo == nil {
		return t.jetStreamReady(ctx)
	}
	if !memo.probed {
		memo.probed, memo.ready = true, t.jetStreamReady(ctx)
	}
	return memo.ready
}

// jsErrCodeHeaderExceedsMaximum is JetStream's "header size exceeds maximum allowed"
// (nats.go names no constant for it): resending the same message cannot help.
const jsErrCodeHeaderExceedsMaximum jetstream.ErrorCode = 10097

// classify marks a publish or ack error with its class; see NATSTransport. memo may
// be nil.
func (t *NATSTransport) classify(ctx context.Context, err error, memo *readyMemo) error {
	var apiErr *jetstream.APIError
	switch {
	case errors.Is(err, nats.ErrMaxPayload),
		errors.Is(err, nats.ErrBadSubject),
		errors.Is(err, jetstream.ErrStreamMessageExceedsMaximum):
		return Permanent(err)
	case errors.As(err, &apiErr):
		switch {
		case apiErr.ErrorCode == jetstream.JSErrCodeStreamMessageExceedsMaximum,
			apiErr.ErrorCode == jsErrCodeHeaderExceedsMaximum:
			return Permanent(err)
		case apiErr.Code == 503:
			return Unavailable(err)
		}
		return err
	case errors.Is(err, nats.ErrDisconnected),
		errors.Is(err, errWriteFenced),
		errors.Is(err, nats.ErrConnectionClosed),
		errors.Is(err, nats.ErrConnectionReconnecting),
		errors.Is(err, nats.ErrConnectionDraining),
		errors.Is(err, nats.ErrReconnectBufExceeded),
		errors.Is(err, nats.ErrTimeout),
		errors.Is(err, jetstream.ErrAsyncPublishTimeout),
		errors.Is(err, jetstream.ErrTooManyStalledMsgs),
		isNetworkError(err):
		return Unavailable(err)
	case errors.Is(err, jetstream.ErrNoStreamResponse), errors.Is(err, nats.ErrNoResponders):
		if t.nc.Status() != nats.CONNECTED || (t.js != nil && !t.jetStreamReadyMemo(ctx, memo)) {
			return Unavailable(err)
		}
		return fmt.Errorf("%w: no stream captures the subject; create one or use edgeoutbox.WithEnsureStream", err)
	}
	if t.nc.Status() != nats.CONNECTED {
		return Unavailable(err)
	}
	return err
}

// jetStreamReady reports whether JetStream answers an account-info request. Only
// "nobody answered" counts as not ready; an answer that JetStream is not enabled is a
// configuration problem that waiting will not fix, so it counts as ready and the
// publish fails with a countable error instead.
func (t *NATSTransport) jetStreamReady(ctx context.Context) bool {
	probeTimeout := min(t.cfg.publishTimeout, 2*time.Second)
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	_, err := t.js.AccountInfo(pctx)
	if err == nil {
		return true
	}
	var apiErr *jetstream.APIError
	switch {
	case errors.Is(err, nats.ErrNoResponders),
		errors.Is(err, nats.ErrTimeout),
		errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, nats.ErrDisconnected),
		errors.Is(err, nats.ErrConnectionReconnecting):
		return false
	case errors.As(err, &apiErr) && apiErr.Code == 503 &&
		apiErr.ErrorCode != jetstream.JSErrCodeJetStreamNotEnabled &&
		apiErr.ErrorCode != jetstream.JSErrCodeJetStreamNotEnabledForAccount:
		return false
	}
	return true
}

// finishBatch enforces the per-entity rule over the results (an event published
// after an earlier failure of its entity is reported held back) and returns nil when
// every event succeeded.
func finishBatch(events []*Event, errs []error) []error {
	var hold HoldBack
	return hold.Settle(events, errs)
}

// validSubject checks a publish subject: non-empty dot-separated tokens without
// wildcards or whitespace.
func validSubject(s string) error {
	if s == "" {
		return errors.New("empty subject")
	}
	for _, tok := range strings.Split(s, ".") {
		switch {
		case tok == "":
			return errors.New("empty subject token")
		case tok == "*" || tok == ">":
			return errors.New("wildcard in publish subject")
		case strings.ContainsAny(tok, " \t\r\n"):
			return errors.New("whitespace in subject")
		}
	}
	return nil
}

// isNetworkError reports a socket failure (broken pipe, reset, refused, EOF): the
// connection is going down even if its status has not caught up yet.
func isNetworkError(err error) bool {
	var opErr *net.OpError
	return errors.As(err, &opErr) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}
