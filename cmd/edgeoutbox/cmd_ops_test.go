package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/edgeoutbox/edgeoutbox/migrations"
)

func TestMigrate(t *testing.T) {
	db := filepath.Join(t.TempDir(), "outbox.db")
	all, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	latest := all[len(all)-1].Version
	var applied strings.Builder
	for _, m := range all {
		fmt.Fprintf(&applied, "applied migration %d\n", m.Version)
	}
	r := mustRun(t, "migrate", "--db", db)
	if want := applied.String() + fmt.Sprintf("%s is at schema version %d\n", db, latest); r.stdout != want {
		t.Errorf("first migrate printed %q, want %q", r.stdout, want)
	}
	r = mustRun(t, "migrate", "--db", db, "--json")
	var out migrateOutput
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || len(out.Applied) != 0 || out.Current != latest || out.Latest != latest {
		t.Errorf("second migrate: %q (%v)", r.stdout, err)
	}
	r = mustRun(t, "migrate", "--db", db)
	if !strings.Contains(r.stdout, fmt.Sprintf("is up to date (schema version %d)", latest)) {
		t.Errorf("third migrate printed %q", r.stdout)
	}
}

func TestMigrateRefusesNewerDatabase(t *testing.T) {
	db := newOutbox(t)
	e := openForTest(t, db)
	if _, err := e.DB().Exec("INSERT INTO edgeoutbox_migrations (version, name, applied_at) VALUES (99, 'future', 0)"); err != nil {
		t.Fatal(err)
	}
	e.Close()
	r := run(t, "migrate", "--db", db)
	if r.code() != 1 || !strings.Contains(r.stderr, "newer edgeoutbox") || !strings.Contains(r.stderr, "upgrade edgeoutbox") {
		t.Errorf("exit %d, stderr %q", r.code(), r.stderr)
	}
}

func TestVersion(t *testing.T) {
	r := mustRun(t, "version")
	if !strings.HasPrefix(r.stdout, "edgeoutbox ") || !strings.Contains(r.stdout, "go1.") || !strings.Contains(r.stdout, "sqlite     3.") {
		t.Errorf("version printed %q", r.stdout)
	}
	r = mustRun(t, "version", "--json")
	var v versionOutput
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v.Version == "" || !strings.HasPrefix(v.Go, "go1.") || !strings.HasPrefix(v.SQLite, "3.") {
		t.Errorf("version --json: %+v, %v", v, err)
	}
}

func TestOutboxStatsAndList(t *testing.T) {
	db := newOutbox(t)
	r := mustRun(t, "outbox", "stats", "--db", db)
	for _, want := range []string{"pending: 0", "dead letters: 0", "relay: none holds the lease"} {
		if !strings.Contains(squeeze(r.stdout), want) {
			t.Errorf("empty stats lack %q:\n%s", want, r.stdout)
		}
	}
	emitCows(t, db, 3)
	deadLetters(t, db, 2) // emits 2 more and dead-letters all 5
	mustRun(t, "dead-letters", "retry", "5", "--db", db)

	r = mustRun(t, "outbox", "stats", "--db", db, "--json")
	var st statsOutput
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatalf("stats --json printed %q: %v", r.stdout, err)
	}
	if st.Pending != 1 || st.DeadLettered != 4 || st.Published != 0 || st.Relay != nil || st.OutboxBytes == 0 {
		t.Errorf("stats: %+v", st)
	}

	r = mustRun(t, "outbox", "list", "--db", db)
	lines := strings.Split(strings.TrimSpace(squeeze(r.stdout)), "\n")
	if len(lines) != 6 || !strings.HasPrefix(lines[0], "ID STATUS EVENT ENTITY FAILED ATTEMPTS CREATED") || !strings.HasPrefix(lines[1], "5 pending cow_fed v2 Cow/7@3 0") {
		t.Errorf("list printed:\n%s", r.stdout)
	}
	r = mustRun(t, "outbox", "list", "--db", db, "--status", "dead", "--limit", "2", "--json")
	var evs []edgeoutbox.StoredEvent
	if err := json.Unmarshal([]byte(r.stdout), &evs); err != nil || len(evs) != 2 || evs[0].ID != 4 || evs[0].Status != edgeoutbox.StatusDeadLettered {
		t.Errorf("list --status dead --limit 2: %+v, %v", evs, err)
	}
	if !strings.Contains(r.stdout, `"attempts":`) {
		t.Errorf("list --json lacks the attempts field (the text header says FAILED ATTEMPTS; the JSON name stays):\n%s", r.stdout)
	}
	r = mustRun(t, "outbox", "list", "--db", db, "--before-id", "3", "--name", "cow_fed", "--limit", "1")
	if !strings.Contains(r.stdout, "\n2 ") || !strings.Contains(r.stdout, "add --before-id 2") {
		t.Errorf("list --before-id 3 --limit 1:\n%s", r.stdout)
	}
	r = mustRun(t, "outbox", "list", "--db", db, "--name", "cow_milked")
	if !strings.Contains(r.stdout, "no matching events") {
		t.Errorf("list --name cow_milked: %q", r.stdout)
	}
}

