package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
)

// result is one in-process run of the command line.
type result struct {
	stdout, stderr string
	err            error
}

func (r result) code() int { return exitCode(r.err) }

// run runs the command line in-process with a deadline.
func run(t testing.TB, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return runCtx(ctx, args...)
}

func runCtx(ctx context.Context, args ...string) result {
	var stdout, stderr bytes.Buffer
	err := Run(ctx, args, &stdout, &stderr)
	if err != nil {
		// What main would print, so tests see the user's view.
		report(&stderr, err)
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), err: err}
}

// mustRun runs the command line and fails the test unless it succeeds.
func mustRun(t testing.TB, args ...string) result {
	t.Helper()
	r := run(t, args...)
	if r.err != nil {
		t.Fatalf("edgeoutbox %v: %v\nstdout:\n%s\nstderr:\n%s", args, r.err, r.stdout, r.stderr)
	}
	return r
}

// golden is the schema file the testdata/defs package dumps onto testdata/schema_v1.json.
const golden = "testdata/event_schema.golden.json"

// copyFile copies src to a new file in dir and returns its path.
func copyFile(t testing.TB, src, dir string) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, filepath.Base(src))
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// newOutbox migrates a new outbox database and returns its path.
func newOutbox(t testing.TB) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "outbox.db")
	mustRun(t, "migrate", "--db", db)
	return db
}

// cowInput is a valid cow input for cow_fed v2 of the golden schema.
const cowInput = `cow={"class_name":"Cow","id":7,"version":3,"weight":512.5}`

// emitCows emits n cow_fed events through the command line.
func emitCows(t testing.TB, db string, n int) {
	t.Helper()
	for range n {
		mustRun(t, "emit", "cow_fed", "--db", db, "--schema", golden, "--input", cowInput, "--metadata", `{"request_id":"r1"}`)
	}
}

// deadLetters emits n events and dead-letters them (and any other pending ones) through a relay whose transport
// rejects every event permanently.
func deadLetters(t testing.TB, db string, n int) {
	t.Helper()
	emitCows(t, db, n)
	ctx := context.Background()
	mem := edgeoutbox.NewMemoryTransport()
	mem.FailWhere(func(*edgeoutbox.Event) error { return edgeoutbox.Permanent(errRejected) })
	schema, err := edgeoutbox.LoadSchemaFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	e, err := edgeoutbox.Open(ctx, db, edgeoutbox.Config{Schema: schema, Transport: mem})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 20*time.Second, "every event dead-lettered", func() bool {
		st, err := e.Stats(ctx)
		return err == nil && st.Pending == 0
	})
}

type rejected struct{}

func (rejected) Error() string { return "broker says no: message too large" }

var errRejected = rejected{}

// waitUntil polls cond until it holds or the timeout passes.
func waitUntil(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// squeeze collapses runs of spaces, so that tests do not depend on column widths.
func squeeze(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}
