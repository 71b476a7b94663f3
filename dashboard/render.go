package dashboard

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
)

// pageNames are the templates under templates/, each rendered inside layout.html.
var pageNames = []string{"overview", "events", "event", "dead_letters", "confirm", "denied", "error"}

// view is what every page template gets: the layout's fields and the page's own Data.
type view struct {
	Title    string
	Page     string // the page's name, for the navigation
	ReadOnly bool
	Refresh  int // seconds between auto-refreshes; 0: none
	SignOut  bool
	Data     any
}

// parsePages parses every page with the layout and the shared partials.
func (h *handler) parsePages() error {
	h.pages = map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(h.funcs()).ParseFS(assets,
			"templates/layout.html", "templates/partials.html", "templates/"+name+".html")
		if err != nil {
			return fmt.Errorf("dashboard: parse template %s: %w", name, err)
		}
		h.pages[name] = t
	}
	return nil
}

// funcs are the template helpers. Links are built by "url" only, from the base path,
// so no link can leave the mount point.
func (h *handler) funcs() template.FuncMap {
	return template.FuncMap{
		"url": func(page string, query ...string) string {
			u := h.url(page)
			if len(query) > 0 && query[0] != "" {
				u += "?" + query[0]
			}
			return u
		},
		"eventURL": func(id int64) string { return h.url("events/" + strconv.FormatInt(id, 10)) },
		"ts":       formatTime,
		"tsp":      func(t *time.Time) string { return formatTimePtr(t) },
		"ago":      ago,
		"dur":      formatDuration,
		"num":      formatCount,
		"short":    shortFingerprint,
		"status":   statusLabel,
		"ms": func(d time.Duration) string {
			return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + " ms"
		},
	}
}

// render writes page name with data inside the layout. It renders into a buffer first,
// so a template error becomes a clean 500 instead of half a page.
func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	v := view{Title: h.opts.Title, Page: name, ReadOnly: h.opts.ReadOnly, Data: data}
	if h.opts.RefreshInterval > 0 && (name == "overview" || name == "events" || name == "event") {
		v.Refresh = max(1, int(h.opts.RefreshInterval/time.Second))
	}
	if name != "denied" {
		if c, err := r.Cookie(tokenCookie); err == nil && c.Value != "" {
			v.SignOut = true
		}
	}
	var buf bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		http.Error(w, "dashboard: render "+name+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorPage is the data of the error page.
type errorPage struct {
	Status  int
	Heading string
	Message string
}

// fail writes the error page with a message for people.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, status int, message string) {
	h.render(w, r, status, "error", errorPage{Status: status, Heading: http.StatusText(status), Message: message})
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func formatTimePtr(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return formatTime(*t)
}

// ago says how long ago t was, coarsely ("12s ago", "3m ago").
func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := time.Since(t)
	if d < 0 {
		return "in " + formatDuration(-d)
	}
	return formatDuration(d) + " ago"
}

// formatDuration prints a duration with at most two units ("1h 4m", "3.2s", "850ms").
func formatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Millisecond:
		return strconv.FormatInt(d.Microseconds(), 10) + "µs"
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	case d < time.Hour:
		return fmt.Sprintf("%dm %ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd %dh", int(d.Hours())/24, int(d.Hours())%24)
}

// formatCount groups thousands: 1 234 567.
func formatCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString("\u202f")
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// shortFingerprint keeps "sha256:" and the first 12 hex digits.
func shortFingerprint(fp string) string {
	if len(fp) > 19 {
		return fp[:19] + "…"
	}
	return fp
}

func statusLabel(s edgeoutbox.Status) string {
	switch s {
	case edgeoutbox.StatusPending:
		return "pending"
	case edgeoutbox.StatusPublished:
		return "published"
	case edgeoutbox.StatusDeadLettered:
		return "dead letter"
	}
	return string(s)
}
