package edgeoutbox

import "context"

// Transport delivers events to a broker. Publish returns nil only when the broker has
// the event (as far as the transport can tell). Mark connectivity problems with
// Unavailable (no attempt is counted; the relay waits) and hopeless events with
// Permanent (dead-lettered at once); any other error counts an attempt and is retried
// with backoff.
//
// The *Event belongs to the relay: a transport must not keep it, or its Payload and
// Metadata, once Publish (or a batch's wait) has returned; copy what it needs. The
// relay lets go of an event's payload as soon as its outcome is known.
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
// two batches are in flight, and two batches in flight share no entity, unless the
// transport is an [OrderedPipeline].
type PipelinedTransport interface {
	BatchTransport
	StartBatch(ctx context.Context, events []*Event) (wait func() []error)
}

// OrderedPipeline is optionally implemented by a PipelinedTransport that promises
// in-order delivery over one connection: the broker handles a batch only after every
// batch sent before it on the same connection, so a later event of an entity can
// reach the broker only after the broker has decided the fate of its earlier one.
// The relay then keeps up to PipelineDepth batches in flight even when they share
// entities, which keeps a long round trip full.
//
// The promise needs a fence. Batches started while an earlier one is not yet awaited
// form an epoch; within it, StartBatch may hand a batch to the connection only if
// every earlier batch of the epoch was handed whole to that same connection. Once a
// batch could not be (the connection was down or replaced, a message failed on the
// client side, the context ended, anything short of the broker's own answer), every
// later batch of the epoch must fail as Unavailable, sending nothing, until all of
// them have been awaited; nothing queued for an old connection may be sent on a new
// one. The relay awaits every batch in flight before it claims again after a
// failure, so the next epoch re-sends the failed events first.
type OrderedPipeline interface {
	PipelinedTransport
	// PipelineDepth returns how many batches of batchSize events may be in flight at
	// once (1: the transport cannot keep its promise now, e.g. its connection buffers
	// publishes across reconnects).
	PipelineDepth(batchSize int) int
}
