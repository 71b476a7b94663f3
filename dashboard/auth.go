package dashboard

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
)

// tokenCookie carries the token a browser signed in with (see BearerToken).
const tokenCookie = "edgeoutbox_dashboard"

// Errors the helpers' Authorize functions return.
var (
	// ErrNoAuthorize is the error of every request when Options.Authorize is nil.
	ErrNoAuthorize = errors.New("dashboard: no Options.Authorize set: every request is denied")
	// ErrNotSignedIn means the request carried no credentials or the wrong ones.
	ErrNotSignedIn = errors.New("dashboard: not signed in")
)

// challengeError asks the browser for credentials: the response is 401 with a
// WWW-Authenticate header instead of 403.
type challengeError struct{ challenge string }

func (e *challengeError) Error() string { return ErrNotSignedIn.Error() }
func (e *challengeError) Unwrap() error { return ErrNotSignedIn }

// equal compares two secrets in constant time, whatever their lengths.
func equal(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// BearerToken returns an Authorize function that admits requests carrying token, either
// as "Authorization: Bearer <token>" (scripts, curl) or in the cookie the dashboard's
// sign-in form sets (browsers). The comparison takes constant time. An empty token
// admits nobody.
func BearerToken(token string) func(*http.Request) error {
	return func(r *http.Request) error {
		if token == "" {
			return ErrNotSignedIn
		}
		if auth := r.Header.Get("Authorization"); auth != "" {
			scheme, got, ok := strings.Cut(auth, " ")
			if ok && strings.EqualFold(scheme, "Bearer") && equal(strings.TrimSpace(got), token) {
				return nil
			}
			return ErrNotSignedIn
		}
		if c, err := r.Cookie(tokenCookie); err == nil && equal(c.Value, token) {
			return nil
		}
		return ErrNotSignedIn
	}
}

// BasicAuth returns an Authorize function that admits requests with HTTP Basic
// credentials user and password, compared in constant time; other requests get 401 and
// a challenge, so the browser asks for them. Serve it over HTTPS: Basic sends the
// password with every request. An empty password admits nobody.
func BasicAuth(user, password string) func(*http.Request) error {
	challenge := &challengeError{challenge: `Basic realm="edgeoutbox dashboard", charset="UTF-8"`}
	return func(r *http.Request) error {
		u, p, ok := r.BasicAuth()
		if !ok || password == "" {
			return challenge
		}
		// Both comparisons always run, so the time does not tell which one failed.
		userOK, passOK := equal(u, user), equal(p, password)
		if !userOK || !passOK {
			return challenge
		}
		return nil
	}
}

// authorize lets a request through when Options.Authorize allows it, and answers
// everything else with the sign-in page: 403, or 401 with a challenge.
func (h *handler) authorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := h.check(r)
		if err == nil {
			next.ServeHTTP(w, r)
			return
		}
		next := "/"
		if r.Method == http.MethodGet && safeNext(r.URL.Path) {
			next = r.URL.Path
			if r.URL.RawQuery != "" {
				next += "?" + r.URL.RawQuery
			}
		}
		h.denied(w, r, err, next, "")
	})
}

func (h *handler) check(r *http.Request) error {
	if h.opts.Authorize == nil {
		return ErrNoAuthorize
	}
	return h.opts.Authorize(r)
}

// denied writes the sign-in page for a request Authorize refused; next is the page
// (below the base path) to return to after signing in.
func (h *handler) denied(w http.ResponseWriter, r *http.Request, err error, next, problem string) {
	status := http.StatusForbidden
	var ch *challengeError
	if errors.As(err, &ch) {
		w.Header().Set("WWW-Authenticate", ch.challenge)
		status = http.StatusUnauthorized
	}
	h.render(w, r, status, "denied", deniedPage{
		NoAuthorize: errors.Is(err, ErrNoAuthorize),
		Challenge:   ch != nil,
		Next:        next,
		Problem:     problem,
	})
}

// deniedPage is the data of the sign-in page.
type deniedPage struct {
	NoAuthorize bool   // no Authorize configured: signing in cannot help
	Challenge   bool   // HTTP Basic: the browser asks
	Next        string // the page to return to, below the base path
	Problem     string // why the last sign-in failed
}

// safeNext reports whether p is a path below the base path that cannot climb out of it.
func safeNext(p string) bool {
	return strings.HasPrefix(p, "/") && !strings.Contains(p, "//") && !strings.Contains(p, "\\") &&
		!strings.Contains(p, "..") && !strings.ContainsAny(p, "\r\n")
}

// login takes a token from the sign-in form and, if Authorize accepts it, keeps it in a
// cookie scoped to the dashboard and goes back to the page the user wanted.
func (h *handler) login(w http.ResponseWriter, r *http.Request) {
	token := strings.TrimSpace(r.PostFormValue("token"))
	next := r.PostFormValue("next")
	if path, _, _ := strings.Cut(next, "?"); !safeNext(path) {
		next = "/"
	}
	cookie := &http.Cookie{
		Name: tokenCookie, Value: token, Path: h.base,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode,
	}
	trial := r.Clone(r.Context())
	trial.Header = r.Header.Clone()
	trial.Header.Del("Authorization")
	trial.Header.Del("Cookie")
	trial.AddCookie(cookie)
	if err := h.check(trial); err != nil || token == "" {
		if err == nil {
			err = ErrNotSignedIn
		}
		h.denied(w, r, err, next, "That token was not accepted.")
		return
	}
	http.SetCookie(w, cookie)
	http.Redirect(w, r, h.base+strings.TrimPrefix(next, "/"), http.StatusSeeOther)
}

// logout forgets the sign-in cookie.
func (h *handler) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: tokenCookie, Path: h.base, MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, h.base, http.StatusSeeOther)
}
