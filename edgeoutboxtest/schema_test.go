package edgeoutboxtest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/edgeoutbox/edgeoutbox"
)

// recorder is a testing.TB that records failures instead of failing the real test.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	failed bool
	msgs   []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = true
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

// check runs CheckSchema against a recorder and returns whether it failed, and the messages.
func check(t *testing.T, path string, defs ...*edgeoutbox.Definition) (bool, string) {
	t.Helper()
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		CheckSchema(r, path, defs...)
	}()
	<-done
	return r.failed, strings.Join(r.msgs, "\n")
}

func setUpdate(t *testing.T, v bool) {
	old := *update
	*update = v
	t.Cleanup(func() { *update = old })
}

var (
	v1 = edgeoutbox.Define("cow_fed", edgeoutbox.Input("cow"),
		edgeoutbox.RequiredPayload("weight", edgeoutbox.From("cow"), edgeoutbox.Float))
	v2 = edgeoutbox.Define("cow_fed", edgeoutbox.Input("cow"),
		edgeoutbox.RequiredPayload("weight", edgeoutbox.From("cow"), edgeoutbox.Float),
		edgeoutbox.OptionalPayload("breed", edgeoutbox.From("cow"), edgeoutbox.String))
)

func TestCheckSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), edgeoutbox.DefaultSchemaFile)

	failed, msg := check(t, path, v1)
	if !failed || !strings.Contains(msg, "does not exist") || !strings.Contains(msg, "-edgeoutbox.update") {
		t.Errorf("missing file: failed=%v %s", failed, msg)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Error("file written without -edgeoutbox.update")
	}

	setUpdate(t, true)
	if failed, msg := check(t, path, v1); failed {
		t.Fatalf("update: %s", msg)
	}
	setUpdate(t, false)
	if failed, msg := check(t, path, v1); failed {
		t.Errorf("up to date: %s", msg)
	}

	failed, msg = check(t, path, v2)
	if !failed || !strings.Contains(msg, "changed: cow_fed") {
		t.Errorf("changed definition: failed=%v %s", failed, msg)
	}

	setUpdate(t, true)
	if failed, msg := check(t, path, v2); failed {
		t.Fatalf("update: %s", msg)
	}
	setUpdate(t, false)
	s, err := edgeoutbox.LoadSchemaFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(s.Versions("cow_fed")); n != 2 {
		t.Errorf("%d versions after update, want 2", n)
	}

	// A file that is valid but not canonical (reformatted by hand) fails too.
	data, _ := os.ReadFile(path)
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	if failed, msg := check(t, path, v2); !failed || !strings.Contains(msg, "canonical") {
		t.Errorf("non-canonical: failed=%v %s", failed, msg)
	}

	// An invalid file or definition is reported, never overwritten.
	if err := os.WriteFile(path, []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	setUpdate(t, true)
	if failed, msg := check(t, path, v2); !failed || !strings.Contains(msg, "invalid schema file") {
		t.Errorf("invalid file: failed=%v %s", failed, msg)
	}
	if failed, msg := check(t, filepath.Join(t.TempDir(), "x.json"), edgeoutbox.Define("Bad")); !failed || !strings.Contains(msg, "invalid definition") && !strings.Contains(msg, "event definition") {
		t.Errorf("invalid definition: failed=%v %s", failed, msg)
	}
}

// TestSchema is the pattern users copy: the committed file under testdata/ must match.
func TestSchema(t *testing.T) {
	CheckSchema(t, filepath.Join("testdata", edgeoutbox.DefaultSchemaFile), v2)
}
