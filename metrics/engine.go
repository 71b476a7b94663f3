package metrics

import (
	"context"

	"github.com/edgeoutbox/edgeoutbox"
)

// Engine is what the metrics read from the outbox; *edgeoutbox.Engine implements it.
type Engine interface {
	Observe(edgeoutbox.Observer) (remove func())
	Stats(context.Context) (edgeoutbox.Stats, error)
	RelayState() edgeoutbox.RelayState
	Schema() *edgeoutbox.Schema
}

var _ Engine = (*edgeoutbox.Engine)(nil)

// observer counts each observation: a map lookup and an atomic add, no I/O.
type observer struct{ m *Metrics }

// Observe implements the engine's Observer.
func (o observer) Observe(ob edgeoutbox.Observation) {
	switch ob.Kind {
	case edgeoutbox.ObservedEmitted:
		o.m.counter(familyEmitted, ob.Name, "").Inc()
	case edgeoutbox.ObservedPublished:
		o.m.counter(familyPublished, ob.Name, "").Inc()
		o.m.latency.Update(ob.Latency.Seconds())
	case edgeoutbox.ObservedPublishFailed:
		o.m.counter(familyFailed, ob.Name, ob.ErrorClass).Inc()
	case edgeoutbox.ObservedDeadLettered:
		o.m.counter(familyDeadLettered, ob.Name, "").Inc()
	}
}

// setRelay copies the relay state into the gauges.
func (m *Metrics) setRelay() {
	s := m.eng.RelayState()
	m.relayRunning.Set(b2f(s.Running))
	m.holdsLease.Set(b2f(s.HoldsLease))
	m.transportOnline.Set(b2f(s.TransportOnline))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
