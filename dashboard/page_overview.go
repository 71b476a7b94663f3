package dashboard

import (
	"html/template"
	"net/http"
	"net/url"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
)

// overviewPage is the data of the overview.
type overviewPage struct {
	Now                     time.Time
	Stats                   edgeoutbox.Stats
	StatsErr                string
	Lease                   *edgeoutbox.LeaseInfo
	LeaseErr                string
	Relay                   relayState
	LastPublish             time.Time
	Chart                   template.HTML
	HourPublished, HourDead int64
	Schema                  []schemaRow
	SchemaFile              string
}

// schemaRow is one event of the loaded schema.
type schemaRow struct {
	Name, Type, Fingerprint string
	Versions                []int
	Query                   string // events list filtered to this event
}

// overview shows counts, latency, the relay, throughput and the schema. It reads the
// cached counters, the lease row and at most 60 per-minute rows: nothing that grows
// with the outbox.
func (h *handler) overview(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	now := time.Now().UTC()
	p := overviewPage{Now: now}
	var err error
	if p.Stats, err = h.stats.get(ctx); err != nil {
		p.StatsErr = err.Error()
	}
	if p.Lease, err = h.engine.Lease(ctx); err != nil {
		p.LeaseErr = err.Error()
	}
	p.Relay = relayOf(h.engine)
	p.LastPublish = p.Stats.LastPublishedAt
	if p.Relay.LastPublishAt.After(p.LastPublish) {
		p.LastPublish = p.Relay.LastPublishAt
	}
	since := now.Truncate(time.Minute).Add(-59 * time.Minute)
	points, err := throughput(ctx, h.engine, since)
	if err != nil && p.StatsErr == "" {
		p.StatsErr = err.Error()
	}
	for _, pt := range points {
		p.HourPublished += pt.Published
		p.HourDead += pt.DeadLettered
	}
	p.Chart = throughputChart(points, since)
	if s := h.engine.Schema(); s != nil {
		p.SchemaFile = s.File()
		for _, name := range s.Events() {
			row := schemaRow{Name: name, Fingerprint: s.Fingerprint(name), Query: url.Values{"name": {name}}.Encode()}
			for _, v := range s.Versions(name) {
				row.Versions = append(row.Versions, v.Version)
				row.Type = v.Type
			}
			p.Schema = append(p.Schema, row)
		}
	}
	h.render(w, r, http.StatusOK, "overview", p)
}
