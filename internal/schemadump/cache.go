package schemadump

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// maxCached bounds how many built programs the cache keeps (each is a few MB).
const maxCached = 8

// cacheKey hashes everything the definitions program is built from: its source, the
// build overlay, the go command and the environment variables that change a build,
// the module's go.mod, go.sum and go.work, and every Go and embedded file of each
// package it imports from the main module or from a locally replaced one (listed
// with the same overlay, so the package's own generated file is left out). Modules
// with a version are covered by go.sum.
func (t *Tool) cacheKey(ctx context.Context, pkg *Package, src []byte, overlay string) (string, error) {
	h := sha256.New()
	put := func(label string, data []byte) {
		fmt.Fprintf(h, "%s %d\n", label, len(data))
		h.Write(data)
	}
	put("format", []byte("edgeoutbox-schemadump-1"))
	put("source", src)
	if fi, err := os.Stat(t.Go); err == nil {
		put("go", []byte(fmt.Sprint(t.Go, fi.Size(), fi.ModTime().UnixNano())))
	}
	for _, v := range []string{"GOOS", "GOARCH", "GOFLAGS", "CGO_ENABLED", "GOEXPERIMENT", "GOWORK", "GOTOOLCHAIN"} {
		put("env "+v, []byte(os.Getenv(v)))
	}
	for _, f := range []string{"go.mod", "go.sum", "go.work", "go.work.sum"} {
		data, err := os.ReadFile(filepath.Join(pkg.ModuleDir, f))
		if err != nil && !os.IsNotExist(err) {
			return "", err
		}
		put("module "+f, data)
	}

	args := []string{"list", "-deps", "-f",
		`{{if .Module}}{{if or .Module.Main .Module.Replace}}{{.Dir}}{{range .GoFiles}}|{{.}}{{end}}{{range .CgoFiles}}|{{.}}{{end}}{{range .EmbedFiles}}|{{.}}{{end}}{{end}}{{end}}`}
	if overlay != "" {
		args = append(args, "-overlay", overlay)
	}
	cmd := exec.CommandContext(ctx, t.Go, append(args, "--", pkg.ImportPath)...)
	cmd.Dir = pkg.ModuleDir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list -deps %s: %v: %s", pkg.ImportPath, err, firstLine(stderr.String()))
	}
	var files []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	for sc.Scan() {
		parts := strings.Split(sc.Text(), "|")
		for _, f := range parts[1:] {
			files = append(files, filepath.Join(parts[0], f))
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	sort.Strings(files)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		put("file "+f, data)
	}
	return hex.EncodeToString(h.Sum(nil))[:32], nil
}

// storeCached copies the built program to path through a temporary file and a
// rename, so that a concurrent run sees the whole program or none.
func storeCached(bin, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	in, err := os.Open(bin)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(path), ".prog-*")
	if err != nil {
		return err
	}
	_, err = io.Copy(tmp, in)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o755)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// pruneCache removes all but the keep most recently used programs in dir.
func pruneCache(dir string, keep int) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	type prog struct {
		path string
		used int64
	}
	var progs []prog
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() {
			progs = append(progs, prog{filepath.Join(dir, e.Name()), fi.ModTime().UnixNano()})
		}
	}
	if len(progs) <= keep {
		return
	}
	sort.Slice(progs, func(i, j int) bool { return progs[i].used > progs[j].used })
	for _, p := range progs[keep:] {
		os.Remove(p.path)
	}
}
