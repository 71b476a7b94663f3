package cloud

import (
	"context"
	"time"
)

// heartbeat reads the schema, the outbox counters and the relay state. A failed read
// of the counters is flagged, not fatal: the heartbeat still says the device is alive.
func (r *Reporter) heartbeat(ctx context.Context, now time.Time) *Envelope {
	hb := &Heartbeat{Schema: r.schema(), Relay: relayOf(r.eng), Reporter: r.Health()}
	sctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	if st, err := r.eng.Stats(sctx); err != nil {
		hb.StatsError = true
		r.log.Debug().Err(err).Msg("cloud heartbeat without outbox counters")
	} else {
		hb.Counts = Counts{Pending: st.Pending, Published: st.Published, DeadLettered: st.DeadLettered}
		hb.OldestPendingAgeMS = float64(st.OldestPendingAge.Microseconds()) / 1000
		hb.OutboxBytes = st.OutboxBytes
	}
	return &Envelope{
		WireVersion: WireVersion, Kind: KindHeartbeat, BatchID: newBatchID(), CreatedAt: now.UTC(),
		Origin: r.origin(), DroppedTotal: hb.Reporter.DroppedTotal, Heartbeat: hb,
	}
}

// schema lists every event of the engine's schema with its versions and fingerprints.
func (r *Reporter) schema() []SchemaEvent {
	s := r.eng.Schema()
	if s == nil {
		return []SchemaEvent{}
	}
	names := s.Events()
	out := make([]SchemaEvent, 0, len(names))
	for _, name := range names {
		ev := SchemaEvent{Name: name}
		for _, v := range s.Versions(name) {
			ev.Versions = append(ev.Versions, SchemaVersion{Version: v.Version, Type: v.Type, Fingerprint: v.Fingerprint})
		}
		out = append(out, ev)
	}
	return out
}
