package schemadump

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
		exp, unexp, err := definitionsIn(path)
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
	if _, _, err := definitionsIn(path); err == nil || !strings.Contains(err.Error(), "bad.go") {
		t.Errorf("err = %v, want a parse error naming the file", err)
	}
}

func TestFirstLine(t *testing.T) {
	if got := firstLine("# example.com/x\n./x.go:3:1: undefined: y\nmore"); got != "./x.go:3:1: undefined: y" {
		t.Errorf("firstLine = %q", got)
	}
}
