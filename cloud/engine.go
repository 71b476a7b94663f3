package cloud

import (
	"context"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/edgeoutbox/edgeoutbox/internal/coreshim"
)

// Engine is what the reporter reads from the outbox; *edgeoutbox.Engine implements it.
type Engine interface {
	Observe(coreshim.Observer) (remove func())
	Stats(context.Context) (edgeoutbox.Stats, error)
	Schema() *edgeoutbox.Schema
	RelayState() coreshim.RelayState
}

// observer copies each observation into the reporter's ring: no I/O, no blocking.
type observer struct{ r *Reporter }

// Observe implements the engine's Observer.
func (o observer) Observe(ob coreshim.Observation) {
	e := Entry{
		Name: ob.Name, Type: ob.Type, Version: ob.Version, EventID: ob.EventID,
		Attempts: ob.Attempts, ErrorClass: ob.ErrorClass,
		OccurredAt: ob.OccurredAt, CreatedAt: ob.CreatedAt, At: ob.At,
	}
	switch ob.Kind {
	case coreshim.ObservedEmitted:
		e.Status = StatusEmitted
	case coreshim.ObservedPublished:
		e.Status = StatusPublished
		e.PublishLatencyMS = float64(ob.Latency.Microseconds()) / 1000
	case coreshim.ObservedPublishFailed:
		e.Status = StatusPublishFailed
	case coreshim.ObservedDeadLettered:
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
