//go:build linux

package edgeoutbox

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/edgeoutbox/edgeoutbox/natstest"
)

// TestFrozenRelayProcessSendsNothingAfterTakeover runs two relay processes on one
// database file, fed by a third process that emits without pause, and freezes the
// lease holder (SIGSTOP) while its messages flow, past its lease, until the standby
// has taken the lease over and published, and longer than the stream's duplicate
// window; then resumes it (SIGCONT). The roles then swap and it starts again.
//
// Each relay reaches the broker through its own counting proxy, which reads the
// client protocol and counts the event messages (PUB/HPUB on events.>) each process
// sends. The frozen relay's count is taken once everything it wrote before the stop
// has been read (its socket queues empty): after it resumes, that count must not
// move. A message it sent then would be stored again (the duplicate window is
// shorter than the freeze), after later events of its entity: the stream check
// (every event once, per-entity versions increasing) would catch that too.
func TestFrozenRelayProcessSendsNothingAfterTakeover(t *testing.T) {
	const (
		ttl    = 2 * time.Second         // lease TTL of both relays
		window = 10 * time.Second        // stream duplicate window: longer than a takeover (up to 6 s seen here under load), shorter than the freeze
		settle = 1500 * time.Millisecond // how long a resumed relay is watched before the next cycle
		wait   = 60 * time.Second        // deadline of every condition
	)
	cycles, backlog := 2, 10000
	if testing.Short() {
		cycles, backlog = 1, 3000
	}
	bin := buildTortureChild(t)
	srv := natstest.StartServer(t)
	dir := t.TempDir()
	dbPath, finish := filepath.Join(dir, "freeze.db"), filepath.Join(dir, "finish")
	target := strings.TrimPrefix(srv.URL(), "nats://")

	emitter := startChild(t, bin, "-db", dbPath, "-emitters", "2", "-count", "0", "-entity", "f", "-pad", "200",
		"-busy-timeout", "2m") // a relay frozen inside a write transaction holds the lock meanwhile
	waitCond(t, wait, "the emitter's backlog", func() bool { return len(childKeys(emitter)) >= backlog || exitedEarly(emitter) })
	if exitedEarly(emitter) {
		t.Fatalf("emitter exited: %s", emitter.stderrText())
	}

	type relayProc struct {
		name  string
		proc  *childProc
		proxy *countingProxy
	}
	startRelay := func(name string) *relayProc {
		p := startCountingProxy(t, target)
		c := startChild(t, bin, "-db", dbPath, "-nats", "nats://"+p.addr(), "-stream", "FREEZE",
			"-dup-window", window.String(), "-emitters", "0", "-lease-ttl", ttl.String(), "-drain", "-until", finish)
		return &relayProc{name: name, proc: c, proxy: p}
	}
	a := startRelay("A")
	waitCond(t, wait, "relay A to take the lease and publish", func() bool { return a.proxy.events.Load() > 0 })
	b := startRelay("B")
	waitCond(t, wait, "relay B to start", func() bool {
		select {
		case <-b.proc.ready:
			return true
		default:
			return false
		}
	})

	leaseDB, err := sql.Open("sqlite", "file:"+escapePath(dbPath)+"?mode=rw&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { leaseDB.Close() })
	leaseOwner := func() string {
		var owner string
		if err := leaseDB.QueryRow("SELECT owner FROM edgeoutbox_leases WHERE name = ?", relayLease).Scan(&owner); err != nil && err != sql.ErrNoRows {
			t.Fatalf("read the lease: %v", err)
		}
		return owner
	}
	ownerA := leaseOwner()
	name := func(owner string) string {
		switch owner {
		case ownerA:
			return "A"
		case "":
			return "-"
		}
		return "B?" + owner[:min(6, len(owner))]
	}
	var trace []string

	// A cycle is judged when the standby kept the lease for most of the watch after
	// the resume; on a busy machine a renewal can starve and the lease change hands
	// legitimately, and then the cycle is repeated (at most 3 times the cycles).
	// A freeze that lands inside a write transaction proves nothing and is repeated; it
	// counts against its own cap (lockedFreezes), not the cycles': on a loaded machine a
	// few land there in a row.
	judged, lockedFreezes := 0, 0
	for cycle := 1; judged < cycles; cycle++ {
		if cycle-lockedFreezes > 3*cycles {
			t.Fatalf("only %d of %d freeze cycles could be judged in %d tries (%d frozen inside a write transaction)", judged, cycles, cycle-1, lockedFreezes)
		}
		// The holder is whichever relay's messages flow now.
		holder, standby := a, b
		baseA, baseB := a.proxy.events.Load(), b.proxy.events.Load()
		waitCond(t, wait, "a relay's messages to flow", func() bool {
			return a.proxy.events.Load() >= baseA+300 || b.proxy.events.Load() >= baseB+300
		})
		if b.proxy.events.Load() >= baseB+300 {
			holder, standby = b, a
		}
		pid := holder.proc.cmd.Process.Pid
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		stoppedAt := time.Now()
		waitCond(t, wait, holder.name+" to stop", func() bool { return procState(pid) == 'T' })
		if lockedFor(t, dbPath, 300*time.Millisecond) {
			// Frozen inside a write transaction (see below): resume it now.
			if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
				t.Fatal(err)
			}
			waitCond(t, wait, holder.name+" to run again", func() bool { return procState(pid) != 'T' })
			if lockedFreezes++; lockedFreezes > 10 {
				t.Fatalf("%d freezes landed inside a write transaction", lockedFreezes)
			}
			t.Logf("cycle %d: %s was frozen holding the file's write lock; resumed at once, and the cycle repeated", cycle, holder.name)
			continue
		}
		frozen := holder.proxy.quiescedCount(t, wait)
		before := standby.proxy.events.Load()
		// A process frozen inside a write transaction holds the file's write lock:
		// nobody can take the lease over until it resumes (SQLite, not the fence). That
		// freeze proves nothing here: resume it and freeze it again.
		if err := natstest.Wait(5*ttl, "takeover", func() bool { return standby.proxy.events.Load() > before }); err != nil {
			if !writeLocked(t, dbPath) {
				t.Fatalf("%s did not take the lease over within %v of the stop, and the file is not write-locked", standby.name, 5*ttl)
			}
			if lockedFreezes++; lockedFreezes > 10 {
				t.Fatalf("%d freezes landed inside a write transaction", lockedFreezes)
			}
			t.Logf("cycle %d: %s was frozen holding the file's write lock; resumed, and the cycle repeated", cycle, holder.name)
			if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
				t.Fatal(err)
			}
			waitCond(t, wait, holder.name+" to run again", func() bool { return procState(pid) != 'T' })
			continue
		}
		tookOver := time.Since(stoppedAt)
		newOwner := leaseOwner() // the standby's: the holder is frozen
		// Resume once the freeze is longer than the duplicate window: a stale copy of
		// anything the holder had sent before the stop would be stored again.
		waitCond(t, wait, "the freeze to outlast the duplicate window", func() bool {
			return time.Since(stoppedAt) >= max(window+time.Second, tookOver+2*time.Second)
		})

		conns := holder.proxy.connCount()
		if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
		resumedAt := time.Now()
		waitCond(t, wait, holder.name+" to run again", func() bool { return procState(pid) != 'T' })
		// Stale sends would leave at once; watch a while the standby keeps publishing.
		// A count read while the lease row still names the standby (read after the
		// count) holds only sends made while the standby held the lease: it cannot
		// have lost the lease and won it back within one TTL.
		mark := standby.proxy.events.Load()
		var lastJudged time.Duration
		sent := int64(-1)
		changed := false // the lease left the standby: judge nothing after that
		trace = trace[:0]
		waitCond(t, wait, standby.name+" to keep publishing after "+holder.name+" resumed", func() bool {
			count := holder.proxy.events.Load()
			o := leaseOwner()
			trace = append(trace, fmt.Sprintf("%v owner %s %s=%d %s=%d", time.Since(resumedAt).Round(time.Millisecond), name(o),
				holder.name, count, standby.name, standby.proxy.events.Load()))
			changed = changed || o != newOwner
			if !changed {
				sent, lastJudged = count-frozen, time.Since(resumedAt)
			}
			return time.Since(resumedAt) >= settle && (standby.proxy.events.Load() > mark || changed)
		})
		switch {
		case sent != 0:
			t.Logf("newOwner %s; trace:\n%s", name(newOwner), strings.Join(trace[:min(len(trace), 15)], "\n"))
			t.Errorf("cycle %d: %s sent %d event messages after it resumed, while %s held the lease", cycle, holder.name, sent, standby.name)
		case lastJudged < settle/2:
			// The standby lost the lease early (its renewal starved on the busy
			// machine): the stream check below still covers this cycle.
			t.Logf("cycle %d: %s lost the lease %v after %s resumed; sends judged only until then; trace:\n%s",
				cycle, standby.name, lastJudged, holder.name, strings.Join(trace[:min(len(trace), 15)], "\n"))
		default:
			judged++
		}
		t.Logf("cycle %d: %s frozen after %d messages for %v; %s published %v after the stop; %s resumed and sent %d while %s held the lease (watched %v); connections replaced: %d",
			cycle, holder.name, frozen, resumedAt.Sub(stoppedAt).Round(time.Millisecond),
			standby.name, tookOver.Round(time.Millisecond), holder.name, max(sent, 0), standby.name, lastJudged.Round(time.Millisecond),
			holder.proxy.connCount()-conns)
	}

	emitter.kill()
	if err := os.WriteFile(finish, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*relayProc{a, b} {
		r.proc.wait(t, 2*wait)
		_, errs, done, waitErr := r.proc.result()
		if len(errs) > 0 || !done || waitErr != nil {
			t.Fatalf("relay %s: errors %q, done %v, exit %v; stderr:\n%s", r.name, errs, done, waitErr, r.proc.stderrText())
		}
	}
	acked := childKeys(emitter)
	stored, pending := storedKeys(t, dbPath)
	if len(pending) != 0 {
		t.Fatalf("%d events still pending", len(pending))
	}
	msgs := readStream(t, srv.Connect(t), "FREEZE")
	checkStream(t, msgs, acked)
	if len(msgs) != len(stored) {
		t.Fatalf("stream holds %d messages, the database %d events", len(msgs), len(stored))
	}
	if t.Failed() {
		t.Logf("A stderr:\n%s\nB stderr:\n%s", a.proc.stderrText(), b.proc.stderrText())
	}
	t.Logf("%d events (%d acknowledged by the emitter) in the stream once each, in per-entity order; event messages sent by A %d, by B %d",
		len(stored), len(acked), a.proxy.events.Load(), b.proxy.events.Load())
}

