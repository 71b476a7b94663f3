package cloud

import (
	"context"

	"github.com/edgeoutbox/edgeoutbox"
)

// Engine is what the reporter reads from the outbox; *edgeoutbox.Engine implements it.
type Engine interface {
	Observe(edgeoutbox.Observer) (remove func())
	Stats(context.Context) (edgeoutbox.Stats, error)
	Schema() *edgeoutbox.Schema
	RelayState() edgeoutbox.RelayState
}

var _ Engine = (*edgeoutbox.Engine)(nil)

// observer copies each observation into the reporter's ring: no I/O, no blocking.
type observer struct{ r *Reporter }

// Observe implements the engine's Observer.
func (o observer) Observe(ob edgeoutbox.Observation) {
	e := Entry{
		Name: ob.Name, Type: ob.Type, Version: ob.Version, EventID: ob.EventID,
		Attempts: ob.Attempts, ErrorClass: ob.ErrorClass,
		OccurredAt: ob.OccurredAt, CreatedAt: ob.CreatedAt, At: ob.At,
	}
	switch ob.Kind {
	case edgeoutbox.ObservedEmitted:
		e.Status = StatusEmitted
	case edgeoutbox.ObservedPublished:
		e.Status = StatusPublished
		e.PublishLatencyMS = float64(ob.Latency.Microseconds()) / 1000
	case edgeoutbox.ObservedPublishFailed:
		e.Status = StatusPublishFailed
	case edgeoutbox.ObservedDeadLettered:
		e.Status = StatusDeadLettered
	default:
		return
	}
	o.r.add(e)
}

// relayOf reads the relay state for the heartbeat.
func relayOf(eng Engine) Relay {
	s := eng.RelayState()
	return Relay{Running: s.Running, HoldsLease: s.HoldsLease, TransportOnline: s.TransportOnline}
}
