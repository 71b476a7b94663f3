package edgeoutbox

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// tortureChild is the child binary, built once per test binary run and shared by the
// tests that start it (the build links SQLite: seconds on a busy machine).
var tortureChild struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// buildTortureChild builds testdata/torture/child (a main package importing this
// module) once and returns the binary's path; TestMain removes it. It is built
// without -race on purpose: the child's speed must not depend on how the tests run.
func buildTortureChild(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skipf("no go command to build the child process with: %v", err)
	}
	tortureChild.once.Do(func() {
		dir, err := os.MkdirTemp("", "edgeoutbox-torture-child-")
		if err != nil {
			tortureChild.err = err
			return
		}
		tortureChild.dir = dir
		bin := filepath.Join(dir, "torture-child")
		cmd := exec.Command("go", "build", "-o", bin, "./testdata/torture/child")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			tortureChild.err = fmt.Errorf("%w\n%s", err, out)
			return
		}
		tortureChild.bin = bin
	})
	if tortureChild.err != nil {
		t.Fatalf("build torture child: %v", tortureChild.err)
	}
	return tortureChild.bin
}

// removeTortureChild deletes the binary buildTortureChild built, if any.
func removeTortureChild() {
	if tortureChild.dir != "" {
		os.RemoveAll(tortureChild.dir)
	}
}

// childProc is a running torture child and what it has said on stdout.
type childProc struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	ready  chan struct{} // closed at READY
	exited chan struct{} // closed once stdout is drained and the process is reaped

	mu      sync.Mutex
	keys    []string // idempotency keys whose Emit returned nil
	errs    []string // ERR lines
	done    bool     // DONE seen
	waitErr error
}

// startChild starts bin with args and reads its protocol lines until it exits.
func startChild(t testing.TB, bin string, args ...string) *childProc {
	t.Helper()
	c := &childProc{ready: make(chan struct{}), exited: make(chan struct{})}
	c.cmd = exec.Command(bin, args...)
	c.cmd.Stderr = &c.stderr
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start torture child: %v", err)
	}
	t.Cleanup(func() { c.kill() })
	go func() {
		defer close(c.exited)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		readyClosed := false
		for sc.Scan() {
			line := sc.Text()
			c.mu.Lock()
			switch {
			case line == "READY":
				if !readyClosed {
					close(c.ready)
					readyClosed = true
				}
			case line == "DONE":
				c.done = true
			case strings.HasPrefix(line, "K "):
				c.keys = append(c.keys, line[2:])
			case strings.HasPrefix(line, "ERR "):
				c.errs = append(c.errs, line[4:])
			default:
				c.errs = append(c.errs, "unexpected line: "+line)
			}
			c.mu.Unlock()
		}
		err := c.cmd.Wait()
		c.mu.Lock()
		c.waitErr = err
		c.mu.Unlock()
	}()
	return c
}

// kill sends SIGKILL (if the child still runs) and waits until it is reaped.
func (c *childProc) kill() {
	select {
	case <-c.exited:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.exited
}

// wait waits for the child to exit on its own, killing it after timeout.
func (c *childProc) wait(t testing.TB, timeout time.Duration) {
	t.Helper()
	select {
	case <-c.exited:
	case <-time.After(timeout):
		c.kill()
		t.Fatalf("torture child did not finish within %v; stderr:\n%s", timeout, c.stderrText())
	}
}

func (c *childProc) stderrText() string {
	<-c.exited
	return c.stderr.String()
}

// result returns what the child reported. Call it after the child exited.
func (c *childProc) result() (keys, errs []string, done bool, waitErr error) {
	<-c.exited
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.keys, c.errs, c.done, c.waitErr
}

// checkFileIntegrity runs PRAGMA integrity_check on a copy of the database file (see
// snapshotDB) and fails the test unless it says "ok". Call it when no process writes
// the file: after the writer was killed and reaped, or while its engine is idle.
func checkFileIntegrity(t testing.TB, path string) {
	t.Helper()
	if err := fileIntegrity(snapshotDB(t, path)); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// snapshotDB copies the database file at path, with its WAL and rollback journal
// when they exist, into a new directory and returns the copy's path. The checks read
// the copy, opened read-write, and never the original, because:
//   - a process killed mid-write leaves a WAL to recover or a hot journal to roll
//     back, which a read-only connection refuses to do (SQLITE_READONLY_RECOVERY,
//     SQLITE_READONLY_ROLLBACK, or "unable to open database file" without the -shm),
//     and the answer then depends on timing;
//   - opening the original read-write would recover it and, on close, checkpoint and
//     delete its WAL, so the next child would restart on a clean file instead of the
//     crashed one the torture means to hand it.
//
// The -shm file is not copied: SQLite rebuilds it from the WAL when the copy opens.
func snapshotDB(t testing.TB, path string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file to check: %v", err)
	}
	dst := filepath.Join(t.TempDir(), filepath.Base(path))
	for _, suffix := range []string{"", "-wal", "-journal"} {
		data, err := os.ReadFile(path + suffix)
		if suffix != "" && errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatalf("copy database file to check: %v", err)
		}
		if err := os.WriteFile(dst+suffix, data, 0o600); err != nil {
			t.Fatalf("copy database file to check: %v", err)
		}
	}
	return dst
}

