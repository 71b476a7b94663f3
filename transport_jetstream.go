package edgeoutbox

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// publishJetStream publishes events asynchronously in chunks of at most maxPending
// and waits for every ack of a chunk before the next. Each future is judged on its
// own: a disconnect fails every pending ack with nats.ErrDisconnected although the
// server may have stored some of them, which is why Nats-Msg-Id must be stable per
// event. It reports whether every message sent got an answer, and whether every
// event was handed to nats.go (see sendJetStream).
func (t *NATSTransport) publishJetStream(ctx context.Context, events []*Event, errs []error, gen uint64) (answered, whole bool) {
	answered, whole = true, true
	for start := 0; start < len(events); start += t.cfg.maxPending {
		end := min(start+t.cfg.maxPending, len(events))
		await, chunkWhole := t.sendJetStream(ctx, events[start:end], errs[start:end], gen)
		if !await() {
			answered = false
		}
		whole = whole && chunkWhole
	}
	return answered, whole
}

// sendJetStream sends at most maxPending events asynchronously on the connection of
// generation gen, skipping events whose entity already failed, and returns a function
// that awaits every ack and fills in errs. Nothing waits for an ack before it returns.
// awaitAcks reports whether every message sent got an answer that proves nats.go
// wrote it or dropped it with its connection: false when an ack was given up on (the
// context ended, or the async publish timed out), since the message may then still
// sit in nats.go's buffer. whole reports whether every event was handed to nats.go
// (see handedWhole).
func (t *NATSTransport) sendJetStream(ctx context.Context, events []*Event, errs []error, gen uint64) (awaitAcks func() (answered bool), whole bool) {
	// nats.go re-publishes a message answered "no responders" on its own, 250 ms
	// later, after the messages sent since: an entity's earlier event would reach the
	// stream after its later ones. The relay re-sends it instead, in order.
	pubOpts := []jetstream.PublishOpt{jetstream.WithRetryAttempts(0)}
	if t.cfg.stream != nil {
		pubOpts = append(pubOpts, jetstream.WithExpectStream(t.cfg.stream.Name))
	}
	memo := new(readyMemo)
	var hold HoldBack
	futures := make([]jetstream.PubAckFuture, len(events))
	for i, ev := range events {
		if errs[i] = hold.Check(ev); errs[i] != nil {
			continue
		}
		if m, err := t.nextMessage(ctx, ev, gen, "jetstream"); err != nil {
			errs[i] = err
		} else if f, err := t.js.PublishMsgAsync(m, pubOpts...); err != nil {
			errs[i] = t.classify(ctx, fmt.Errorf("publish event %d (%s) to jetstream: %w", ev.ID, ev.Name, err), memo)
		} else {
			futures[i] = f
		}
		if errs[i] != nil {
			hold.Fail(ev, errs[i])
		}
	}
	whole = handedWhole(errs, func(i int) bool { return futures[i] != nil })
	return func() (answered bool) {
		answered = true
		// Acks come back in order: wait for the last one first, so that this goroutine
		// wakes once per batch rather than once per ack; the loop below then finds
		// (almost) every future resolved. A future's channels deliver once, so the
		// first wait's answer is kept for the loop.
		last, lastErr, lastDone := -1, error(nil), false
		for i := len(futures) - 1; i >= 0 && last < 0; i-- {
			if futures[i] == nil {
				continue
			}
			last = i
			select {
			case <-futures[i].Ok():
				lastDone = true
			case lastErr = <-futures[i].Err():
				lastDone = true
			case <-ctx.Done():
			}
		}
		for i, f := range futures {
			if f == nil {
				continue
			}
			var err error
			if i == last && lastDone {
				err = lastErr
			} else {
				select {
				case <-f.Ok():
				case err = <-f.Err():
				case <-ctx.Done():
					answered = false // the message may still sit in nats.go's buffer
					// Outcome unknown; the relay keeps the event and re-sends it later.
					errs[i] = fmt.Errorf("await jetstream ack of event %d (%s): %w", events[i].ID, events[i].Name, ctx.Err())
					hold.Fail(events[i], errs[i])
					continue
				}
			}
			// A duplicate ack (PubAck.Duplicate) is success: the stream has it.
			if err != nil {
				if errors.Is(err, jetstream.ErrAsyncPublishTimeout) {
					answered = false
				}
				errs[i] = t.classify(ctx, fmt.Errorf("publish event %d (%s) to jetstream: %w", events[i].ID, events[i].Name, err), memo)
			}
			hold.Fail(events[i], errs[i])
		}
		return answered
	}, whole
}

// EnsureStream creates the stream configured with WithStream or WithEnsureStream if
// it does not exist, or verifies that the existing stream of that name captures the
// configured subjects (it never changes an existing stream). PublishBatch calls it
// before the first publish; call it at start-up to surface a problem early. It does
// nothing when no stream is configured. A connectivity problem is marked Unavailable.
func (t *NATSTransport) EnsureStream(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cfg.stream == nil || t.streamEnsured {
		return nil
	}
	want := *t.cfg.stream
	s, err := t.js.Stream(ctx, want.Name)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		if _, err := t.js.CreateStream(ctx, want); err != nil {
			return t.streamErr(ctx, fmt.Errorf("create stream %q: %w", want.Name, err))
		}
	case err != nil:
		return t.streamErr(ctx, fmt.Errorf("look up stream %q: %w", want.Name, err))
	default:
		have := s.CachedInfo().Config
		var missing []string
		for _, subj := range want.Subjects {
			if !slices.Contains(have.Subjects, subj) {
				missing = append(missing, subj)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("stream %q exists with subjects %q, not %q: add them to the stream or configure a different stream",
				want.Name, have.Subjects, missing)
		}
	}
	t.streamEnsured = true
	return nil
}

func (t *NATSTransport) ensureStream(ctx context.Context) error {
	if err := t.EnsureStream(ctx); err != nil {
		return fmt.Errorf("publish to jetstream: %w", err)
	}
	return nil
}

// streamErr classes a stream-management error: connectivity (including a JetStream
// that does not answer yet) is Unavailable, anything else a plain error.
func (t *NATSTransport) streamErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return err
	}
	if t.nc.Status() != nats.CONNECTED || !t.jetStreamReady(ctx) {
		return Unavailable(err)
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && apiErr.Code == 503 {
		return Unavailable(err)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) {
		return Unavailable(err)
	}
	return err
}
