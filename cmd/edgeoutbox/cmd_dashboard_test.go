package main

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
)

// startDashboard runs "edgeoutbox dashboard" on a free loopback port until the test
// ends and returns its address and the token it printed (or was given).
func startDashboard(t *testing.T, args ...string) (base, token string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, append([]string{"dashboard", "--addr", "127.0.0.1:0"}, args...), &stdout, &stderr)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("dashboard: %v\n%s", err, stderr.String())
		}
	})
	urlRE := regexp.MustCompile(`on (http://127\.0\.0\.1:\d+/\S*)`)
	tokenRE := regexp.MustCompile(`token: ([0-9a-f]{32})`)
	waitUntil(t, 20*time.Second, "the dashboard to start", func() bool {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("dashboard ended at start: %v\n%s", err, stderr.String())
		default:
		}
		return urlRE.MatchString(stdout.String())
	})
	base = urlRE.FindStringSubmatch(stdout.String())[1]
	if m := tokenRE.FindStringSubmatch(stdout.String()); m != nil {
		token = m[1]
	}
	return base, token
}

func getWithToken(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// The dashboard serves an outbox that another process writes and relays, with a
// generated token, and never migrates the file.
func TestDashboardCommand(t *testing.T) {
	db := newOutbox(t)
	emitCows(t, db, 2)
	base, token := startDashboard(t, "--db", db, "--schema", golden)
	if token == "" {
		t.Fatal("no token printed")
	}
	if code, _ := getWithToken(t, base, ""); code != http.StatusForbidden {
		t.Errorf("without the token: %d, want 403", code)
	}
	if code, _ := getWithToken(t, base, "wrong"); code != http.StatusForbidden {
		t.Errorf("with a wrong token: %d, want 403", code)
	}
	code, body := getWithToken(t, base, token)
	if code != http.StatusOK || !strings.Contains(body, `id="count-pending">2<`) || !strings.Contains(body, "cow_fed") {
		t.Fatalf("overview: %d\n%s", code, body)
	}

	// Another process emits and relays on the same file while the dashboard runs.
	mem := edgeoutbox.NewMemoryTransport()
	e, err := edgeoutbox.Open(context.Background(), db, edgeoutbox.Config{Schema: edgeoutbox.NewSchema(""), Transport: mem, PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	emitCows(t, db, 1)
	waitUntil(t, 20*time.Second, "the dashboard to show 3 published", func() bool {
		_, body := getWithToken(t, base, token)
		return strings.Contains(body, `id="count-published">3<`) && strings.Contains(body, `id="count-pending">0<`)
	})
	if code, body := getWithToken(t, base+"events?status=published", token); code != http.StatusOK || strings.Count(body, "badge-published\">") < 3 {
		t.Errorf("events list: %d", code)
	}
	// Prometheus metrics beside the pages, behind the same token; the gauges read
	// the file's counters, written by the other process.
	if code, _ := getWithToken(t, base+"metrics", "wrong"); code != http.StatusForbidden {
		t.Errorf("/metrics with a wrong token: %d, want 403", code)
	}
	if code, body := getWithToken(t, base+"metrics", token); code != http.StatusOK || !strings.Contains(body, "edgeoutbox_published_events 3") {
		t.Errorf("/metrics: %d\n%s", code, body)
	}
}

func TestDashboardTokenFromEnvironment(t *testing.T) {
	db := newOutbox(t)
	t.Setenv(dashboardTokenEnv, "from-the-environment")
	base, printed := startDashboard(t, "--db", db, "--read-only", "--base-path", "/ops/outbox/")
	if printed != "" {
		t.Errorf("printed a token although one was given: %q", printed)
	}
	if !strings.HasSuffix(base, "/ops/outbox/") {
		t.Errorf("served at %s, want below /ops/outbox/", base)
	}
	if code, body := getWithToken(t, base, "from-the-environment"); code != http.StatusOK || !strings.Contains(body, "Read-only") {
		t.Errorf("with the environment's token: %d", code)
	}
}

func TestDashboardRefusesWhatItCannotServe(t *testing.T) {
	dir := t.TempDir()
	r := run(t, "dashboard", "--db", filepath.Join(dir, "missing.db"), "--addr", "127.0.0.1:0")
	if r.code() != 1 || !strings.Contains(r.stderr, "edgeoutbox migrate") {
		t.Errorf("missing database: code %d\n%s", r.code(), r.stderr)
	}
	db := newOutbox(t)
	for _, args := range [][]string{
		{"dashboard"},
		{"dashboard", "--db", db, "--addr", "no-port"},
		{"dashboard", "--db", db, "--addr", "127.0.0.1:0", "--base-path", "ops"},
	} {
		if r := run(t, args...); r.code() != 2 {
			t.Errorf("%v: code %d, want 2\n%s", args, r.code(), r.stderr)
		}
	}
}
