package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/edgeoutbox/edgeoutbox/internal/demo"
)

func TestDemo(t *testing.T) {
	t.Parallel()
	r := mustRun(t, "demo", "--events", "500", "--entities", "10")
	out := squeeze(r.stdout)
	for _, want := range []string{
		"events emitted 500",
		"attempts counted while offline 0",
		"published 500",
		"in the stream 500 each event exactly once",
		"out of order per entity 0",
		"duplicates dropped by the server 500 of 500 re-sent",
		"dead letters 0",
		"All checks passed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestDemoJSON(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("TestDemo covers the demo under -short")
	}
	r := mustRun(t, "demo", "--events", "200", "--entities", "3", "--json")
	var rep demo.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("demo --json printed %q: %v", r.stdout, err)
	}
	if !rep.OK() || rep.Events != 200 || rep.Published != 200 || rep.DuplicatesDropped != 200 {
		t.Errorf("report: %+v", rep)
	}
}
