package edgeoutbox

import (
	"sync/atomic"
	"time"
)

// RelayState is this process's relay as it stands: the zero value when no relay runs
// here. (Lease tells who holds the database file's lease, whichever process it is.)
type RelayState struct {
	// Running: Start was called and Stop has not finished.
	Running bool `json:"running"`
	// HoldsLease: this relay holds the lease and publishes.
	HoldsLease bool `json:"holds_lease"`
	// TransportOnline is false after the transport reported itself unavailable, until
	// a publish goes through again.
	TransportOnline bool `json:"transport_online"`
	// LastError is the last transport or storage error the relay met ("" if none).
	LastError string `json:"last_error,omitempty"`
	// LastPublishAt is when this relay last published an event.
	LastPublishAt time.Time `json:"last_publish_at"`
}

// relayHealth is what the relay's goroutines report for RelayState.
type relayHealth struct {
	offline       atomic.Bool
	lastError     atomic.Pointer[string]
	lastPublishAt atomic.Int64
}

func (h *relayHealth) setError(err error) {
	if err == nil {
		return
	}
	msg := err.Error()
	h.lastError.Store(&msg)
}

// RelayState returns the state of the relay running in this process.
func (e *Engine) RelayState() RelayState {
	e.mu.Lock()
	r := e.relay
	e.mu.Unlock()
	if r == nil {
		return RelayState{}
	}
	s := RelayState{
		Running:         true,
		HoldsLease:      r.holdsLease(),
		TransportOnline: !r.health.offline.Load(),
	}
	if msg := r.health.lastError.Load(); msg != nil {
		s.LastError = *msg
	}
	if at := r.health.lastPublishAt.Load(); at != 0 {
		s.LastPublishAt = time.Unix(0, at).UTC()
	}
	return s
}
