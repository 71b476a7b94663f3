package edgeoutbox

import "context"

// Transport delivers events to a broker. Publish returns nil only when the broker has
// the event (as far as the transport can tell). Mark connectivity problems with
// Unavailable (no attempt is counted; the relay waits) and hopeless events with
// Permanent (dead-lettered at once); any other error counts an attempt and is retried
// with backoff.
type Transport interface {
	Publish(ctx context.Context, event *Event) error
}

// BatchTransport is an optional, faster form of Transport. PublishBatch publishes the
// events in slice order and returns either nil (all published) or a slice with one
// error per event (nil where that event was published). Once an event fails, the
// transport should not publish later events of the same entity in that batch; the
// relay keeps those pending without counting an attempt.
type BatchTransport interface {
	Transport
	PublishBatch(ctx context.Context, events []*Event) []error
}

// AvailabilityWaiter is optionally implemented by a transport that knows when it is
// connected. After an Unavailable error the relay calls WaitAvailable and resumes as
// soon as it returns nil; without it the relay probes again after a short pause.
type AvailabilityWaiter interface {
	WaitAvailable(ctx context.Context) error
}

// PipelinedTransport is optionally implemented by a BatchTransport that can send a
// batch before the broker has answered the previous one (JetStream's asynchronous
// publish). StartBatch sends events in order and returns a function that waits for
// the broker's answers and returns what PublishBatch would have. The relay then
// sends the next batch while the acks of the current one are on their way, so the
// broker never idles between batches. Calls to StartBatch are sequential; at most
// two batches are in flight.
type PipelinedTransport interface {
	BatchTransport
	StartBatch(ctx context.Context, events []*Event) (wait func() []error)
}
