package dashboard

// This file is the one place that calls the engine's query and retry API, so the
// dashboard follows the core's changes here alone.

import (
	"context"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
)

// throughputPoint is one minute of the throughput chart.
type throughputPoint = edgeoutbox.ThroughputPoint

// relayState is this process's relay.
type relayState = edgeoutbox.RelayState

// coreFilter turns the page's filter into the engine's; every combination is served by
// an index.
func coreFilter(f filter, limit int) edgeoutbox.EventFilter {
	return edgeoutbox.EventFilter{
		Status:         f.Status,
		Name:           f.Name,
		EntityClass:    f.EntityClass,
		EntityID:       f.EntityID,
		IdempotencyKey: f.Key,
		CreatedFrom:    f.From,
		CreatedTo:      f.To,
		BeforeID:       f.Before,
		AfterID:        f.After,
		Limit:          limit,
	}
}

func listEvents(ctx context.Context, e *edgeoutbox.Engine, f filter, limit int) ([]*edgeoutbox.StoredEvent, error) {
	return e.ListEvents(ctx, coreFilter(f, limit))
}

func throughput(ctx context.Context, e *edgeoutbox.Engine, since time.Time) ([]throughputPoint, error) {
	return e.Throughput(ctx, since)
}

func relayOf(e *edgeoutbox.Engine) relayState { return e.RelayState() }

// retryDeadLetters makes the given dead letters pending again, in one transaction, and
// counts them; ids that are no longer dead letters are skipped.
func retryDeadLetters(ctx context.Context, e *edgeoutbox.Engine, ids []int64) (int64, error) {
	return e.RetryDeadLetters(ctx, ids)
}

// retryMatching makes every dead letter f matches pending again, in one transaction,
// and counts them.
func retryMatching(ctx context.Context, e *edgeoutbox.Engine, f filter) (int64, error) {
	return e.RetryDeadLettersMatching(ctx, coreFilter(f, 0))
}

// countDeadLetters counts the dead letters f matches, up to limit (at most 1000, the
// engine's page): more reports that there are more than that.
func countDeadLetters(ctx context.Context, e *edgeoutbox.Engine, f filter, limit int) (n int, more bool, err error) {
	f.Status = edgeoutbox.StatusDeadLettered
	f.Before, f.After = 0, 0
	evs, err := e.ListEvents(ctx, coreFilter(f, limit+1))
	if err != nil {
		return 0, false, err
	}
	return min(len(evs), limit), len(evs) > limit, nil
}
