package bench

import (
	"context"
	"errors"
	"fmt"

	"github.com/edgeoutbox/edgeoutbox/envelope"
	"github.com/nats-io/nats.go/jetstream"
)

// CheckStreamOrder reads stream EVENTS and checks that it holds n events, each once,
// and that the events of every entity are stored in id (emission) order. It reads every
// message layout.
func CheckStreamOrder(ctx context.Context, js jetstream.JetStream, n int) error {
	s, err := js.Stream(ctx, "EVENTS")
	if err != nil {
		return err
	}
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return fmt.Errorf("read stream: %w", err)
	}
	seen := make(map[int64]bool, n)
	last := map[string]int64{}
	for len(seen) < n {
		batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(5e9))
		if err != nil {
			return fmt.Errorf("read stream: %w", err)
		}
		got := 0
		for m := range batch.Messages() {
			got++
			env, err := envelope.DecodeMessage(m.Headers(), m.Data())
			if err != nil {
				return fmt.Errorf("stream message: %w", err)
			}
			id := env.ID
			if seen[id] {
				return fmt.Errorf("event %d stored twice", id)
			}
			seen[id] = true
			entity := env.Entity.Class + "/" + env.Entity.ID
			if prev := last[entity]; prev > id {
				return fmt.Errorf("entity %s: event %d stored after event %d", entity, id, prev)
			}
			last[entity] = id
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			return fmt.Errorf("read stream: %w", err)
		}
		if got == 0 {
			return fmt.Errorf("stream holds %d distinct events, want %d", len(seen), n)
		}
	}
	info, err := s.Info(ctx)
	if err != nil {
		return err
	}
	if info.State.Msgs != uint64(n) {
		return fmt.Errorf("stream holds %d messages, want %d", info.State.Msgs, n)
	}
	return nil
}