// writeLocked reports whether another connection holds the database file's write
// lock: BEGIN IMMEDIATE without waiting fails.
func writeLocked(t *testing.T, path string) bool {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+escapePath(path)+"?mode=rw&_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		return strings.Contains(strings.ToLower(err.Error()), "locked") || strings.Contains(strings.ToLower(err.Error()), "busy")
	}
	_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
	return false
}

// lockedFor reports whether the database file stays write-locked for all of d
// (probed every 20 ms): a process stopped inside a write transaction.
func lockedFor(t *testing.T, path string, d time.Duration) bool {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); {
		if !writeLocked(t, path) {
			return false
		}
		<-time.After(20 * time.Millisecond)
	}
	return true
}

// waitCond waits for cond, failing the test after timeout.
func waitCond(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	natstest.WaitFor(t, timeout, what, cond)
}

func childKeys(c *childProc) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.keys...)
}

func exitedEarly(c *childProc) bool {
	select {
	case <-c.exited:
		return true
	default:
		return false
	}
}

// procState returns the state letter of process pid from /proc (T: stopped), or 0.
func procState(pid int) byte {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0
	}
	return b[i+2]
}

// countingProxy forwards TCP connections to a NATS server and counts the event
// messages (PUB/HPUB on events.>) the clients send, reading the client protocol with
// protoScanner.
type countingProxy struct {
	ln     net.Listener
	target string
	events atomic.Int64

	mu    sync.Mutex
	conns []*proxiedConn
}

