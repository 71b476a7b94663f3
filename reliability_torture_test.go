package edgeoutbox

import (
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/edgeoutbox/edgeoutbox/natstest"
)

// TestKill9Torture starts a child process that emits from several goroutines and
// relays to a JetStream server owned by this test, kills it with SIGKILL at random
// moments (during start-up, mid-emit, mid-publish) and restarts it on the same
// database file. After every kill the file must pass PRAGMA integrity_check. At the
// end a relay-only child drains the outbox, and the stream must hold every key whose
// Emit returned nil exactly once, no key twice, and every entity's events in order.
//
// -short: 5 kills; otherwise 24.
func TestKill9Torture(t *testing.T) {
	t.Parallel()
	kills := 24
	if testing.Short() {
		kills = 5
	}
	runTorture(t, kills, SyncFull)
}

// TestKill9TortureSyncNormal is the torture at SyncNormal, 5 kills: a process crash
// loses no acknowledged emit at NORMAL either, because the operating system still
// holds what was written; only an operating-system crash or power cut can take the
// last commits back at NORMAL.
func TestKill9TortureSyncNormal(t *testing.T) {
	t.Parallel()
	runTorture(t, 5, SyncNormal)
}

func runTorture(t *testing.T, kills int, level Synchronous) {
	bin := buildTortureChild(t)
	srv := natstest.StartServer(t)
	dbPath := filepath.Join(t.TempDir(), "torture.db")
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0))
	t.Logf("seed %d", seed)
	args := func(run int, extra ...string) []string {
		return append([]string{"-db", dbPath, "-nats", srv.URL(), "-stream", "TORTURE",
			"-lease-ttl", "500ms", "-emitters", "4", "-sync", string(level), "-run", strconv.Itoa(run)}, extra...)
	}

	started := time.Now()
	var acked []string
	duringStartup := 0
	for run := 1; run <= kills; run++ {
		c := startChild(t, bin, args(run)...)
		var delay time.Duration
		switch {
		case run%5 == 2:
			// Kill while opening: migrations, settings, lease.
			delay = time.Duration(rng.IntN(12)) * time.Millisecond
		case run%3 == 0:
			// Live past the previous owner's lease so the relay publishes: the kill
			// lands between publishing and marking published.
			delay = 600*time.Millisecond + time.Duration(rng.IntN(900))*time.Millisecond
		default:
			delay = 20*time.Millisecond + time.Duration(rng.IntN(400))*time.Millisecond
		}
		timer := time.NewTimer(delay)
		select {
		case <-timer.C:
		case <-c.exited:
			timer.Stop()
		}
		ready := false
		select {
		case <-c.ready:
			ready = true
		default:
			duringStartup++
		}
		c.kill() // returns once the child is reaped: nothing writes the file any more
		keys, errs, _, waitErr := c.result()
		if len(errs) > 0 {
			t.Fatalf("run %d: child reported %q (exit %v); stderr:\n%s", run, errs, waitErr, c.stderrText())
		}
		acked = append(acked, keys...)
		if _, err := os.Stat(dbPath); errors.Is(err, fs.ErrNotExist) && !ready {
			continue // killed before Open created the file: there is nothing to check
		}
		checkFileIntegrity(t, dbPath)
	}
	tortureTook := time.Since(started)

	// Events in JetStream but not marked published when their relay was killed: the
	// drain re-sends them and the server must drop every re-send.
	_, pendingBefore := storedKeys(t, dbPath)
	nc := srv.Connect(t)
	before := checkStream(t, readStream(t, nc, "TORTURE"), nil)
	resent := 0
	for k := range pendingBefore {
		if before[k] {
			resent++
		}
	}

	drainStarted := time.Now()
	final := startChild(t, bin, args(kills+1, "-emitters", "0", "-drain")...)
	final.wait(t, 90*time.Second)
	if _, errs, done, waitErr := final.result(); len(errs) > 0 || !done || waitErr != nil {
		t.Fatalf("drain child: errs %q, done %v, exit %v; stderr:\n%s", errs, done, waitErr, final.stderrText())
	}
	drainTook := time.Since(drainStarted)
	checkFileIntegrity(t, dbPath)

	msgs := readStream(t, nc, "TORTURE")
	inStream := checkStream(t, msgs, acked)
	stored, pending := storedKeys(t, dbPath)
	if len(pending) != 0 {
		t.Fatalf("%d events still pending after the drain", len(pending))
	}
	for k := range stored {
		if !inStream[k] {
			t.Fatalf("stored event %s never reached the stream", k)
		}
	}
	if len(msgs) != len(stored) {
		t.Fatalf("stream holds %d messages, database %d events", len(msgs), len(stored))
	}
	t.Logf("%s: %d kills (%d during start-up) in %v; %d emits acknowledged, %d events stored (%d stored but unacknowledged when killed); "+
		"%d pending before the drain, %d of them already in JetStream (re-sent and de-duplicated); drain %v; stream %d messages, all unique, per-entity order held",
		level, kills, duringStartup, tortureTook.Round(time.Millisecond), len(acked), len(stored), len(stored)-len(acked),
		len(pendingBefore), resent, drainTook.Round(time.Millisecond), len(msgs))
}
