package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/edgeoutbox/edgeoutbox/internal/bench"
)

func benchCommand() *command {
	return &command{
		Name:    "bench",
		Args:    "[--events N] [--backlog N] [--reps N] [--only emit|drain|nats|kafka|backlog|link|memory] [--sizes N,N,...] [--rounds N] [--quick] [--link-backlog N] [--rtt MS,...] [--memory-events N] [--memory-large N] [--json]",
		Summary: "measure the library against raw SQLite, JetStream and Kafka baselines in one run",
		Details: `Each line compares the library with a baseline measured in the same run on the
same machine, so the ratio means something even on a busy, shared machine: Emit
with 1, 8 and 64 emitters beside raw SQLite inserts with as many rows per
transaction; EmitBatch beside raw 1000-row transactions; the relay draining a
backlog through the memory transport beside a raw "select 500 due rows, mark them
published" loop; the relay draining to JetStream beside raw asynchronous JetStream
publishing of the same messages from memory; and the relay draining to core NATS
beside the raw SQLite drain; and the relay draining to an in-process Kafka (kfake)
beside raw franz-go ProduceSync of the same records from memory. Subject and
baseline run alternately; the best of --reps runs of each is kept. Everything runs
in a temporary directory with an embedded NATS server and Kafka cluster.

The backlog group measures how costs change with the number of pending events
(--sizes, default 0,100000,1000000; each figure at the largest against the
smallest, target 0.8): Emit from 64 goroutines, the same with MaxPendingEvents
set, DeliveryInline Emit from 8, Stats p99, ListEvents by name p99 and the relay's
drain rate to the memory transport, in --rounds rounds (the sizes alternate; the
best figure is kept). Then the bytes written to disk per event with
1 and 64 emitters (Linux only), the disk peak of a Cleanup of the largest backlog
once drained, and Emit and EmitBatch of 64 beside raw transactions on a bare
table. The 1000000 backlog needs about 1.5 GB of temporary disk and a few minutes.
--quick runs every group at small sizes (a smoke test, not figures).

--only link (not part of the default run: it takes minutes) drains a backlog of
--link-backlog events of 64 entities to JetStream through a simulated link (a TCP
proxy adding each round trip of --rtt) beside raw asynchronous JetStream
publishing of the same messages through the same link, and checks after each
drain that the stream holds every event once in per-entity order. It also prints
the bytes per event on the wire for every message layout and the CPU time per
event of the relay against the raw SQLite drain plus raw JetStream publishing.
The broker runs in its own process, built with "go build" from the module cache
(so run it from a checkout of this module; elsewhere it falls back to an
in-process broker and says so), and its CPU time is counted apart. With --json it
prints one object holding comparisons, wire and cpu.

--only memory (not part of the default run) measures what draining costs in memory:
a backlog of --memory-events events with ~200-byte payloads, then one of
--memory-large events with 64 KB payloads, each drained to JetStream by a small
program of its own (internal/bench/drainchild, built with "go build": run it from a
checkout of this module) through DialNATS and the NATS transport, with nats-server in
another process. It prints the drain rate, the peak resident set size sampled every
100 ms (and the kernel's high-water mark) and the peak Go heap. The 1000000-event
backlog needs about 1 GB of temporary disk.`,
		run: runBench,
	}
}

type benchLine struct {
	Subject      string  `json:"subject"`
	SubjectRate  float64 `json:"subject_events_per_second"`
	Baseline     string  `json:"baseline"`
	BaselineRate float64 `json:"baseline_events_per_second"`
	Ratio        float64 `json:"ratio"`
	Target       float64 `json:"target,omitempty"`
}