// proxiedConn is one client connection. mu is held while a chunk is read and
// counted, so that holding it means every byte read so far has been counted.
type proxiedConn struct {
	mu     sync.Mutex
	client net.Conn
	closed bool
}

func startCountingProxy(t *testing.T, target string) *countingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &countingProxy{ln: ln, target: target}
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, c := range p.conns {
			c.client.Close()
		}
	})
	go p.accept()
	return p
}

func (p *countingProxy) addr() string { return p.ln.Addr().String() }

func (p *countingProxy) connCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

func (p *countingProxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		pc := &proxiedConn{client: client}
		p.mu.Lock()
		p.conns = append(p.conns, pc)
		p.mu.Unlock()
		go func() {
			_, _ = io.Copy(client, server)
			client.Close()
		}()
		go p.forward(pc, server)
	}
}

// forward copies the client's bytes to the server, counting event messages.
func (p *countingProxy) forward(pc *proxiedConn, server net.Conn) {
	defer server.Close()
	defer pc.client.Close()
	scan := protoScanner{onMsg: func(line []byte) {
		if f := bytes.Fields(line); len(f) > 1 && bytes.HasPrefix(f[1], []byte("events.")) {
			p.events.Add(1)
		}
	}}
	buf := make([]byte, 64<<10)
	for {
		pc.mu.Lock()
		_ = pc.client.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		n, err := pc.client.Read(buf)
		if n > 0 {
			scan.feed(buf[:n])
			if _, werr := server.Write(buf[:n]); werr != nil {
				err = werr
			}
		}
		var ne net.Error
		if err != nil && !(errors.As(err, &ne) && ne.Timeout()) {
			pc.closed = true
			pc.mu.Unlock()
			return
		}
		pc.mu.Unlock()
	}
}