// openSnapshot opens a copy made by snapshotDB read-write (so SQLite may recover its
// WAL or roll back its journal) without creating anything that is missing.
func openSnapshot(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", "file:"+escapePath(path)+"?mode=rw&_pragma=busy_timeout(5000)")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

func fileIntegrity(path string) error {
	db, err := openSnapshot(path)
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.Query("PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("integrity_check: %w", err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return fmt.Errorf("integrity_check: %w", err)
		}
		lines = append(lines, s)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("integrity_check: %w", err)
	}
	if len(lines) != 1 || lines[0] != "ok" {
		return fmt.Errorf("integrity_check: %q", lines)
	}
	return nil
}

// streamMsg is one message read back from a JetStream stream.
type streamMsg struct {
	msgID   string
	env     *Envelope
	dataLen int
}

// readStream reads every message of stream in sequence order through an ordered
// consumer and decodes its envelope.
func readStream(t testing.TB, nc *nats.Conn, stream string) []streamMsg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatalf("look up stream %s: %v", stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := int(info.State.Msgs)
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]streamMsg, 0, want)
	for len(out) < want {
		batch, err := cons.Fetch(min(want-len(out), 1000), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatalf("fetch from stream %s: %v", stream, err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			env, err := DecodeEnvelope(m.Data())
			if err != nil {
				t.Fatalf("stream message %d: %v", len(out)+1, err)
			}
			out = append(out, streamMsg{msgID: m.Headers().Get(HeaderMsgID), env: env, dataLen: len(m.Data())})
		}
		if err := batch.Error(); err != nil {
			t.Fatalf("fetch from stream %s: %v", stream, err)
		}
		if n == 0 {
			t.Fatalf("stream %s: read %d of %d messages, then nothing", stream, len(out), want)
		}
	}
	return out
}

// checkStream checks what a stream holds: each idempotency key once (Nats-Msg-Id
// and the envelope agree), every key of mustHave present, and per entity strictly
// growing entity versions in stream order. It returns the keys in the stream.
func checkStream(t testing.TB, msgs []streamMsg, mustHave []string) map[string]bool {
	t.Helper()
	seen := make(map[string]bool, len(msgs))
	lastVersion := map[string]int64{}
	dups := 0
	for i, m := range msgs {
		if m.msgID != m.env.IdempotencyKey {
			t.Fatalf("message %d: Nats-Msg-Id %q but envelope key %q", i+1, m.msgID, m.env.IdempotencyKey)
		}
		if seen[m.msgID] {
			dups++
			if dups <= 5 {
				t.Errorf("key %s appears more than once in the stream", m.msgID)
			}
		}
		seen[m.msgID] = true
		ent := m.env.Entity.Class + "/" + m.env.Entity.ID
		if m.env.Entity.Version == nil {
			t.Fatalf("message %d: no entity version", i+1)
		}
		v := *m.env.Entity.Version
		if last, ok := lastVersion[ent]; ok && v <= last {
			t.Errorf("entity %s: version %d published after version %d (message %d)", ent, v, last, i+1)
		}
		lastVersion[ent] = v
	}
	if dups > 0 {
		t.Fatalf("%d duplicate keys in the stream", dups)
	}
	missing := 0
	for _, k := range mustHave {
		if !seen[k] {
			missing++
			if missing <= 5 {
				t.Errorf("acknowledged key %s is not in the stream", k)
			}
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged keys missing from the stream", missing, len(mustHave))
	}
	return seen
}

// storedKeys reads every idempotency key in the database file, and the keys of the
// events not yet published, from a copy of the file (snapshotDB: the same rule as
// checkFileIntegrity about when to call it) through a plain connection (no engine).
func storedKeys(t testing.TB, path string) (keys, pending map[string]bool) {
	t.Helper()
	db, err := openSnapshot(snapshotDB(t, path))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT idempotency_key, published_at IS NULL FROM edgeoutbox_events")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	keys, pending = map[string]bool{}, map[string]bool{}
	for rows.Next() {
		var k string
		var p bool
		if err := rows.Scan(&k, &p); err != nil {
			t.Fatal(err)
		}
		if keys[k] {
			t.Fatalf("key %s stored twice", k)
		}
		keys[k] = true
		if p {
			pending[k] = true
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return keys, pending
}
