package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// broker is a NATS server with JetStream for a benchmark: in this process, or in its
// own process so that its CPU time is counted apart from the relay's.
type broker struct {
	url  string
	srv  *server.Server // in-process
	cmd  *exec.Cmd      // own process
	note string         // why it runs in-process when an own process was asked for
}

// startBroker starts a broker whose store is under dir. With own set it builds
// nats-server from the module cache (github.com/nats-io/nats-server/v2, a dependency
// of this module) and runs it as a child process; if that fails, it falls back to an
// in-process server and says why in note.
func startBroker(ctx context.Context, dir string, own bool) (*broker, error) {
	if own {
		b, err := startOwnBroker(ctx, dir)
		if err == nil {
			return b, nil
		}
		s, err2 := startServer(filepath.Join(dir, "store"))
		if err2 != nil {
			return nil, err2
		}
		return &broker{url: s.ClientURL(), srv: s, note: fmt.Sprintf("broker in-process: %v", err)}, nil
	}
	s, err := startServer(filepath.Join(dir, "store"))
	if err != nil {
		return nil, err
	}
	return &broker{url: s.ClientURL(), srv: s}, nil
}

// startOwnBroker builds nats-server into dir and runs it on a free port.
func startOwnBroker(ctx context.Context, dir string) (*broker, error) {
	bin := filepath.Join(dir, "nats-server")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/nats-io/nats-server/v2")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build nats-server (run the benchmark from a checkout of this module): %v: %s", err, strings.TrimSpace(string(out)))
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-js", "-sd", filepath.Join(dir, "store"))
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start nats-server: %w", err)
	}
	b := &broker{url: "nats://127.0.0.1:" + strconv.Itoa(port), cmd: cmd}
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", b.addr(), time.Second)
		if err == nil {
			c.Close()
			return b, nil
		}
		if time.Now().After(deadline) {
			b.stop()
			return nil, fmt.Errorf("nats-server did not accept connections within 15s: %w", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// addr is host:port of the broker.
func (b *broker) addr() string { return strings.TrimPrefix(b.url, "nats://") }

// ownProcess reports whether the broker runs in its own process (its CPU is then
// counted by cpu, not in this process's).
func (b *broker) ownProcess() bool { return b.cmd != nil }

// cpu is the processor time the broker's own process has used so far (0 in-process).
func (b *broker) cpu() time.Duration {
	if b.cmd == nil || b.cmd.Process == nil {
		return 0
	}
	return procCPU(b.cmd.Process.Pid)
}

func (b *broker) stop() {
	if b.srv != nil {
		b.srv.Shutdown()
		b.srv.WaitForShutdown()
	}
	if b.cmd != nil && b.cmd.Process != nil {
		b.cmd.Process.Kill()
		b.cmd.Wait()
	}
}

// procCPU reads a process's user plus system time from /proc (Linux; 0 elsewhere).
// The kernel reports it in clock ticks of 1/100 s on every common Linux build.
func procCPU(pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
