package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestBenchBacklogQuick is the smoke test of "edgeoutbox bench --only backlog": the
// JSON carries every figure at every size and the one-off measurements.
func TestBenchBacklogQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("fills and drains backlogs")
	}
	t.Parallel()
	var out, errOut bytes.Buffer
	err := Run(context.Background(), []string{"bench", "--only", "backlog", "--quick", "--sizes", "0,500", "--json"}, &out, &errOut)
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, errOut.String())
	}
	var res benchJSON
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("--json printed %s: %v", out.String(), err)
	}
	if res.Backlog == nil || len(res.Backlog.Figures) != 7 || len(res.Backlog.Writes) != 2 || len(res.Backlog.Bare) != 2 {
		t.Fatalf("backlog JSON %s", out.String())
	}
	for _, f := range res.Backlog.Figures {
		if len(f.Values) != 2 || (f.Ratio <= 0 && f.Unit != "%") {
			t.Errorf("figure %+v", f)
		}
	}
	if res.Backlog.Cleanup.DatabaseBytes <= 0 || res.Backlog.Cleanup.Ratio < 1 {
		t.Errorf("cleanup %+v", res.Backlog.Cleanup)
	}
	if !strings.Contains(errOut.String(), "backlog: measuring at 500 pending events") {
		t.Errorf("progress on stderr: %q", errOut.String())
	}
}

func TestBenchBadSizes(t *testing.T) {
	t.Parallel()
	for _, sizes := range []string{"100000", "5,1", "0,x", "0,-1", "0,0"} {
		var out, errOut bytes.Buffer
		err := Run(context.Background(), []string{"bench", "--only", "backlog", "--sizes", sizes}, &out, &errOut)
		if exitCode(err) != 2 || !strings.Contains(errOut.String()+err.Error(), "--sizes") {
			t.Errorf("--sizes %s: %v, stderr %q", sizes, err, errOut.String())
		}
	}
}
