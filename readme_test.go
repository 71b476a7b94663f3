package edgeoutbox_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var goBlock = regexp.MustCompile("(?s)```go\n(.*?)```")

// commentLines matches the line comments a file may open with (its doc comment).
var commentLines = regexp.MustCompile(`(?m)^//.*\n`)

// Every Go snippet in README.md is a complete file that compiles against this module.
func TestReadmeSnippetsCompile(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("compiles every README snippet with the go tool")
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := goBlock.FindAllStringSubmatch(string(readme), -1)
	if len(blocks) == 0 {
		t.Fatal("no Go snippet found in README.md")
	}
	// One go vet for every snippet: one type-check of the module's packages instead of
	// one per snippet. Only when it fails is each snippet vetted alone, to name it.
	var dirs, firsts []string
	for i, b := range blocks {
		src := b[1]
		if !strings.HasPrefix(strings.TrimLeft(commentLines.ReplaceAllString(src, ""), "\n"), "package ") {
			t.Errorf("README snippet %d is not a complete file (starts %q)", i+1, firstLine(src))
			continue
		}
		// Inside the module so that the module's packages resolve; removed afterwards.
		dir, err := os.MkdirTemp(".", ".readme-snippet-")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		name := "main.go"
		if strings.Contains(src, "*testing.T") {
			name = "snippet_test.go"
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "event_schema.json"), []byte("{}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, "./"+filepath.Base(dir))
		firsts = append(firsts, fmt.Sprintf("README snippet %d (%s)", i+1, firstLine(src)))
	}
	if len(dirs) == 0 {
		return
	}
	all, err := exec.Command("go", append([]string{"vet"}, dirs...)...).CombinedOutput()
	if err == nil {
		return
	}
	named := false
	for i, dir := range dirs {
		if out, err := exec.Command("go", "vet", dir).CombinedOutput(); err != nil {
			t.Errorf("%s does not compile:\n%s", firsts[i], out)
			named = true
		}
	}
	if !named {
		t.Errorf("go vet of the README snippets failed:\n%s", all)
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

var testName = regexp.MustCompile("`((?:Test|Fuzz)[A-Za-z0-9_]+)")

// Every test the README names as backing a promise exists.
func TestReadmeNamesRealTests(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var sources strings.Builder
	err = filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, "_test.go") {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sources.Write(b)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	names := testName.FindAllStringSubmatch(string(readme), -1)
	if len(names) == 0 {
		t.Fatal("README names no test")
	}
	for _, m := range names {
		if !strings.Contains(sources.String(), "func "+m[1]+"(") {
			t.Errorf("README names %s, which no test file defines", m[1])
		}
	}
}

// The README's complete example is examples/quickstart, byte for byte, so that
// TestQuickstart, which builds and runs it against a real NATS server, runs what the
// README shows.
func TestReadmeShowsTheQuickstart(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := map[string]bool{}
	for _, b := range goBlock.FindAllStringSubmatch(string(readme), -1) {
		blocks[b[1]] = true
	}
	for _, f := range []string{"examples/quickstart/events/events.go", "examples/quickstart/main.go", "examples/quickstart/consumer/main.go"} {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !blocks[string(src)] {
			t.Errorf("README.md has no Go block identical to %s: copy the file into the README", f)
		}
	}
}