func runBench(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := newFlagSet(cmd)
	events := fs.Int("events", 50000, "events per emit measurement")
	backlog := fs.Int("backlog", 200000, "events in each drain backlog")
	reps := fs.Int("reps", 3, "runs of each side; the best is kept")
	only := fs.String("only", "", "run one group: emit, drain, nats, kafka, backlog, link or memory")
	sizes := fs.String("sizes", "", "pending backlogs the backlog group measures, smallest first (default 0,100000,1000000)")
	rounds := fs.Int("rounds", 0, "rounds of the backlog group, sizes alternating, best kept (default 2)")
	quick := fs.Bool("quick", false, "small sizes everywhere: checks that the benchmarks run, measures nothing")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	linkBacklog := fs.Int("link-backlog", 100000, "events in the link benchmark's backlog")
	rttList := fs.String("rtt", "0,20,100,300", "round trips of the link benchmark, in milliseconds")
	memEvents := fs.Int("memory-events", 1000000, "events of ~200 B in the memory benchmark's first backlog")
	memLarge := fs.Int("memory-large", 10000, "events of 64 KB in the memory benchmark's second backlog (0: none)")
	rest, err := c.parse(cmd, fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(cmd, fs, rest, 0, 0, ""); err != nil {
		return err
	}
	if *events < 100 || *backlog < 1000 || *reps < 1 || *rounds < 0 {
		return usageErrorf(cmd, fs, "--events must be at least 100, --backlog at least 1000, --reps and --rounds at least 1")
	}
	switch *only {
	case "", "emit", "drain", "nats", "kafka", "backlog", "link", "memory":
	default:
		return usageErrorf(cmd, fs, "--only %q: use emit, drain, nats, kafka, backlog, link or memory", *only)
	}
	if *memEvents < 1000 || *memLarge < 0 {
		return usageErrorf(cmd, fs, "--memory-events must be at least 1000 and --memory-large not negative")
	}
	opts := bench.DefaultBacklogOptions()
	if *quick {
		*events, *backlog, *reps = 1000, 2000, 1
		*memEvents, *memLarge = 2000, 20
		opts = bench.QuickBacklogOptions()
	}
	if *rounds > 0 {
		opts.SizeReps = *rounds
	}
	if *sizes != "" {
		if opts.Sizes, err = parseSizes(*sizes); err != nil {
			return usageErrorf(cmd, fs, "--sizes %q: %v", *sizes, err)
		}
	}
	rtts, err := parseRTTs(*rttList)
	if err != nil || *linkBacklog < 1000 {
		return usageErrorf(cmd, fs, "--rtt must list round trips in milliseconds (e.g. 0,20,100,300) and --link-backlog be at least 1000")
	}
	dir, err := os.MkdirTemp("", "edgeoutbox-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	if *only == "link" {
		rep, err := bench.LinkSuite(ctx, dir, *linkBacklog, *reps, rtts)
		if err != nil {
			return fmt.Errorf("link benchmark: %w", err)
		}
		return printLink(c, rep, *asJSON)
	}

	if *only == "memory" {
		cases := []bench.MemoryCase{{Events: *memEvents, PayloadBytes: 200}}
		if *memLarge > 0 {
			cases = append(cases, bench.MemoryCase{Events: *memLarge, PayloadBytes: 64 << 10})
		}
		logf := func(format string, args ...any) { fmt.Fprintf(c.stderr, format+"\n", args...) }
		drains, err := bench.MemorySuite(ctx, dir, cases, logf)
		if err != nil {
			return fmt.Errorf("memory benchmark: %w", err)
		}
		return printMemory(c, drains, *asJSON)
	}

	var all []bench.Comparison
	report := func(cs ...bench.Comparison) {
		all = append(all, cs...)
		if !*asJSON {
			for _, cmp := range cs {
				fmt.Fprintln(c.stdout, cmp)
			}
		}
	}
	if *only == "" || *only == "emit" {
		cs, err := bench.EmitSuite(ctx, dir, *events, *reps)
		if err != nil {
			return fmt.Errorf("emit benchmark: %w", err)
		}
		report(cs...)
	}
	if *only == "" || *only == "drain" {
		cmp, err := bench.DrainSuite(ctx, dir, *backlog, *reps)
		if err != nil {
			return fmt.Errorf("drain benchmark: %w", err)
		}
		report(cmp)
	}
	if *only == "" || *only == "nats" {
		cs, err := bench.NATSSuite(ctx, dir, *backlog, *reps)
		if err != nil {
			return fmt.Errorf("nats benchmark: %w", err)
		}
		report(cs...)
	}
	if *only == "" || *only == "kafka" {
		cs, err := bench.KafkaSuite(ctx, dir, *backlog, *reps)
		if err != nil {
			return fmt.Errorf("kafka benchmark: %w", err)
		}
		report(cs...)
	}
	var backlogReport *bench.BacklogReport
	if *only == "" || *only == "backlog" {
		logf := func(format string, args ...any) { fmt.Fprintf(c.stderr, format+"\n", args...) }
		if backlogReport, err = bench.BacklogSuite(ctx, dir, opts, logf); err != nil {
			return fmt.Errorf("backlog benchmark: %w", err)
		}
		if !*asJSON {
			backlogReport.Format(c.stdout)
		}
	}
	if !*asJSON {
		return nil
	}
	out := benchJSON{Comparisons: benchLines(all)}
	if backlogReport != nil {
		out.Backlog = newBacklogJSON(backlogReport)
	}
	return writeJSON(c.stdout, out)
}

func benchLines(all []bench.Comparison) []benchLine {
	lines := make([]benchLine, len(all))
	for i, cmp := range all {
		lines[i] = newBenchLine(cmp)
	}
	return lines
}

// parseSizes reads "0,100000,1000000": at least two sizes, not negative, smallest first.
func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%q is not a number of events", f)
		}
		if len(out) > 0 && n <= out[len(out)-1] {
			return nil, fmt.Errorf("give the sizes smallest first, each once")
		}
		out = append(out, n)
	}
	if len(out) < 2 {
		return nil, fmt.Errorf("give at least two sizes, e.g. 0,100000,1000000")
	}
	return out, nil
}

