// Package bench measures edgeoutbox against raw SQLite (and raw NATS) baselines in the
// same run, so that results are ratios that survive a noisy, shared machine. The Go
// benchmarks and the "edgeoutbox bench" command both call it.
package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
)

// Result is one measured side of a comparison.
type Result struct {
	Name    string
	Events  int
	Elapsed time.Duration
	// CPU is the processor time the whole process used meanwhile (an in-process NATS
	// server included); CPU/Elapsed is how many cores the run kept busy.
	CPU time.Duration
	// BrokerCPU is the processor time of a broker in its own process meanwhile (0
	// when it runs in this process, where CPU counts it).
	BrokerCPU time.Duration
}

// Cores is the average number of cores busy during the run.
func (r Result) Cores() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.CPU) / float64(r.Elapsed)
}

// measure runs f and fills in its CPU time.
func measure(f func() (Result, error)) (Result, error) {
	before := processCPU()
	r, err := f()
	r.CPU = processCPU() - before
	return r, err
}

// Rate is events per second.
func (r Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Events) / r.Elapsed.Seconds()
}

// Comparison is edgeoutbox beside its baseline.
type Comparison struct {
	Subject, Baseline Result
	// Target is the ratio the project promises (0 when none).
	Target float64
}

// Ratio is subject rate / baseline rate.
func (c Comparison) Ratio() float64 {
	if c.Baseline.Rate() == 0 {
		return 0
	}
	return c.Subject.Rate() / c.Baseline.Rate()
}

// String formats the comparison as one table row.
func (c Comparison) String() string {
	verdict := ""
	if c.Target > 0 {
		verdict = "meets target"
		if c.Ratio() < c.Target {
			verdict = "BELOW target"
		}
		verdict = fmt.Sprintf("  (target %.2f: %s)", c.Target, verdict)
	}
	return fmt.Sprintf("%-32s %8.0f ev/s %4.1f cores | %-34s %8.0f ev/s %4.1f cores | ratio %.2f%s",
		c.Subject.Name, c.Subject.Rate(), c.Subject.Cores(), c.Baseline.Name, c.Baseline.Rate(), c.Baseline.Cores(), c.Ratio(), verdict)
}

// Compare measures subject and baseline alternately, reps times each, and keeps the
// best run of each: on a shared machine the best run is the one least disturbed, and
// alternating exposes both sides to the same conditions.
func Compare(reps int, target float64, subject, baseline func() (Result, error)) (Comparison, error) {
	c := Comparison{Target: target}
	for i := 0; i < max(reps, 1); i++ {
		b, err := measure(baseline)
		if err != nil {
			return c, err
		}
		s, err := measure(subject)
		if err != nil {
			return c, err
		}
		if b.Rate() > c.Baseline.Rate() {
			c.Baseline = b
		}
		if s.Rate() > c.Subject.Rate() {
			c.Subject = s
		}
	}
	return c, nil
}

// Event is the event the benchmarks emit: a few typed fields, like a typical domain event.
var Event = edgeoutbox.Define("bench_reading_taken",
	edgeoutbox.EventType("domain"),
	edgeoutbox.Input("reading"),
	edgeoutbox.EntityClass("kind", edgeoutbox.From("reading"), edgeoutbox.String),
	edgeoutbox.EntityID("sensor", edgeoutbox.From("reading"), edgeoutbox.Int),
	edgeoutbox.RequiredPayload("value", edgeoutbox.From("reading"), edgeoutbox.Float),
	edgeoutbox.RequiredPayload("unit", edgeoutbox.From("reading"), edgeoutbox.String),
	edgeoutbox.OptionalPayload("note", edgeoutbox.From("reading"), edgeoutbox.String),
)

// Reading is the input of Event.
type Reading struct {
	Kind   string  `json:"kind"`
	Sensor int     `json:"sensor"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit"`
	Note   string  `json:"note"`
}

// Inputs returns the inputs of the i-th benchmark event.
func Inputs(i int) edgeoutbox.Inputs {
	return edgeoutbox.Inputs{"reading": Reading{Kind: "thermometer", Sensor: i % 64, Value: float64(i) / 10, Unit: "celsius", Note: "periodic reading"}}
}

// Schema returns an in-memory schema holding Event and Rare.
func Schema() (*edgeoutbox.Schema, error) {
	s, _, err := edgeoutbox.NewSchema(edgeoutbox.DefaultSchemaFile).With(Event, Rare)
	return s, err
}

// Open opens an engine for benchmarks on path.
func Open(ctx context.Context, path string, cfg edgeoutbox.Config) (*edgeoutbox.Engine, error) {
	s, err := Schema()
	if err != nil {
		return nil, err
	}
	cfg.Schema = s
	return edgeoutbox.Open(ctx, path, cfg)
}

// TempDir makes a scratch directory; the returned function removes it.
func TempDir() (string, func(), error) {
	dir, err := os.MkdirTemp("", "edgeoutbox-bench-")
	if err != nil {
		return "", nil, err
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

func dbPath(dir, name string) string { return filepath.Join(dir, name+".db") }

func benchEnabled() bool { return os.Getenv("EDGEOUTBOX_BENCH") == "1" }

func benchBatchSize() int {
	if v, err := strconv.Atoi(os.Getenv("EDGEOUTBOX_BENCH_BATCH")); err == nil && v > 0 {
		return v
	}
	return 500
}
