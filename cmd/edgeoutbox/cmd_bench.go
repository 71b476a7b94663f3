package main

import (
	"context"
	"fmt"
	"os"

	"github.com/edgeoutbox/edgeoutbox/internal/bench"
)

func benchCommand() *command {
	return &command{
		Name:    "bench",
		Args:    "[--events N] [--backlog N] [--reps N] [--only emit|drain|nats|kafka] [--json]",
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
in a temporary directory with an embedded NATS server and Kafka cluster.`,
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
	only := fs.String("only", "", "run one group: emit, drain, nats or kafka")
	asJSON := fs.Bool("json", false, "print the comparisons as JSON")
	rest, err := c.parse(cmd, fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(cmd, fs, rest, 0, 0, ""); err != nil {
		return err
	}
	if *events < 100 || *backlog < 1000 || *reps < 1 {
		return usageErrorf(cmd, fs, "--events must be at least 100, --backlog at least 1000 and --reps at least 1")
	}
	switch *only {
	case "", "emit", "drain", "nats", "kafka":
	default:
		return usageErrorf(cmd, fs, "--only %q: use emit, drain, nats or kafka", *only)
	}
	dir, err := os.MkdirTemp("", "edgeoutbox-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

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
	if !*asJSON {
		return nil
	}
	lines := make([]benchLine, len(all))
	for i, cmp := range all {
		lines[i] = benchLine{Subject: cmp.Subject.Name, SubjectRate: cmp.Subject.Rate(), Baseline: cmp.Baseline.Name,
			BaselineRate: cmp.Baseline.Rate(), Ratio: cmp.Ratio(), Target: cmp.Target}
	}
	return writeJSON(c.stdout, lines)
}
