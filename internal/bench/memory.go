package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
)

// MemoryCase is one drain the memory benchmark measures: a backlog of Events events
// whose payloads are about PayloadBytes long.
type MemoryCase struct {
	Events       int
	PayloadBytes int
}

// MemoryDrain is what the memory benchmark measured of one drain, in a process of its
// own that relays to a nats-server in another.
type MemoryDrain struct {
	MemoryCase
	// PeakRSS is the largest resident set size sampled every 100 ms; HighWater is the
	// kernel's own peak (VmHWM), which a sample can miss. Linux only (0 elsewhere).
	PeakRSS, HighWater int64
	// PeakHeap is the largest Go heap (live and unswept objects) sampled every 100 ms.
	PeakHeap int64
	Elapsed  time.Duration
	Note     string // how the broker ran, when not as asked
}

// Rate is events per second.
func (m MemoryDrain) Rate() float64 { return rate(m.Events, m.Elapsed) }

func (m MemoryDrain) String() string {
	s := fmt.Sprintf("drain memory: %d events of ~%d B payload: peak RSS %.1f MB (high water %.1f MB), peak Go heap %.1f MB, %.0f events/s",
		m.Events, m.PayloadBytes, mb(m.PeakRSS), mb(m.HighWater), mb(m.PeakHeap), m.Rate())
	if m.Note != "" {
		s += " (" + m.Note + ")"
	}
	return s
}

// MemorySuite measures each case: it fills a backlog, starts nats-server in its own
// process, and drains the backlog in a child process (internal/bench/drainchild, built
// from this module) whose memory it samples every 100 ms.
func MemorySuite(ctx context.Context, dir string, cases []MemoryCase, logf func(string, ...any)) ([]MemoryDrain, error) {
	child := filepath.Join(dir, "drainchild")
	// Built as the CLI is shipped: static, without cgo, stripped.
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", child, "github.com/edgeoutbox/edgeoutbox/internal/bench/drainchild")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build drainchild (run the benchmark from a checkout of this module): %v: %s", err, strings.TrimSpace(string(out)))
	}
	var out []MemoryDrain
	for i, c := range cases {
		caseDir := filepath.Join(dir, fmt.Sprintf("memory-%d", i))
		if err := os.MkdirAll(caseDir, 0o755); err != nil {
			return nil, err
		}
		logf("memory: filling %d events of ~%d B", c.Events, c.PayloadBytes)
		path := dbPath(caseDir, "backlog")
		if err := fillPayloadBacklog(ctx, path, c); err != nil {
			return nil, err
		}
		m, err := measureDrainMemory(ctx, caseDir, child, path, c)
		removeDB(path)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// fillPayloadBacklog writes c.Events pending events whose payload JSON is about
// c.PayloadBytes long.
func fillPayloadBacklog(ctx context.Context, path string, c MemoryCase) error {
	e, err := Open(ctx, path, edgeoutbox.Config{Synchronous: edgeoutbox.SyncOff, RetentionInterval: -1})
	if err != nil {
		return err
	}
	const overhead = 56 // the payload's JSON without the note's text
	note := strings.Repeat("x", max(c.PayloadBytes-overhead, 0))
	batchSize := max(1, min(fillBatch, (8<<20)/max(c.PayloadBytes, 1)))
	batch := make([]edgeoutbox.Emission, 0, batchSize)
	for i := 0; i < c.Events; i += batchSize {
		batch = batch[:0]
		for j := i; j < min(i+batchSize, c.Events); j++ {
			r := Reading{Kind: "thermometer", Sensor: j % 64, Value: float64(j) / 10, Unit: "celsius", Note: note}
			batch = append(batch, edgeoutbox.Emission{Name: Event.Name(), Inputs: edgeoutbox.Inputs{"reading": r}})
		}
		if _, err := e.EmitBatch(ctx, batch); err != nil {
			e.Close()
			return fmt.Errorf("fill backlog: %w", err)
		}
	}
	if _, err := e.DB().ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		e.Close()
		return fmt.Errorf("fill backlog: checkpoint: %w", err)
	}
	return e.Close()
}

// measureDrainMemory runs the child on path against a fresh nats-server and samples
// the child's resident set every 100 ms.
func measureDrainMemory(ctx context.Context, dir, child, path string, c MemoryCase) (MemoryDrain, error) {
	b, err := startBroker(ctx, dir, true)
	if err != nil {
		return MemoryDrain{}, err
	}
	defer b.stop()
	cmd := exec.CommandContext(ctx, child, "-db", path, "-url", b.url, "-events", strconv.Itoa(c.Events))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		return MemoryDrain{}, fmt.Errorf("start drainchild: %w", err)
	}
	var peakRSS, highWater atomic.Int64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			rss, hwm := procMemory(cmd.Process.Pid)
			if rss > peakRSS.Load() {
				peakRSS.Store(rss)
			}
			if hwm > highWater.Load() {
				highWater.Store(hwm)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	err = cmd.Wait()
	close(done)
	<-sampled
	if err != nil {
		return MemoryDrain{}, fmt.Errorf("drainchild: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	var res struct {
		ElapsedNS int64 `json:"elapsed_ns"`
		PeakHeap  int64 `json:"peak_heap_bytes"`
		HighWater int64 `json:"high_water_bytes"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return MemoryDrain{}, fmt.Errorf("drainchild printed %q: %w", stdout.String(), err)
	}
	return MemoryDrain{MemoryCase: c, PeakRSS: peakRSS.Load(), HighWater: max(highWater.Load(), res.HighWater),
		PeakHeap: res.PeakHeap, Elapsed: time.Duration(res.ElapsedNS), Note: b.note}, nil
}

// procMemory reads a process's resident set size and its peak (VmRSS, VmHWM) from
// /proc, in bytes (Linux; 0 elsewhere or once the process is gone).
func procMemory(pid int) (rss, hwm int64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		if err != nil {
			continue
		}
		if key == "VmRSS" {
			rss = kb << 10
		} else {
			hwm = kb << 10
		}
	}
	return rss, hwm
}
