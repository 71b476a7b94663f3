package natstest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// StreamMessage is one stored message of a stream.
type StreamMessage struct {
	Sequence uint64
	Subject  string
	Header   nats.Header
	Data     []byte
}

// ReadStream returns every message stored in stream, in sequence order, read with
// direct gets by sequence so no consumer is left behind. It fails when ctx ends first.
func ReadStream(ctx context.Context, nc *nats.Conn, stream string) ([]StreamMessage, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("stream %s info: %w", stream, err)
	}
	out := make([]StreamMessage, 0, info.State.Msgs)
	if info.State.Msgs == 0 {
		return out, nil
	}
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return nil, fmt.Errorf("stream %s: ordered consumer: %w", stream, err)
	}
	for uint64(len(out)) < info.State.Msgs {
		batch, err := cons.FetchNoWait(int(min(info.State.Msgs-uint64(len(out)), 1000)))
		if err != nil {
			return nil, fmt.Errorf("stream %s: fetch: %w", stream, err)
		}
		got := 0
		for m := range batch.Messages() {
			md, err := m.Metadata()
			if err != nil {
				return nil, err
			}
			out = append(out, StreamMessage{Sequence: md.Sequence.Stream, Subject: m.Subject(), Header: m.Headers(), Data: m.Data()})
			got++
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			return nil, fmt.Errorf("stream %s: fetch: %w", stream, err)
		}
		if got == 0 {
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("stream %s: read %d of %d messages: %w", stream, len(out), info.State.Msgs, ctx.Err())
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	return out, nil
}