func TestDeadLetters(t *testing.T) {
	t.Parallel()
	db := newOutbox(t)
	r := mustRun(t, "dead-letters", "list", "--db", db)
	if !strings.Contains(r.stdout, "no dead letters in "+db) {
		t.Errorf("empty list: %q", r.stdout)
	}
	deadLetters(t, db, 3)
	r = mustRun(t, "dead-letters", "list", "--db", db)
	if !strings.Contains(r.stdout, "permanent: broker says no: message too large") || strings.Count(r.stdout, "cow_fed v2") != 3 ||
		!strings.HasPrefix(squeeze(r.stdout), "ID EVENT ENTITY FAILED ATTEMPTS DEAD SINCE ERROR\n") {
		t.Errorf("list:\n%s", r.stdout)
	}
	r = mustRun(t, "dead-letters", "show", "2", "--db", db)
	for _, want := range []string{"id: 2", "status: dead_lettered", "failed attempts: 1", "last error: permanent: broker says no",
		"payload:\n{\n\"weight\": 512.5\n}", "metadata:\n{\n\"request_id\": \"r1\"\n}"} {
		if !strings.Contains(squeeze(r.stdout), want) {
			t.Errorf("show lacks %q:\n%s", want, r.stdout)
		}
	}
	r = mustRun(t, "dead-letters", "show", "2", "--db", db, "--json")
	var ev edgeoutbox.StoredEvent
	if err := json.Unmarshal([]byte(r.stdout), &ev); err != nil || ev.ID != 2 || ev.Metadata["request_id"] != "r1" || compact(ev.Payload) != `{"weight":512.5}` {
		t.Errorf("show --json: %+v, %v", ev, err)
	}

	r = mustRun(t, "dead-letters", "retry", "2", "--db", db)
	if r.stdout != "dead letter 2 is pending again; a running relay publishes it\n" {
		t.Errorf("retry 2: %q", r.stdout)
	}
	for _, args := range [][]string{{"show", "2"}, {"retry", "2"}, {"show", "42"}, {"retry", "42"}} {
		r = run(t, append(append([]string{"dead-letters"}, args...), "--db", db)...)
		want := `edgeoutbox: no dead letter with id ` + args[1] + ` in ` + db + `: run "edgeoutbox dead-letters list --db ` + db + `" to see them` + "\n"
		if r.code() != 1 || r.stderr != want {
			t.Errorf("dead-letters %v: exit %d, stderr %q", args, r.code(), r.stderr)
		}
	}
	r = mustRun(t, "dead-letters", "retry", "--all", "--db", db)
	if r.stdout != "2 dead letters are pending again; a running relay publishes them\n" {
		t.Errorf("retry --all: %q", r.stdout)
	}
	st, err := openForTest(t, db).Stats(context.Background())
	if err != nil || st.Pending != 3 || st.DeadLettered != 0 {
		t.Errorf("after retries: %+v, %v", st, err)
	}
}

func TestOutboxCleanup(t *testing.T) {
	t.Parallel()
	db := newOutbox(t)
	deadLetters(t, db, 2)
	r := mustRun(t, "outbox", "cleanup", "--db", db)
	if !strings.Contains(r.stdout, "deleted 0 published events (older than 7d) and 0 dead letters (older than 30d)") {
		t.Errorf("cleanup: %q", r.stdout)
	}
	r = mustRun(t, "outbox", "cleanup", "--db", db, "--older-than", "never", "--dead-older-than", "0s", "--json")
	var out cleanupOutput
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || out.DeadLettered != 2 || out.Published != 0 || out.FreedBytes == 0 {
		t.Errorf("cleanup --json: %q, %v", r.stdout, err)
	}
}

func compact(b []byte) string {
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return string(b)
	}
	return out.String()
}

func TestBenchSmall(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs real drains")
	}
	var out, errOut bytes.Buffer
	err := Run(context.Background(), []string{"bench", "--only", "drain", "--backlog", "2000", "--reps", "1", "--json"}, &out, &errOut)
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), `"baseline": "raw SQLite select 500 + mark"`) {
		t.Errorf("bench output %s", out.String())
	}
	out.Reset()
	err = Run(context.Background(), []string{"bench", "--only", "link", "--link-backlog", "1000", "--rtt", "5", "--reps", "1", "--json"}, &out, &errOut)
	if err != nil {
		t.Fatalf("bench --only link: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), `"baseline": "raw jetstream async, 5 ms RTT"`) || !strings.Contains(out.String(), `"bytes_up_per_event"`) {
		t.Errorf("bench --only link output %s", out.String())
	}
	if err := Run(context.Background(), []string{"bench", "--rtt", "fast"}, &out, &errOut); exitCode(err) != 2 {
		t.Errorf("bench --rtt fast: %v", err)
	}
	if err := Run(context.Background(), []string{"bench", "--only", "everything"}, &out, &errOut); exitCode(err) != 2 {
		t.Errorf("bench --only everything: %v", err)
	}
}

// The "more may follow" hint appears for a full page as the library counts it: --limit
// 0 means 100 and anything above 1000 means 1000.
func TestPageSize(t *testing.T) {
	for n, want := range map[int]int{0: 100, 1: 1, 100: 100, 1000: 1000, 1001: 1000, 5000: 1000} {
		if got := pageSize(n); got != want {
			t.Errorf("pageSize(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestDeadLettersListPaging(t *testing.T) {
	db := newOutbox(t)
	deadLetters(t, db, 3)
	r := mustRun(t, "dead-letters", "list", "--db", db, "--limit", "2")
	if !strings.Contains(r.stdout, "(more may follow: add --before-id 2)") {
		t.Errorf("--limit 2:\n%s", r.stdout)
	}
	r = mustRun(t, "dead-letters", "list", "--db", db, "--limit", "3000")
	if strings.Contains(r.stdout, "more may follow") || strings.Count(r.stdout, "cow_fed v2") != 3 {
		t.Errorf("--limit 3000:\n%s", r.stdout)
	}
	if r := run(t, "dead-letters", "list", "--db", db, "--limit", "-1"); r.code() != 2 || !strings.Contains(r.stderr, "must not be negative") {
		t.Errorf("--limit -1: exit %d, stderr %q", r.code(), r.stderr)
	}
}
