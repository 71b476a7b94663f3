package dashboard

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/edgeoutbox/edgeoutbox"
)

// maxRetryIDs bounds one "retry selected" request.
const maxRetryIDs = 1000

// deadLettersPage is the data of the dead letters list.
type deadLettersPage struct {
	Form     filterForm
	Problems []string
	Notice   string
	Events   []*edgeoutbox.StoredEvent
	Pager    pager
	Total    int64
	Query    string // the filter, for the retry form and the confirmation link
}

// deadLetters lists dead letters with the same filters as the events list, and the
// forms to retry one, the selected or every matching one.
func (h *handler) deadLetters(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, problems := parseFilter(q)
	f.Status = edgeoutbox.StatusDeadLettered
	form := f
	form.Status = ""
	p := deadLettersPage{Problems: problems, Query: form.query().Encode(),
		Form: filterForm{Path: "dead-letters", F: form, Active: form.active(), Names: h.eventNames()}}
	if n := q.Get("retried"); n != "" {
		if v, err := strconv.ParseInt(n, 10, 64); err == nil && v >= 0 {
			p.Notice = retriedNotice(v)
		}
	}
	status := http.StatusOK
	if len(problems) > 0 {
		status = http.StatusBadRequest
	}
	if st, err := h.stats.get(r.Context()); err == nil {
		p.Total = st.DeadLettered
	}
	var err error
	if p.Events, p.Pager, err = h.page(r.Context(), f, form, "dead-letters"); err != nil {
		p.Problems = append(p.Problems, err.Error())
		status = http.StatusInternalServerError
	}
	h.render(w, r, status, "dead_letters", p)
}

func retriedNotice(n int64) string {
	switch n {
	case 0:
		return "Nothing was retried: the selected events are no longer dead letters (or none was selected)."
	case 1:
		return "1 dead letter is pending again: the relay will publish it."
	}
	return fmt.Sprintf("%s dead letters are pending again: the relay will publish them.", formatCount(n))
}

// retry makes one dead letter (the "one" field) or the selected ones ("id" fields)
// pending again, in one transaction, then goes back to the list (or to the event).
func (h *handler) retry(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		h.fail(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	raw := r.PostForm["id"]
	if one := r.PostForm.Get("one"); one != "" {
		raw = []string{one}
	}
	if len(raw) > maxRetryIDs {
		h.fail(w, r, http.StatusBadRequest, fmt.Sprintf("At most %d dead letters can be retried by selection; use \"Retry all matching\" for more.", maxRetryIDs))
		return
	}
	ids := make([]int64, 0, len(raw))
	for _, s := range raw {
		id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || id <= 0 {
			h.fail(w, r, http.StatusBadRequest, fmt.Sprintf("%q is not an event id.", s))
			return
		}
		ids = append(ids, id)
	}
	var n int64
	if len(ids) > 0 {
		var err error
		if n, err = retryDeadLetters(r.Context(), h.engine, ids); err != nil {
			h.fail(w, r, http.StatusInternalServerError, "Retry failed, nothing was changed: "+err.Error())
			return
		}
		h.stats.invalidate()
	}
	if r.PostForm.Get("return") == "event" && len(ids) == 1 {
		h.redirect(w, r, "events/"+strconv.FormatInt(ids[0], 10)+"?retried=1")
		return
	}
	// Back to the same filtered list; the filter is parsed again so only known fields
	// travel into the address.
	back, _ := url.ParseQuery(r.PostForm.Get("q"))
	f, _ := parseFilter(back)
	q := f.query()
	q.Set("retried", strconv.FormatInt(n, 10))
	h.redirect(w, r, "dead-letters?"+q.Encode())
}

// confirmPage is the data of the confirmation step of "retry all matching".
type confirmPage struct {
	Conditions []string
	Total      int64 // dead letters in the outbox
	Matching   int64 // of them, those the conditions match (up to confirmCountLimit)
	More       bool  // more than confirmCountLimit match
	Hidden     []keyValue
	Query      string
}

// confirmCountLimit bounds how many matching dead letters the confirmation counts.
const confirmCountLimit = 999

// confirmRetryMatching shows what "retry all matching" would do and asks for a POST.
func (h *handler) confirmRetryMatching(w http.ResponseWriter, r *http.Request) {
	if h.opts.ReadOnly {
		h.fail(w, r, http.StatusForbidden, "This dashboard is read-only: it shows the outbox but changes nothing.")
		return
	}
	f, problems := parseFilter(r.URL.Query())
	if len(problems) > 0 {
		h.fail(w, r, http.StatusBadRequest, strings.Join(problems, " "))
		return
	}
	f.Status = ""
	p := confirmPage{Conditions: f.describe(), Query: f.query().Encode()}
	for k, vs := range f.query() {
		p.Hidden = append(p.Hidden, keyValue{k, vs[0]})
	}
	sort.Slice(p.Hidden, func(i, j int) bool { return p.Hidden[i].Key < p.Hidden[j].Key })
	if st, err := h.stats.get(r.Context()); err == nil {
		p.Total = st.DeadLettered
	}
	if len(p.Conditions) > 0 {
		n, more, err := countDeadLetters(r.Context(), h.engine, f, confirmCountLimit)
		if err != nil {
			h.fail(w, r, http.StatusInternalServerError, "The dead letters could not be counted: "+err.Error())
			return
		}
		p.Matching, p.More = int64(n), more
	}
	h.render(w, r, http.StatusOK, "confirm", p)
}

// retryMatching makes every dead letter the posted filter matches pending again, in one
// transaction. Without confirm=yes it shows the confirmation step instead.
func (h *handler) retryMatching(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		h.fail(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	f, problems := parseFilter(r.PostForm)
	if len(problems) > 0 {
		h.fail(w, r, http.StatusBadRequest, strings.Join(problems, " "))
		return
	}
	f.Status, f.Before, f.After = "", 0, 0
	if r.PostForm.Get("confirm") != "yes" {
		h.redirect(w, r, "dead-letters/confirm?"+f.query().Encode())
		return
	}
	n, err := retryMatching(r.Context(), h.engine, f)
	if err != nil {
		h.fail(w, r, http.StatusInternalServerError, "Retry failed, nothing was changed: "+err.Error())
		return
	}
	h.stats.invalidate()
	q := f.query()
	q.Set("retried", strconv.FormatInt(n, 10))
	h.redirect(w, r, "dead-letters?"+q.Encode())
}
