package edgeoutbox

import (
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/edgeoutbox/edgeoutbox/natstest"
)

// TestTwoProcessesOneDatabase runs two child processes on one database file, each
// emitting from several goroutines and each running a relay to the same JetStream
// stream; only the lease holder publishes, and the other takes over when the first
// exits. No caller may see an error ("database is locked" included: a child prints
// ERR and exits 1 on any failed Emit), every event is stored once, and the stream
// holds every key exactly once in per-entity order.
func TestTwoProcessesOneDatabase(t *testing.T) {
	t.Parallel()
	// 8 000 events in about 10 s of two processes contending for the file, at the
	// durable level, where each transaction holds the lock longest.
	perEmitter := 1000
	if testing.Short() {
		perEmitter = 300
	}
	const emitters = 4
	bin := buildTortureChild(t)
	srv := natstest.StartServer(t)
	dbPath := filepath.Join(t.TempDir(), "shared.db")
	args := func(prefix string) []string {
		return []string{"-db", dbPath, "-nats", srv.URL(), "-stream", "SHARED", "-lease-ttl", "1s",
			"-emitters", strconv.Itoa(emitters), "-count", strconv.Itoa(perEmitter), "-entity", prefix, "-drain"}
	}
	started := time.Now()
	a := startChild(t, bin, args("a")...)
	b := startChild(t, bin, args("b")...)
	a.wait(t, 120*time.Second)
	b.wait(t, 120*time.Second)
	took := time.Since(started)

	var acked []string
	for name, c := range map[string]*childProc{"a": a, "b": b} {
		keys, errs, done, waitErr := c.result()
		if len(errs) > 0 || !done || waitErr != nil {
			t.Fatalf("child %s: errors %q, done %v, exit %v; stderr:\n%s", name, errs, done, waitErr, c.stderrText())
		}
		if len(keys) != emitters*perEmitter {
			t.Fatalf("child %s acknowledged %d emits, want %d", name, len(keys), emitters*perEmitter)
		}
		acked = append(acked, keys...)
	}
	checkFileIntegrity(t, dbPath)
	stored, pending := storedKeys(t, dbPath)
	if len(stored) != len(acked) || len(pending) != 0 {
		t.Fatalf("database holds %d events (%d pending), want %d, none pending", len(stored), len(pending), len(acked))
	}
	msgs := readStream(t, srv.Connect(t), "SHARED")
	checkStream(t, msgs, acked)
	if len(msgs) != len(acked) {
		t.Fatalf("stream holds %d messages, want %d", len(msgs), len(acked))
	}
	t.Logf("2 processes x %d emitters x %d events = %d events stored and published once each in %v",
		emitters, perEmitter, len(acked), took.Round(time.Millisecond))
}
