// Package coreshim is a temporary stand-in for the core API of issue 9 (Observer,
// Observation, RelayState) so that the cloud and metrics packages compile before it
// lands on main. It is deleted on the rebase; nothing here is implemented.
package coreshim

import "time"

// Observer mirrors edgeoutbox.Observer.
type Observer interface{ Observe(Observation) }

// ObservationKind mirrors edgeoutbox.ObservationKind.
type ObservationKind int

// Kinds mirror the edgeoutbox constants.
const (
	ObservedEmitted ObservationKind = iota + 1
	ObservedPublished
	ObservedPublishFailed
	ObservedDeadLettered
)

// Observation mirrors edgeoutbox.Observation.
type Observation struct {
	Kind                  ObservationKind
	Name, Type            string
	Version               int
	EventID               int64
	Attempts              int
	ErrorClass            string
	OccurredAt, CreatedAt time.Time
	At                    time.Time
	Latency               time.Duration
}

// RelayState mirrors edgeoutbox.RelayState.
type RelayState struct {
	Running         bool
	HoldsLease      bool
	TransportOnline bool
	LastError       string
	LastPublishAt   time.Time
}
