package edgeoutbox_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var goBlock = regexp.MustCompile("(?s)```go\n(.*?)```")

// Every Go snippet in README.md is a complete file that compiles against this module.
func TestReadmeSnippetsCompile(t *testing.T) {
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
	for i, b := range blocks {
		src := b[1]
		if !strings.HasPrefix(src, "package ") {
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
		out, err := exec.Command("go", "vet", "./"+filepath.Base(dir)).CombinedOutput()
		if err != nil {
			t.Errorf("README snippet %d (%s) does not compile:\n%s", i+1, firstLine(src), out)
		}
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
