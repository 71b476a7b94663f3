package schemadump

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// A second run of an unchanged package reuses the cached program; the key changes
// when the program's source, the package's files or go.mod would change the build.
func TestProgramCache(t *testing.T) {
	var stderr bytes.Buffer
	tool, pkg := findNoisy(t, &stderr)
	tool.CacheDir = t.TempDir()
	out := filepath.Join(t.TempDir(), "event_schema.json")
	if res, err := tool.Dump(t.Context(), pkg, out); err != nil || res.Error != "" {
		t.Fatalf("dump: %+v, %v\n%s", res, err, stderr.String())
	}
	entries, _ := os.ReadDir(tool.CacheDir)
	if len(entries) != 1 {
		t.Fatalf("cache holds %d entries after one build, want 1", len(entries))
	}
	cached := filepath.Join(tool.CacheDir, entries[0].Name())
	// Replace the cached program by one that fails: a run that uses the cache fails.
	if err := os.WriteFile(cached, []byte("#!/bin/sh\nexit 7\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := tool.Check(t.Context(), pkg, out); err == nil {
		t.Fatal("check did not use the cached program")
	}

	key, err := tool.cacheKey(t.Context(), pkg, []byte("src"), "")
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := tool.cacheKey(t.Context(), pkg, []byte("src"), ""); again != key {
		t.Error("the key of an unchanged package changed")
	}
	if other, _ := tool.cacheKey(t.Context(), pkg, []byte("other src"), ""); other == key {
		t.Error("the key ignores the program's source")
	}
	copyPkg := *pkg
	copyPkg.ModuleDir = t.TempDir() // no go.mod there: the module files differ
	if other, err := tool.cacheKey(t.Context(), &copyPkg, []byte("src"), ""); err == nil && other == key {
		t.Error("the key ignores go.mod")
	}
}

func TestPruneCache(t *testing.T) {
	dir := t.TempDir()
	for i := range 5 {
		os.WriteFile(filepath.Join(dir, string(rune('a'+i))), nil, 0o644)
	}
	pruneCache(dir, 3)
	if entries, _ := os.ReadDir(dir); len(entries) != 3 {
		t.Errorf("%d entries left, want 3", len(entries))
	}
}
