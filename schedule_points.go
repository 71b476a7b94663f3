package edgeoutbox

// schedPoint names a place where the relay's goroutines wait on one another or on
// the outside world: a claim, a send, an ack, a recording, a lease renewal. The
// schedule explorer (order_explorer_test.go) injects seeded delays there to search
// the interleavings that per-entity order must survive; in production nothing is
// set and a point costs one nil check.
type schedPoint string

// The await points of the relay, in the order a batch meets them.
const (
	schedClaim     schedPoint = "claim"      // before a batch is claimed (or prefetched)
	schedSend      schedPoint = "send"       // before a batch is handed to the transport
	schedLand      schedPoint = "land"       // before a batch's outcome is awaited
	schedRecord    schedPoint = "record"     // before landed outcomes are written
	schedLease     schedPoint = "lease"      // before the lease is taken or renewed
	schedLeaseNews schedPoint = "lease-news" // after a lease attempt, before the fence moves
)

// yieldAt calls the engine's schedule hook, if a test set one.
func (e *Engine) yieldAt(p schedPoint) {
	if e.sched != nil {
		e.sched(p)
	}
}
