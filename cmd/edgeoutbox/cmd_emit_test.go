package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
)

func TestEmit(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "new.db") // emit creates it
	r := mustRun(t, "emit", "cow_fed", "--db", db, "--schema", golden,
		"--input", cowInput, "--input", `farmer={"name":"Jo"}`,
		"--metadata", `{"request_id":"r-42"}`, "--idempotency-key", "feed-7-1",
		"--occurred-at", "2025-01-02T03:04:05Z", "--json")
	var receipt emitOutput
	if err := json.Unmarshal([]byte(r.stdout), &receipt); err != nil {
		t.Fatalf("emit --json printed %q: %v", r.stdout, err)
	}
	if receipt.ID != 1 || receipt.IdempotencyKey != "feed-7-1" || receipt.Event != "cow_fed" || receipt.Version != 2 {
		t.Errorf("receipt = %+v", receipt)
	}

	// The old version, with the text receipt.
	r = mustRun(t, "emit", "--db", db, "cow_fed", "--schema", golden, "--version", "1",
		"--input", `cow={"class_name":"Cow","id":"8","version":1,"weight":"500"}`)
	if !strings.HasPrefix(r.stdout, "emitted cow_fed v1: id 2, idempotency key ") {
		t.Errorf("emit printed %q", r.stdout)
	}

	e := openForTest(t, db)
	ev, err := e.GetEvent(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if string(ev.Payload) != `{"weight":512.5,"name":"Jo"}` || ev.Metadata["request_id"] != "r-42" ||
		!ev.OccurredAt.Equal(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)) || ev.Entity.ID != "7" || *ev.Entity.Version != 3 {
		t.Errorf("stored event: %+v payload %s", ev, ev.Payload)
	}
	ev, err = e.GetEvent(context.Background(), 2)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Version != 1 || string(ev.Payload) != `{"weight":500}` {
		t.Errorf("old version stored as v%d %s", ev.Version, ev.Payload)
	}

	// A duplicate key stores nothing and says so.
	r = run(t, "emit", "cow_fed", "--db", db, "--schema", golden, "--input", cowInput, "--idempotency-key", "feed-7-1")
	if r.code() != 1 || !strings.Contains(r.stderr, "duplicate event") {
		t.Errorf("duplicate: exit %d, stderr %q", r.code(), r.stderr)
	}
}

// openForTest opens an existing outbox with an empty schema.
func openForTest(t testing.TB, db string) *edgeoutbox.Engine {
	t.Helper()
	e, err := edgeoutbox.Open(context.Background(), db, edgeoutbox.Config{Schema: edgeoutbox.NewSchema("")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func TestEmitBadInput(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "never.db")
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"malformed JSON", []string{"--input", `cow={"id":7`}, 2, "--input cow: malformed JSON"},
		{"trailing JSON", []string{"--input", `cow={"id":7} {}`}, 2, "--input cow: malformed JSON: more after the first JSON value"},
		{"not an object", []string{"--input", `cow=[1,2]`}, 2, "--input cow: want a JSON object"},
		{"no equals", []string{"--input", `cow`}, 2, `--input "cow": want NAME=JSON`},
		{"bad name", []string{"--input", `1cow={}`}, 2, "starts with a letter"},
		{"twice", []string{"--input", cowInput, "--input", cowInput}, 2, `--input "cow" is given twice`},
		{"metadata", []string{"--input", cowInput, "--metadata", `{"n":1}`}, 2, "--metadata: want a JSON object of strings"},
		{"occurred-at", []string{"--input", cowInput, "--occurred-at", "yesterday"}, 2, `--occurred-at "yesterday" is not an RFC 3339 time`},
		{"unknown version", []string{"--input", cowInput, "--version", "9"}, 1, `event "cow_fed" has no version 9`},
		{"missing field", []string{"--input", `cow={"class_name":"Cow","id":7,"version":3}`}, 1, `field "weight" is required`},
		{"lossy cast", []string{"--input", `cow={"class_name":"Cow","id":7.5,"version":3,"weight":1}`}, 1, `field "id"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"emit", "cow_fed", "--db", db, "--schema", golden}, c.args...)
			r := run(t, args...)
			if r.code() != c.code || !strings.Contains(r.stderr, c.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code(), r.stderr, c.code, c.want)
			}
			// Not even inputs that fail to cast create the database.
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("a failed emit created %s", entries[0].Name())
			}
		})
	}
}

// Inputs that fail to cast leave an existing outbox as it was, and a good emit after
// the check stores the event once.
func TestEmitBadInputExistingOutbox(t *testing.T) {
	t.Parallel()
	db := newOutbox(t)
	r := run(t, "emit", "cow_fed", "--db", db, "--schema", golden, "--input", `cow={"class_name":"Cow","id":7,"version":3}`)
	if r.code() != 1 || !strings.Contains(r.stderr, `field "weight" is required`) {
		t.Errorf("exit %d, stderr %q", r.code(), r.stderr)
	}
	emitCows(t, db, 1)
	if st, err := openForTest(t, db).Stats(context.Background()); err != nil || st.Pending != 1 {
		t.Errorf("stats: %+v, %v; want one pending event", st, err)
	}
}

func TestEmitUnknownEvent(t *testing.T) {
	db := filepath.Join(t.TempDir(), "never.db")
	r := run(t, "emit", "cow_danced", "--db", db, "--schema", golden, "--input", cowInput)
	want := `edgeoutbox: unknown event "cow_danced": it is not in ` + golden + `; run "edgeoutbox schema show --schema ` + golden + `" to list its events` + "\n"
	if r.code() != 1 || r.stderr != want {
		t.Errorf("exit %d, stderr %q; want 1, %q", r.code(), r.stderr, want)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Error("an unknown event created the database")
	}
}

func TestEmitMissingSchema(t *testing.T) {
	dir := t.TempDir()
	r := run(t, "emit", "cow_fed", "--db", filepath.Join(dir, "x.db"), "--schema", filepath.Join(dir, "event_schema.json"), "--input", cowInput)
	if r.code() != 1 || !strings.Contains(r.stderr, `"edgeoutbox schema dump <definitions package>"`) {
		t.Errorf("exit %d, stderr %q", r.code(), r.stderr)
	}
}
