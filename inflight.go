package edgeoutbox

// DefaultMaxInFlightBytes is the default of Config.MaxInFlightBytes.
const DefaultMaxInFlightBytes = 2 << 20

// eventOverhead is what an event costs the relay besides its payload and metadata:
// the Event itself, its strings, the message headers and the transport's
// bookkeeping while it awaits an ack (about 1 KiB with NATS, measured).
const eventOverhead = 1 << 10

// eventCost estimates the memory the relay holds for ev while it is claimed or in
// flight: its payload and metadata, plus eventOverhead. (The transports shipped here
// encode one message at a time into a reused buffer, so the encoded copy does not
// add up over a batch.)
func eventCost(ev *Event) int64 {
	n := int64(len(ev.Payload))
	for k, v := range ev.Metadata {
		n += int64(len(k) + len(v))
	}
	return eventOverhead + n
}

// batchCost is the sum of eventCost over batch.
func batchCost(batch []*Event) int64 {
	var n int64
	for _, ev := range batch {
		n += eventCost(ev)
	}
	return n
}

// landedEventCost is what an event costs the relay once its outcome is known and it
// waits to be recorded: the Event without its payload and metadata, which landing
// drops (see dropBodies).
const landedEventCost = 320

// dropBodies lets the payloads and metadata of a landed batch go: recording an
// outcome needs neither, and a batch may wait for the recorder behind several others.
func dropBodies(batch []*Event) int64 {
	for _, ev := range batch {
		ev.Payload, ev.Metadata = nil, nil
	}
	return int64(len(batch)) * landedEventCost
}

// maxBatchCost is the most one claimed batch may cost: a quarter of the in-flight
// budget, so that a few batches fit in it whatever the payloads' size. A batch holds
// at least one event, however large.
func (e *Engine) maxBatchCost() int64 { return e.cfg.MaxInFlightBytes / 4 }

// flightWindow is the relay's window of batches sent whose acks are not yet awaited,
// oldest first, and their cost.
type flightWindow struct {
	flights []*flight
	bytes   int64
}

func (w *flightWindow) len() int { return len(w.flights) }

func (w *flightWindow) push(f *flight) {
	w.flights = append(w.flights, f)
	w.bytes += f.cost
}

// pop removes the oldest flight. Its slot is cleared: a landed flight (its encoded
// messages, its acks) must not stay reachable through the slice's backing array.
func (w *flightWindow) pop() *flight {
	f := w.flights[0]
	w.flights[0] = nil
	w.flights = w.flights[1:]
	w.bytes -= f.cost
	if len(w.flights) == 0 {
		w.flights = nil
	}
	return f
}

// takeAll empties the window and returns its flights, oldest first.
func (w *flightWindow) takeAll() []*flight {
	fs := w.flights
	w.flights, w.bytes = nil, 0
	return fs
}
