package kafka

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ErrDestinationBlocked marks a publish the cluster refused for a reason that waiting
// for connectivity will not fix and that an operator must: the producer is not
// authorized (topic, cluster or IDEMPOTENT_WRITE) or the topic does not exist. Such
// an error counts an attempt (retried with backoff, dead-lettered after MaxAttempts)
// and is counted in [Stats].Blocked, so a misconfigured destination is visible
// rather than passing for an outage.
var ErrDestinationBlocked = errors.New("kafka: destination blocked")

// blockedError is an error classed ErrDestinationBlocked.
type blockedError struct{ err error }

func (e *blockedError) Error() string   { return "kafka: destination blocked: " + e.err.Error() }
func (e *blockedError) Unwrap() []error { return []error{ErrDestinationBlocked, e.err} }

// outcome is how the transport classed one event's result.
type outcome int

const (
	outcomePublished outcome = iota
	outcomeUnavailable
	outcomePermanent
	outcomeBlocked
	outcomeFailed // any other error: counted attempt
	outcomeCancelled
)

// classify marks a produce error with its class. parent is the caller's context: its
// end is a cancellation, not an outage; the batch deadline passing is an outage.
func classify(parent context.Context, ev *edgeoutbox.Event, topic string, err error) (error, outcome) {
	if err == nil {
		return nil, outcomePublished
	}
	werr := fmt.Errorf("produce event %d (%s) to kafka topic %q: %w", ev.ID, ev.Name, topic, err)
	switch {
	case errors.Is(err, kerr.TopicAuthorizationFailed),
		errors.Is(err, kerr.ClusterAuthorizationFailed),
		errors.Is(err, kerr.TransactionalIDAuthorizationFailed),
		errors.Is(err, kerr.SaslAuthenticationFailed):
		return &blockedError{fmt.Errorf("%w: grant the producer access (with the idempotent producer: IDEMPOTENT_WRITE on the cluster, or turn it off with kafka.ClientConfig.DisableIdempotency)", werr)}, outcomeBlocked
	case errors.Is(err, kerr.UnknownTopicOrPartition), errors.Is(err, kerr.UnknownTopicID):
		return &blockedError{fmt.Errorf("%w: create the topic or route the event elsewhere with kafka.WithTopic", werr)}, outcomeBlocked
	case errors.Is(err, kerr.MessageTooLarge),
		errors.Is(err, kerr.RecordListTooLarge),
		errors.Is(err, kerr.InvalidRecord),
		errors.Is(err, kerr.PolicyViolation),
		errors.Is(err, kerr.InvalidTopicException),
		errors.Is(err, kerr.InvalidTimestamp),
		errors.Is(err, kerr.UnsupportedForMessageFormat):
		return edgeoutbox.Permanent(werr), outcomePermanent
	case parent.Err() != nil:
		// The relay is stopping: keep the event pending, count nothing.
		return fmt.Errorf("%w (%w)", werr, parent.Err()), outcomeCancelled
	case errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, context.Canceled),
		errors.Is(err, kgo.ErrRecordTimeout),
		errors.Is(err, kgo.ErrRecordRetries),
		errors.Is(err, kgo.ErrMaxBuffered),
		errors.Is(err, kgo.ErrClientClosed),
		kerr.IsRetriable(err),
		isNetworkError(err):
		// Outcome unknown or broker unreachable: the relay waits, counts nothing, and
		// sends the event again once the broker answers.
		return edgeoutbox.Unavailable(werr), outcomeUnavailable
	}
	return werr, outcomeFailed
}

// isNetworkError reports a socket failure (refused, reset, broken pipe, EOF).
func isNetworkError(err error) bool {
	var opErr *net.OpError
	var eof *kgo.ErrFirstReadEOF
	return errors.As(err, &opErr) || errors.As(err, &eof) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}
