// Package dashboard serves a small web dashboard for an edgeoutbox outbox: an overview
// of counts, latency, the relay and the schema; a filterable events list; event detail;
// and dead letters with retry.
//
// New returns an http.Handler the application mounts anywhere:
//
//	h, err := dashboard.New(engine, dashboard.Options{
//		BasePath:  "/ops/outbox/",
//		Authorize: dashboard.BearerToken(os.Getenv("DASHBOARD_TOKEN")),
//	})
//	mux.Handle("/ops/outbox/", http.StripPrefix("/ops/outbox", h))
//
// # Safe by default
//
// Every request is denied (403) unless Options.Authorize allows it; a nil Authorize
// denies everything. Only /robots.txt, the stylesheet and script, and the sign-in form
// are served without it (they hold no data). Every change is a POST, checked by
// net/http.CrossOriginProtection; pages carry a Content-Security-Policy without inline
// scripts, refuse framing and are never cached. Options.ReadOnly refuses every change.
//
// Pages read only the engine's counters and indexed queries, so they stay fast however
// large the outbox grows; the counts are cached for a second and shared between every
// open tab.
package dashboard
