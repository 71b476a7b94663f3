package schemadump

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestDefinitionsIn(t *testing.T) {
	cases := []struct {
		name, src            string
		exported, unexported string
	}{
		{"default name", `package p
import "github.com/edgeoutbox/edgeoutbox"
var A = edgeoutbox.Define("a")
var b = edgeoutbox.Define("b")
var C = other.Define("c")
func F() { var D = edgeoutbox.Define("d"); _ = D }`, "A", "b"},
		{"alias and groups", `package p
import eo "github.com/edgeoutbox/edgeoutbox"
var (
	X, Y = eo.Define("x"), eo.Define("y")
	Z    = (eo.Define("z"))
	N    = "not one"
	_    = eo.Define("blank")
)`, "X,Y,Z", ""},
		{"dot import", `package p
import . "github.com/edgeoutbox/edgeoutbox"
var Cow = Define("cow")`, "Cow", ""},
		{"shadowing name, other import", `package p
import edgeoutbox "example.com/notit"
var A = edgeoutbox.Define("a")`, "", ""},
	}
	for _, c := range cases {
		path := filepath.Join(t.TempDir(), "defs.go")
		if err := os.WriteFile(path, []byte(c.src), 0o644); err != nil {
			t.Fatal(err)
		}
		exp, unexp, err := definitionsIn(path, map[string]bool{})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if strings.Join(exp, ",") != c.exported || strings.Join(unexp, ",") != c.unexported {
			t.Errorf("%s: exported %q, unexported %q; want %q and %q", c.name, exp, unexp, c.exported, c.unexported)
		}
	}
}

func TestDefinitionsInSyntaxError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.go")
	os.WriteFile(path, []byte("package p\nvar = \n"), 0o644)
	if _, _, err := definitionsIn(path, map[string]bool{}); err == nil || !strings.Contains(err.Error(), "bad.go") {
		t.Errorf("err = %v, want a parse error naming the file", err)
	}
}

func TestFirstLine(t *testing.T) {
	if got := firstLine("# example.com/x\n./x.go:3:1: undefined: y\nmore"); got != "./x.go:3:1: undefined: y" {
		t.Errorf("firstLine = %q", got)
	}
}

const noisyDefs = "./testdata/noisydefs"

// leftovers returns the generated directories for pkg still in its module.
func leftovers(t *testing.T, pkg *Package) []string {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(pkg.ModuleDir, "_edgeoutbox_schema_*"))
	var mine []string
	for _, d := range dirs {
		// Other packages' tests may be dumping at the same time: only this package's count.
		if src, err := os.ReadFile(filepath.Join(d, "main.go")); err == nil && strings.Contains(string(src), pkg.ImportPath) {
			mine = append(mine, d)
		}
	}
	return mine
}

func findNoisy(t *testing.T, stderr *bytes.Buffer) (*Tool, *Package) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a program; skipped with -short")
	}
	goPath, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	tool := &Tool{Go: goPath, Stderr: stderr}
	pkg, err := tool.Find(t.Context(), noisyDefs)
	if err != nil {
		t.Fatal(err)
	}
	return tool, pkg
}

// What the definitions package prints does not get in the way of the result, and
// reaches the user on stderr.
func TestDumpWithNoisyPackage(t *testing.T) {
	var stderr bytes.Buffer
	tool, pkg := findNoisy(t, &stderr)
	out := filepath.Join(t.TempDir(), "event_schema.json")
	res, err := tool.Dump(t.Context(), pkg, out)
	if err != nil {
		t.Fatalf("dump: %v\nstderr:\n%s", err, stderr.String())
	}
	if res.Error != "" || res.Dump == nil || !res.Dump.Written || res.Dump.Latest["cow_fed"] != 1 {
		t.Errorf("result: %+v", res)
	}
	if !strings.Contains(stderr.String(), "noisydefs: hello from init") {
		t.Errorf("stderr = %q, want the package's own output", stderr.String())
	}
	res, err = tool.Check(t.Context(), pkg, out)
	if err != nil || res.Error != "" {
		t.Errorf("check: %+v, %v", res, err)
	}
	if dirs := leftovers(t, pkg); len(dirs) > 0 {
		t.Errorf("the generated program was not removed: %v", dirs)
	}
}

// Cancelling while the definitions program runs kills it, returns promptly and removes
// the generated directory.
func TestDumpCancelled(t *testing.T) {
	var stderr bytes.Buffer
	tool, pkg := findNoisy(t, &stderr)
	pidFile := filepath.Join(t.TempDir(), "pid")
	t.Setenv("EDGEOUTBOX_TEST_BLOCK", pidFile)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := tool.Dump(ctx, pkg, filepath.Join(t.TempDir(), "event_schema.json"))
		done <- err
	}()
	var pid int
	deadline := time.Now().Add(2 * time.Minute)
	for pid == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the definitions program never started")
		}
		select {
		case err := <-done:
			t.Fatalf("dump returned before it was cancelled: %v\nstderr:\n%s", err, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		data, _ := os.ReadFile(pidFile)
		pid, _ = strconv.Atoi(string(data))
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("dump did not return after cancellation")
	}
	if dirs := leftovers(t, pkg); len(dirs) > 0 {
		t.Errorf("the generated program was not removed: %v", dirs)
	}
	if runtime.GOOS != "windows" {
		if p, err := os.FindProcess(pid); err == nil && p.Signal(syscall.Signal(0)) == nil {
			p.Kill()
			t.Errorf("the definitions program (pid %d) is still running", pid)
		}
	}
}
