package main

import "github.com/edgeoutbox/edgeoutbox/internal/bench"

// benchJSON is what "edgeoutbox bench --json" prints.
type benchJSON struct {
	Comparisons []benchLine  `json:"comparisons"`
	Backlog     *backlogJSON `json:"backlog,omitempty"`
}

func newBenchLine(cmp bench.Comparison) benchLine {
	return benchLine{Subject: cmp.Subject.Name, SubjectRate: cmp.Subject.Rate(), Baseline: cmp.Baseline.Name,
		BaselineRate: cmp.Baseline.Rate(), Ratio: cmp.Ratio(), Target: cmp.Target}
}

type backlogJSON struct {
	Sizes   []int           `json:"sizes"`
	Figures []figureJSON    `json:"figures"`
	Writes  []writeCostJSON `json:"bytes_written_per_event"`
	Cleanup cleanupJSON     `json:"cleanup"`
	Bare    []benchLine     `json:"bare_table"`
}

type figureJSON struct {
	Name           string    `json:"name"`
	Unit           string    `json:"unit"`
	HigherIsBetter bool      `json:"higher_is_better"`
	Values         []float64 `json:"values"`
	Ratio          float64   `json:"ratio"`
	Target         float64   `json:"target,omitempty"`
	Limit          float64   `json:"limit_at_largest,omitempty"`
}

type writeCostJSON struct {
	Emitters int      `json:"emitters"`
	Events   int      `json:"events"`
	PerEvent *float64 `json:"bytes_per_event"` // null where the system does not say
	Target   float64  `json:"target"`
}

type cleanupJSON struct {
	Events        int     `json:"events"`
	DatabaseBytes int64   `json:"database_bytes"`
	PeakBytes     int64   `json:"peak_database_plus_wal_bytes"`
	AfterBytes    int64   `json:"after_bytes"`
	Ratio         float64 `json:"ratio"`
	Target        float64 `json:"target"`
	Seconds       float64 `json:"seconds"`
	Finished      bool    `json:"finished"`
	Deleted       int64   `json:"deleted"`
}

func newBacklogJSON(r *bench.BacklogReport) *backlogJSON {
	out := &backlogJSON{Sizes: r.Sizes,
		Cleanup: cleanupJSON{Events: r.Cleanup.Events, DatabaseBytes: r.Cleanup.Database, PeakBytes: r.Cleanup.Peak,
			AfterBytes: r.Cleanup.After, Ratio: r.Cleanup.Ratio(), Target: r.Cleanup.Target, Seconds: r.Cleanup.Took.Seconds(),
			Finished: r.Cleanup.Finished, Deleted: r.Cleanup.Deleted}}
	for _, f := range r.Figures {
		out.Figures = append(out.Figures, figureJSON{Name: f.Name, Unit: f.Unit, HigherIsBetter: f.HigherIsBetter,
			Values: f.Values, Ratio: f.Ratio(), Target: f.Target, Limit: f.Limit})
	}
	for _, w := range r.Writes {
		j := writeCostJSON{Emitters: w.Emitters, Events: w.Events, Target: w.Target}
		if w.Known {
			j.PerEvent = &w.PerEvent
		}
		out.Writes = append(out.Writes, j)
	}
	for _, c := range r.Bare {
		out.Bare = append(out.Bare, newBenchLine(c))
	}
	return out
}
