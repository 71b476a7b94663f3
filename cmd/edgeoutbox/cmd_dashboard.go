package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/edgeoutbox/edgeoutbox/dashboard"
	"github.com/edgeoutbox/edgeoutbox/metrics"
)

// dashboardTokenEnv is the environment variable that gives the dashboard's token when
// --token is not set (so it stays out of the process list and shell history).
const dashboardTokenEnv = "EDGEOUTBOX_DASHBOARD_TOKEN"

func dashboardCommand() *command {
	return &command{
		Name:    "dashboard",
		Args:    "--db PATH [--addr 127.0.0.1:8080] [--token T] [--read-only] [--schema FILE] [--base-path /]",
		Summary: "serve the web dashboard of an outbox: counts, events, dead letters and retry",
		Details: `Serves the dashboard on --addr (loopback by default) until interrupted. Every
request needs the token: --token, else $` + dashboardTokenEnv + `, else a random one
printed at start. Browsers sign in with it once (a cookie keeps it); scripts send
"Authorization: Bearer <token>". The database is opened without migrating it, and the
dashboard keeps working while other processes emit and relay on the same file. --schema
shows the events and fingerprints of a schema file on the overview. --base-path serves
it below a path, for a reverse proxy that forwards that path unchanged.`,
		run: runDashboard,
	}
}

// dashboardStopTimeout bounds how long open requests may take to finish on a signal.
const dashboardStopTimeout = 5 * time.Second

func runDashboard(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := newFlagSet(cmd)
	dbPath := fs.String("db", "", "outbox database `PATH`")
	addr := fs.String("addr", "127.0.0.1:8080", "`ADDRESS` to listen on (host:port)")
	token := fs.String("token", "", "the `TOKEN` every request needs (default $"+dashboardTokenEnv+", else a random one)")
	readOnly := fs.Bool("read-only", false, "show the outbox but refuse every change (no retry)")
	schemaFile := fs.String("schema", "", "schema `FILE` whose events the overview lists (optional)")
	basePath := fs.String("base-path", "/", "URL `PATH` the dashboard is served below")
	if err := c.parseWithDB(cmd, fs, args, dbPath); err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return usageErrorf(cmd, fs, "--addr %q: want host:port, e.g. 127.0.0.1:8080", *addr)
	}
	secret, generated := *token, false
	if secret == "" {
		secret = strings.TrimSpace(os.Getenv(dashboardTokenEnv))
	}
	if secret == "" {
		if secret, err = newDashboardToken(); err != nil {
			return err
		}
		generated = true
	}
	var schema *edgeoutbox.Schema
	if *schemaFile != "" {
		if schema, err = edgeoutbox.LoadSchemaFile(*schemaFile); err != nil {
			return err
		}
	}
	e, err := openOutbox(ctx, *dbPath, false, edgeoutbox.Config{Schema: schema})
	if err != nil {
		return err
	}
	defer e.Close()
	// Gauges read the file's counters, whichever process writes it; this process runs
	// no relay, so its own counters stay at zero.
	m, err := metrics.New(e, metrics.Options{})
	if err != nil {
		return err
	}
	defer m.Close(context.WithoutCancel(ctx))
	h, err := dashboard.New(e, dashboard.Options{
		BasePath:  *basePath,
		Authorize: dashboard.BearerToken(secret),
		ReadOnly:  *readOnly,
		Metrics:   m.Handler(),
	})
	if err != nil {
		return usageErrorf(cmd, fs, "%v", err)
	}
	mux := http.NewServeMux()
	base := strings.TrimSuffix(*basePath, "/")
	mux.Handle(base+"/", http.StripPrefix(base, h))
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("dashboard: listen on %s: %w (pick another port with --addr)", *addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	fmt.Fprintf(c.stdout, "dashboard for %s on http://%s%s/\n", *dbPath, ln.Addr(), base)
	if generated {
		fmt.Fprintf(c.stdout, "token: %s\n(set --token or $%s to choose it)\n", secret, dashboardTokenEnv)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		fmt.Fprintf(c.stderr, "warning: listening beyond this machine (%s) without TLS: the token crosses the network in clear; put a TLS proxy in front\n", *addr)
	}
	select {
	case err := <-served:
		return fmt.Errorf("dashboard: serve: %w", err)
	case <-ctx.Done():
	}
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), dashboardStopTimeout)
	defer cancel()
	if err := srv.Shutdown(stopCtx); err != nil {
		return fmt.Errorf("dashboard: stop: %w", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("dashboard: serve: %w", err)
	}
	return nil
}

// newDashboardToken returns 128 random bits in hex.
func newDashboardToken() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("dashboard: generate a token: %w", err)
	}
	return hex.EncodeToString(b), nil
}