// parseRTTs reads a comma-separated list of milliseconds.
func parseRTTs(s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, f := range strings.Split(s, ",") {
		ms, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || ms < 0 || ms > 10000 {
			return nil, fmt.Errorf("bad round trip %q", f)
		}
		out = append(out, time.Duration(ms)*time.Millisecond)
	}
	return out, nil
}

type linkWire struct {
	Layout string  `json:"layout"`
	Up     float64 `json:"bytes_up_per_event"`
	Down   float64 `json:"bytes_down_per_event"`
}

type linkCPU struct {
	Name   string  `json:"name"`
	Client float64 `json:"client_cpu_us_per_event"`
	Broker float64 `json:"broker_cpu_us_per_event"`
}

type linkJSON struct {
	Comparisons []benchLine `json:"comparisons"`
	Wire        []linkWire  `json:"wire"`
	CPU         []linkCPU   `json:"cpu"`
	Note        string      `json:"note,omitempty"`
}

func printLink(c *cli, rep bench.LinkReport, asJSON bool) error {
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	if asJSON {
		out := linkJSON{Comparisons: benchLines(rep.Comparisons), Note: rep.Note}
		for _, w := range rep.Wire {
			out.Wire = append(out.Wire, linkWire{Layout: w.Layout, Up: w.Up, Down: w.Down})
		}
		for _, f := range rep.CPU {
			out.CPU = append(out.CPU, linkCPU{Name: f.Name, Client: us(f.Client), Broker: us(f.Broker)})
		}
		return writeJSON(c.stdout, out)
	}
	for _, cmp := range rep.Comparisons {
		fmt.Fprintln(c.stdout, cmp)
	}
	fmt.Fprintln(c.stdout, "\nbytes on the wire per event (up: messages, down: acks)")
	for _, w := range rep.Wire {
		fmt.Fprintf(c.stdout, "%-48s up %6.0f  down %5.0f\n", w.Layout, w.Up, w.Down)
	}
	fmt.Fprintln(c.stdout, "\nCPU time per event")
	for _, f := range rep.CPU {
		fmt.Fprintf(c.stdout, "%-72s client %6.1f µs  broker %6.1f µs\n", f.Name, us(f.Client), us(f.Broker))
	}
	if rep.Note != "" {
		fmt.Fprintln(c.stdout, "\nnote:", rep.Note)
	}
	return nil
}

// memoryJSON is one drain of bench --only memory --json.
type memoryJSON struct {
	Events       int     `json:"events"`
	PayloadBytes int     `json:"payload_bytes"`
	PeakRSS      int64   `json:"peak_rss_bytes"`
	HighWater    int64   `json:"high_water_rss_bytes"`
	PeakHeap     int64   `json:"peak_heap_bytes"`
	Rate         float64 `json:"events_per_second"`
	Note         string  `json:"note,omitempty"`
}

func printMemory(c *cli, drains []bench.MemoryDrain, asJSON bool) error {
	if !asJSON {
		for _, d := range drains {
			fmt.Fprintln(c.stdout, d)
		}
		return nil
	}
	out := make([]memoryJSON, len(drains))
	for i, d := range drains {
		out[i] = memoryJSON{Events: d.Events, PayloadBytes: d.PayloadBytes, PeakRSS: d.PeakRSS, HighWater: d.HighWater,
			PeakHeap: d.PeakHeap, Rate: d.Rate(), Note: d.Note}
	}
	return writeJSON(c.stdout, struct {
		Memory []memoryJSON `json:"memory"`
	}{out})
}
