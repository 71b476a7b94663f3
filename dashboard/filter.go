package dashboard

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
)

// filter is what a list page shows, read from its GET query so that every view is a
// bookmarkable address.
type filter struct {
	Status      edgeoutbox.Status
	Name        string
	EntityClass string
	EntityID    string
	Key         string
	From, To    time.Time // created_at range, UTC; zero: open
	Before      int64     // keyset: older than this id
	After       int64     // keyset: newer than this id
}

// timeLayouts are the forms a time filter accepts: what <input type="datetime-local">
// sends, with or without seconds, and RFC 3339.
var timeLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339, "2006-01-02"}

// parseFilter reads a filter from a query. Problems are returned as messages for the
// page, one per bad field; the field is then left open.
func parseFilter(q url.Values) (filter, []string) {
	var f filter
	var problems []string
	if s := strings.TrimSpace(q.Get("status")); s != "" {
		st, err := edgeoutbox.ParseStatus(s)
		if err != nil {
			problems = append(problems, fmt.Sprintf("Status %q is not one of pending, published, dead_lettered.", s))
		}
		f.Status = st
	}
	f.Name = strings.TrimSpace(q.Get("name"))
	f.EntityClass = strings.TrimSpace(q.Get("entity_class"))
	f.EntityID = strings.TrimSpace(q.Get("entity_id"))
	f.Key = strings.TrimSpace(q.Get("key"))
	if f.EntityID != "" && f.EntityClass == "" {
		problems = append(problems, fmt.Sprintf("Entity id %q needs its entity class: ids are only unique within a class.", f.EntityID))
		f.EntityID = ""
	}
	for _, t := range []struct {
		param, label string
		dst          *time.Time
	}{{"from", "From", &f.From}, {"to", "To", &f.To}} {
		s := strings.TrimSpace(q.Get(t.param))
		if s == "" {
			continue
		}
		v, ok := parseTime(s)
		if !ok {
			problems = append(problems, fmt.Sprintf("%s %q is not a time: use YYYY-MM-DDTHH:MM (UTC).", t.label, s))
			continue
		}
		*t.dst = v
	}
	for _, p := range []struct {
		param string
		dst   *int64
	}{{"before", &f.Before}, {"after", &f.After}} {
		s := strings.TrimSpace(q.Get(p.param))
		if s == "" {
			continue
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v <= 0 {
			problems = append(problems, fmt.Sprintf("Page marker %s=%q is not an event id.", p.param, s))
			continue
		}
		*p.dst = v
	}
	if f.Before > 0 && f.After > 0 {
		f.After = 0
	}
	return f, problems
}

func parseTime(s string) (time.Time, bool) {
	for _, layout := range timeLayouts {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// query encodes the filter's conditions (not its page marker) as a query.
func (f filter) query() url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("status", string(f.Status))
	set("name", f.Name)
	set("entity_class", f.EntityClass)
	set("entity_id", f.EntityID)
	set("key", f.Key)
	if !f.From.IsZero() {
		q.Set("from", f.From.Format("2006-01-02T15:04"))
	}
	if !f.To.IsZero() {
		q.Set("to", f.To.Format("2006-01-02T15:04"))
	}
	return q
}

// active reports whether the filter narrows the list at all (page markers aside).
func (f filter) active() bool { return len(f.query()) > 0 }

// withPage returns the filter's query with one page marker set.
func (f filter) withPage(param string, id int64) string {
	q := f.query()
	q.Set(param, strconv.FormatInt(id, 10))
	return q.Encode()
}

// describe lists the conditions for people, e.g. for the confirmation page.
func (f filter) describe() []string {
	var out []string
	add := func(label, v string) {
		if v != "" {
			out = append(out, label+": "+v)
		}
	}
	add("Event name", f.Name)
	add("Entity class", f.EntityClass)
	add("Entity id", f.EntityID)
	add("Idempotency key", f.Key)
	if !f.From.IsZero() {
		add("Created from", f.From.Format("2006-01-02 15:04 UTC"))
	}
	if !f.To.IsZero() {
		add("Created before", f.To.Format("2006-01-02 15:04 UTC"))
	}
	return out
}