// quiescedCount returns the event count once every byte the (stopped) client wrote
// has been read and counted: both ends' socket queues are empty while no chunk is
// being counted.
func (p *countingProxy) quiescedCount(t *testing.T, timeout time.Duration) int64 {
	t.Helper()
	var count int64
	waitCond(t, timeout, "the proxy to read everything the stopped relay wrote", func() bool {
		p.mu.Lock()
		conns := append([]*proxiedConn(nil), p.conns...)
		p.mu.Unlock()
		for _, c := range conns {
			c.mu.Lock()
			defer c.mu.Unlock()
		}
		queues, err := tcpQueues()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range conns {
			if c.closed {
				continue
			}
			clientSide, proxySide := procNetAddr(c.client.RemoteAddr()), procNetAddr(c.client.LocalAddr())
			if queues[clientSide][0] != 0 || queues[proxySide][1] != 0 {
				return false
			}
		}
		count = p.events.Load()
		return true
	})
	return count
}

// tcpQueues reads /proc/net/tcp: per local address, the send and receive queue sizes.
func tcpQueues() (map[string][2]int64, error) {
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return nil, err
	}
	out := map[string][2]int64{}
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		tx, rx, ok := strings.Cut(f[4], ":")
		if !ok {
			continue
		}
		txn, err1 := strconv.ParseInt(tx, 16, 64)
		rxn, err2 := strconv.ParseInt(rx, 16, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		out[f[1]] = [2]int64{txn, rxn}
	}
	return out, nil
}

// procNetAddr formats a 127.0.0.1 TCP address the way /proc/net/tcp does.
func procNetAddr(a net.Addr) string {
	ta := a.(*net.TCPAddr)
	ip := ta.IP.To4()
	return fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], ta.Port)
}
