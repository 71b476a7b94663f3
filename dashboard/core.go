package dashboard

// This file is the one place that calls the engine's query and retry API, so the
// dashboard follows the core's changes here alone.

import (
	"context"
	"errors"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
)

// throughputPoint is one minute of the throughput chart.
type throughputPoint struct {
	Minute                  time.Time
	Published, DeadLettered int64
}

// relayState is this process's relay.
type relayState struct {
	Running, HoldsLease, TransportOnline bool
	LastError                            string
	LastPublishAt                        time.Time
}

// coreFilter turns the page's filter into the engine's.
func coreFilter(f filter, limit int) edgeoutbox.EventFilter {
	return edgeoutbox.EventFilter{Status: f.Status, Name: f.Name, BeforeID: f.Before, Limit: limit}
}

func listEvents(ctx context.Context, e *edgeoutbox.Engine, f filter, limit int) ([]*edgeoutbox.StoredEvent, error) {
	return e.ListEvents(ctx, coreFilter(f, limit))
}

func throughput(ctx context.Context, e *edgeoutbox.Engine, since time.Time) ([]throughputPoint, error) {
	return nil, nil
}

func relayOf(e *edgeoutbox.Engine) relayState { return relayState{} }

// retryDeadLetters makes the given dead letters pending again and counts them.
func retryDeadLetters(ctx context.Context, e *edgeoutbox.Engine, ids []int64) (int64, error) {
	var n int64
	for _, id := range ids {
		err := e.RetryDeadLetter(ctx, id)
		switch {
		case err == nil:
			n++
		case errors.Is(err, edgeoutbox.ErrNotFound):
		default:
			return n, err
		}
	}
	return n, nil
}

// retryMatching makes every dead letter f matches pending again and counts them.
func retryMatching(ctx context.Context, e *edgeoutbox.Engine, f filter) (int64, error) {
	return e.RetryAllDeadLetters(ctx)
}
