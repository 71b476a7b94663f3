package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
)

// pageSize is how many events a list page shows.
const pageSize = 50

// filterForm is the data of the filter form partial.
type filterForm struct {
	Path       string
	F          filter
	ShowStatus bool
	Active     bool
	Names      []string
}

// pager is the data of the newer/older links: addresses, "" when there is no such page.
type pager struct{ Newer, Older string }

// eventsPage is the data of the events list.
type eventsPage struct {
	Form     filterForm
	Problems []string
	Events   []*edgeoutbox.StoredEvent
	Pager    pager
	PageSize int
}

// events lists events newest first, filtered by the query, one keyset page at a time.
func (h *handler) events(w http.ResponseWriter, r *http.Request) {
	f, problems := parseFilter(r.URL.Query())
	p := eventsPage{Problems: problems, PageSize: pageSize,
		Form: filterForm{Path: "events", F: f, ShowStatus: true, Active: f.active(), Names: h.eventNames()}}
	status := http.StatusOK
	if len(problems) > 0 {
		status = http.StatusBadRequest
	}
	var err error
	p.Events, p.Pager, err = h.page(r.Context(), f, f, "events")
	if err != nil {
		p.Problems = append(p.Problems, err.Error())
		status = http.StatusInternalServerError
	}
	h.render(w, r, status, "events", p)
}

// page reads one page of events for f: the newest, the one before f.Before or the one
// after f.After. It reads one row more than it shows, to know whether there is more.
// The pager's links carry links' conditions (what the page's address shows).
func (h *handler) page(ctx context.Context, f, links filter, path string) ([]*edgeoutbox.StoredEvent, pager, error) {
	var pg pager
	evs, err := listEvents(ctx, h.engine, f, pageSize+1)
	if err != nil {
		return nil, pg, err
	}
	// Newest first on screen, whichever way the page was read.
	sort.Slice(evs, func(i, j int) bool { return evs[i].ID > evs[j].ID })
	more := len(evs) > pageSize
	switch {
	case more && f.After > 0:
		evs = evs[1:] // the extra row is the newest: it starts the next newer page
	case more:
		evs = evs[:pageSize]
	}
	link := func(query string) string {
		if query == "" {
			return h.url(path)
		}
		return h.url(path) + "?" + query
	}
	if len(evs) == 0 {
		if f.Before > 0 || f.After > 0 {
			pg.Newer = link(links.query().Encode()) // back to the newest page
		}
		return evs, pg, nil
	}
	newest, oldest := evs[0].ID, evs[len(evs)-1].ID
	if f.Before > 0 || (f.After > 0 && more) {
		pg.Newer = link(links.withPage("after", newest))
	}
	if more || f.After > 0 {
		pg.Older = link(links.withPage("before", oldest))
	}
	return evs, pg, nil
}

// eventNames lists the schema's events, for the filter's suggestions.
func (h *handler) eventNames() []string {
	if s := h.engine.Schema(); s != nil {
		return s.Events()
	}
	return nil
}

// eventPage is the data of the event detail.
type eventPage struct {
	Ev          *edgeoutbox.StoredEvent
	Payload     string
	Metadata    []keyValue
	Latency     time.Duration
	Fingerprint string
	Retried     bool
}

type keyValue struct{ Key, Value string }

// event shows one event: delivery state, identity, and payload and metadata as text
// (html/template escapes them, so markup in a payload shows as written).
func (h *handler) event(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.fail(w, r, http.StatusNotFound, "Event ids are positive whole numbers.")
		return
	}
	ev, err := h.engine.GetEvent(r.Context(), id)
	if errors.Is(err, edgeoutbox.ErrNotFound) {
		h.fail(w, r, http.StatusNotFound, "There is no event "+strconv.FormatInt(id, 10)+" in the outbox (it may have been cleaned up).")
		return
	}
	if err != nil {
		h.fail(w, r, http.StatusInternalServerError, err.Error())
		return
	}
	p := eventPage{Ev: ev, Payload: prettyJSON(ev.Payload), Retried: r.URL.Query().Get("retried") == "1"}
	for k, v := range ev.Metadata {
		p.Metadata = append(p.Metadata, keyValue{k, v})
	}
	sort.Slice(p.Metadata, func(i, j int) bool { return p.Metadata[i].Key < p.Metadata[j].Key })
	if ev.PublishedAt != nil {
		p.Latency = ev.PublishedAt.Sub(ev.CreatedAt)
	}
	if s := h.engine.Schema(); s != nil {
		for _, v := range s.Versions(ev.Name) {
			if v.Version == ev.Version {
				p.Fingerprint = v.Fingerprint
			}
		}
	}
	h.render(w, r, http.StatusOK, "event", p)
}

// prettyJSON indents a JSON document; anything that is not JSON is shown as it is.
func prettyJSON(raw []byte) string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return string(raw)
	}
	return buf.String()
}
