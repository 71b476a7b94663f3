package edgeoutbox

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// publishJetStream publishes msgs asynchronously in chunks of at most maxPending and
// waits for every ack of a chunk before the next. Each future is judged on its own: a
// disconnect fails every pending ack with nats.ErrDisconnected although the server
// may have stored some of them, which is why Nats-Msg-Id must be stable per event.
// It reports whether every message sent got an answer, and whether every message was
// handed to nats.go (see sendJetStream).
func (t *NATSTransport) publishJetStream(ctx context.Context, events []*Event, msgs []*nats.Msg, errs []error, gen uint64) (answered, whole bool) {
	answered, whole = true, true
	for start := 0; start < len(msgs); start += t.cfg.maxPending {
		end := min(start+t.cfg.maxPending, len(msgs))
		await, chunkWhole := t.sendJetStream(ctx, events[start:end], msgs[start:end], errs[start:end], gen)
		if !await() {
			answered = false
		}
		whole = whole && chunkWhole
	}
	return answered, whole
}

// sendJetStream sends at most maxPending messages asynchronously on the connection of
// generation gen, skipping events whose entity already failed, and returns a function
// that awaits every ack and fills in errs. Nothing waits for an ack before it returns.
// awaitAcks reports whether every message sent got an answer that proves nats.go
// wrote it or dropped it with its connection: false when an ack was given up on (the
// context ended, or the async publish timed out), since the message may then still
// sit in nats.go's buffer. whole reports whether every message was handed to nats.go
// (see handedWhole).
func (t *NATSTransport) sendJetStream(ctx context.Context, events []*Event, msgs []*nats.Msg, errs []error, gen uint64) (awaitAcks func() (answered bool), whole bool) {
	var pubOpts []jetstream.PublishOpt
	if t.cfg.stream != nil {
		pubOpts = append(pubOpts, jetstream.WithExpectStream(t.cfg.stream.Name))
	}
	memo := new(readyMemo)
	var hold HoldBack
	futures := make([]jetstream.PubAckFuture, len(msgs))
	for i := range msgs {
		if errs[i] != nil {
			hold.Fail(events[i], errs[i])
			continue
		}
		if errs[i] = hold.Check(events[i]); errs[i] != nil {
			continue
		}
		if err := ctx.Err(); err != nil {
			// The relay's lease is ending (or Stop's context): send nothing more.
			errs[i] = fmt.Errorf("publish event %d (%s) to jetstream: %w", events[i].ID, events[i].Name, err)
			hold.Fail(events[i], errs[i])
			continue
		}
		if err := t.notOnConn(gen); err != nil {
			// Lost the connection mid-batch: send nothing more of it, on any connection.
			errs[i] = err
			hold.Fail(events[i], err)
			continue
		}
		f, err := t.js.PublishMsgAsync(msgs[i], pubOpts...)
		if err != nil {
			errs[i] = t.classify(ctx, fmt.Errorf("publish event %d (%s) to jetstream: %w", events[i].ID, events[i].Name, err), memo)
			hold.Fail(events[i], errs[i])
			continue
		}
		futures[i] = f
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
