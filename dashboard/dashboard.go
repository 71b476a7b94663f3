package dashboard

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
)

// Options configures the dashboard handler.
type Options struct {
	// BasePath is the path the dashboard is mounted at, as the browser sees it, with a
	// trailing slash, e.g. "/ops/outbox/". Every link and redirect the dashboard makes
	// starts with it. Mount the handler there with http.StripPrefix (without the
	// trailing slash). Default "/".
	BasePath string
	// Authorize decides whether a request may see the dashboard: nil error allows it.
	// A nil Authorize denies every request (403). See BearerToken and BasicAuth.
	Authorize func(*http.Request) error
	// ReadOnly hides the retry buttons and refuses every change with 403.
	ReadOnly bool
	// TrustedOrigins are origins ("https://ops.example.com") allowed to POST besides
	// the dashboard's own, e.g. when a reverse proxy rewrites the Host header.
	TrustedOrigins []string
	// RefreshInterval is how often open pages refresh their figures while visible.
	// Default 5s; negative turns auto-refresh off.
	RefreshInterval time.Duration
	// Metrics, when set, is served at <BasePath>metrics behind the same Authorize (the
	// metrics package's handler).
	Metrics http.Handler
	// Title names the dashboard in the page header. Default "edgeoutbox".
	Title string
}

// statsTTL is how long one read of the counters serves every open tab.
const statsTTL = time.Second

// handler is the dashboard: routes, templates and the shared counters cache.
type handler struct {
	engine  *edgeoutbox.Engine
	opts    Options
	base    string
	pages   map[string]*template.Template
	stats   *statsCache
	overall http.Handler
}

// New returns the dashboard for engine as an http.Handler. It checks opts and fails with
// an error that says what to change; it never panics on bad options.
func New(engine *edgeoutbox.Engine, opts Options) (http.Handler, error) {
	if engine == nil {
		return nil, errors.New("dashboard: engine is nil: pass the *edgeoutbox.Engine from edgeoutbox.Open")
	}
	base, err := cleanBasePath(opts.BasePath)
	if err != nil {
		return nil, err
	}
	if opts.RefreshInterval == 0 {
		opts.RefreshInterval = 5 * time.Second
	}
	if opts.Title == "" {
		opts.Title = "edgeoutbox"
	}
	h := &handler{engine: engine, opts: opts, base: base, stats: newStatsCache(engine, statsTTL)}
	if err := h.parsePages(); err != nil {
		return nil, err
	}
	csrf := http.NewCrossOriginProtection()
	for _, o := range opts.TrustedOrigins {
		if err := csrf.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("dashboard: Options.TrustedOrigins: %w", err)
		}
	}
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, http.StatusForbidden, "This request came from another site and was refused (cross-site request forgery protection).")
	}))
	h.overall = secureHeaders(csrf.Handler(h.routes()))
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.overall.ServeHTTP(w, r) }

// cleanBasePath checks the mount path and gives it a leading and a trailing slash.
func cleanBasePath(p string) (string, error) {
	if p == "" {
		return "/", nil
	}
	if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "?#\"'<> \\") || strings.Contains(p, "//") || strings.Contains(p, "/../") || strings.HasSuffix(p, "/..") {
		return "", fmt.Errorf("dashboard: Options.BasePath %q is not a clean absolute path: use one like \"/ops/outbox/\"", p)
	}
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p, nil
}

// routes maps the dashboard's paths (below the base path) to handlers. Everything but
// the public assets goes through authorize.
func (h *handler) routes() http.Handler {
	private := http.NewServeMux()
	private.HandleFunc("GET /{$}", h.overview)
	private.HandleFunc("GET /events", h.events)
	private.HandleFunc("GET /events/{id}", h.event)
	private.HandleFunc("GET /dead-letters", h.deadLetters)
	private.HandleFunc("GET /dead-letters/confirm", h.confirmRetryMatching)
	private.HandleFunc("POST /dead-letters/retry", h.mutation(h.retry))
	private.HandleFunc("POST /dead-letters/retry-matching", h.mutation(h.retryMatching))
	private.HandleFunc("POST /logout", h.logout)
	if h.opts.Metrics != nil {
		private.Handle("GET /metrics", h.opts.Metrics)
	}
	private.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, http.StatusNotFound, "There is no dashboard page at this address.")
	})

	public := http.NewServeMux()
	public.HandleFunc("GET /robots.txt", robots)
	public.HandleFunc("GET /static/{file}", serveStatic)
	public.HandleFunc("POST /login", h.login)
	public.Handle("/", h.authorize(private))
	return public
}

// mutation wraps a POST handler: read-only dashboards refuse it.
func (h *handler) mutation(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if h.opts.ReadOnly {
			h.fail(w, r, http.StatusForbidden, "This dashboard is read-only: it shows the outbox but changes nothing.")
			return
		}
		next(w, r)
	}
}

// url returns the absolute path of a dashboard page, below the base path.
func (h *handler) url(page string) string {
	return h.base + strings.TrimPrefix(page, "/")
}

// redirect sends the browser to a dashboard page with 303 See Other, so a POST is
// followed by a GET.
func (h *handler) redirect(w http.ResponseWriter, r *http.Request, page string) {
	http.Redirect(w, r, h.url(page), http.StatusSeeOther)
}
