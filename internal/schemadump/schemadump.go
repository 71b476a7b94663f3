// Package schemadump runs edgeoutbox.DumpSchema and Schema.CheckDefinitions against the
// event definitions of a user's Go package, the way Go code generators do: it finds the
// package with "go list", finds its exported package-level variables set with
// edgeoutbox.Define(...) by parsing the source, writes a tiny main package inside the
// user's module that imports the package, builds it with "go build", runs the binary
// and removes both.
package schemadump

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode"

	"github.com/edgeoutbox/edgeoutbox"
)

// ModulePath is the import path of the edgeoutbox library.
const ModulePath = "github.com/edgeoutbox/edgeoutbox"

// Package is a definitions package found by Find.
type Package struct {
	ImportPath string
	Name       string
	Dir        string
	ModuleDir  string // root of the main module holding the package
	// Definitions are the exported package-level variables set with Define, in
	// source order (files sorted by name).
	Definitions []string
	// Unexported are definitions the generated program cannot reach.
	Unexported []string
}

// Tool runs the go command.
type Tool struct {
	Go     string    // path of the go command
	Dir    string    // working directory for "go list" ("" for the current one)
	Stderr io.Writer // receives compiler output when the program does not build
}

type listedPackage struct {
	ImportPath string
	Name       string
	Dir        string
	GoFiles    []string
	CgoFiles   []string
	Module     *struct {
		Path string
		Dir  string
		Main bool
	}
	Error *struct{ Err string }
}

// Find locates the package named by pattern (an import path or a relative directory
// such as ./events) and the definitions in it.
func (t *Tool) Find(ctx context.Context, pattern string) (*Package, error) {
	cmd := exec.CommandContext(ctx, t.Go, "list", "-e", "-json", "--", pattern)
	cmd.Dir = t.Dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("find definitions package %q: go list: %v: %s", pattern, err, firstLine(stderr.String()))
	}
	dec := json.NewDecoder(&stdout)
	var pkgs []listedPackage
	for dec.More() {
		var p listedPackage
		if err := dec.Decode(&p); err != nil {
			return nil, fmt.Errorf("find definitions package %q: read go list output: %w", pattern, err)
		}
		pkgs = append(pkgs, p)
	}
	switch {
	case len(pkgs) == 0:
		return nil, fmt.Errorf("definitions package %q not found: go list matched no package", pattern)
	case len(pkgs) > 1:
		return nil, fmt.Errorf("%q matches %d packages: name the one package that holds the definitions", pattern, len(pkgs))
	}
	p := pkgs[0]
	if p.Error != nil {
		return nil, fmt.Errorf("definitions package %q not found: %s", pattern, firstLine(p.Error.Err))
	}
	if p.Module == nil || p.Module.Dir == "" {
		return nil, fmt.Errorf("package %s is not in a Go module: run the command inside the module that holds it", p.ImportPath)
	}
	if !p.Module.Main {
		return nil, fmt.Errorf("package %s belongs to module %s, a dependency: run the command inside that module's own directory", p.ImportPath, p.Module.Path)
	}
	if p.Name == "main" {
		return nil, fmt.Errorf("package %s is a main package, which cannot be imported: move the definitions to a package of their own", p.ImportPath)
	}
	pkg := &Package{ImportPath: p.ImportPath, Name: p.Name, Dir: p.Dir, ModuleDir: p.Module.Dir}
	files := append(append([]string(nil), p.GoFiles...), p.CgoFiles...)
	sort.Strings(files)
	for _, f := range files {
		exported, unexported, err := definitionsIn(filepath.Join(p.Dir, f))
		if err != nil {
			return nil, err
		}
		pkg.Definitions = append(pkg.Definitions, exported...)
		pkg.Unexported = append(pkg.Unexported, unexported...)
	}
	if len(pkg.Definitions) == 0 {
		hint := "declare each event as an exported package-level variable, e.g. var CowFed = edgeoutbox.Define(\"cow_fed\", ...)"
		if len(pkg.Unexported) > 0 {
			hint = fmt.Sprintf("found only unexported ones (%s): export them", strings.Join(pkg.Unexported, ", "))
		}
		return nil, fmt.Errorf("no event definitions in package %s: %s", p.ImportPath, hint)
	}
	return pkg, nil
}

// definitionsIn parses one Go file and returns the package-level variables initialised
// by a call of edgeoutbox's Define, however the import is named.
func definitionsIn(path string) (exported, unexported []string, err error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		return nil, nil, fmt.Errorf("parse %s: %w", path, err)
	}
	local := ""
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == ModulePath {
			local = "edgeoutbox"
			if imp.Name != nil {
				local = imp.Name.Name
			}
		}
	}
	if local == "" || local == "_" {
		return nil, nil, nil
	}
	isDefine := func(e ast.Expr) bool {
		call, ok := ast.Unparen(e).(*ast.CallExpr)
		if !ok {
			return false
		}
		switch fn := call.Fun.(type) {
		case *ast.SelectorExpr:
			x, ok := fn.X.(*ast.Ident)
			return ok && x.Name == local && fn.Sel.Name == "Define"
		case *ast.Ident:
			return local == "." && fn.Name == "Define"
		}
		return false
	}
	for _, decl := range f.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.VAR {
			continue
		}
		for _, spec := range gen.Specs {
			vs := spec.(*ast.ValueSpec)
			if len(vs.Values) != len(vs.Names) {
				continue
			}
			for i, name := range vs.Names {
				if name.Name == "_" || !isDefine(vs.Values[i]) {
					continue
				}
				if unicode.IsUpper([]rune(name.Name)[0]) {
					exported = append(exported, name.Name)
				} else {
					unexported = append(unexported, name.Name)
				}
			}
		}
	}
	return exported, unexported, nil
}

// Result is what the generated program reports.
type Result struct {
	Dump  *edgeoutbox.DumpResult `json:"dump,omitempty"`
	Error string                 `json:"error,omitempty"`
	// Drift is set when Error is a schema drift (definitions differ from the file).
	Drift bool `json:"drift,omitempty"`
}

// ErrBuild is matched when the generated program does not build or run.
var ErrBuild = errors.New("the definitions program did not build or run")

// Dump records the package's definitions in the schema file at schemaPath.
func (t *Tool) Dump(ctx context.Context, pkg *Package, schemaPath string) (*Result, error) {
	return t.run(ctx, pkg, "dump", schemaPath)
}

// Check compares the package's definitions with the schema file at schemaPath.
func (t *Tool) Check(ctx context.Context, pkg *Package, schemaPath string) (*Result, error) {
	return t.run(ctx, pkg, "check", schemaPath)
}

var program = template.Must(template.New("main").Parse(`// Code generated by edgeoutbox for {{.ImportPath}}; DO NOT EDIT.
// It runs once and is removed.

package main

import (
	"encoding/json"
	"errors"
	"os"

	eobx "github.com/edgeoutbox/edgeoutbox"
	eobxdefs {{printf "%q" .ImportPath}}
)

type result struct {
	Dump  *eobx.DumpResult ` + "`json:\"dump,omitempty\"`" + `
	Error string           ` + "`json:\"error,omitempty\"`" + `
	Drift bool             ` + "`json:\"drift,omitempty\"`" + `
}

func main() {
	defs := []*eobx.Definition{
{{- range .Definitions}}
		eobxdefs.{{.}},
{{- end}}
	}
	var res result
	var err error
	switch os.Args[1] {
	case "dump":
		var r eobx.DumpResult
		r, err = eobx.DumpSchema(os.Args[2], defs...)
		res.Dump = &r
	case "check":
		var s *eobx.Schema
		if s, err = eobx.LoadSchemaFile(os.Args[2]); err == nil {
			err = s.CheckDefinitions(defs...)
		}
		res.Drift = errors.Is(err, eobx.ErrSchemaDrift)
	}
	if err != nil {
		res.Error = err.Error()
	}
	out, err := json.Marshal(res)
	if err == nil {
		err = os.WriteFile(os.Args[3], out, 0o644)
	}
	if err != nil {
		os.Stderr.WriteString("write result: " + err.Error() + "\n")
		os.Exit(3)
	}
}
`))

// waitDelay bounds how long a killed command may keep its output pipes open (a
// compiler it started, say) before Wait gives up on them.
const waitDelay = 2 * time.Second

func (t *Tool) run(ctx context.Context, pkg *Package, mode, schemaPath string) (*Result, error) {
	abs, err := filepath.Abs(schemaPath)
	if err != nil {
		return nil, fmt.Errorf("schema file %s: %w", schemaPath, err)
	}
	// Inside the user's module, so that the import resolves with the module's own
	// go.mod (its edgeoutbox version included); "_" keeps it out of ./... patterns.
	// The program, its binary and its result all live here and go with it on every
	// path, cancellation included.
	dir, err := os.MkdirTemp(pkg.ModuleDir, "_edgeoutbox_schema_")
	if err != nil {
		return nil, fmt.Errorf("create a temporary directory in module %s: %w", pkg.ModuleDir, err)
	}
	defer os.RemoveAll(dir)
	var src bytes.Buffer
	if err := program.Execute(&src, pkg); err != nil {
		return nil, fmt.Errorf("generate definitions program: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), src.Bytes(), 0o644); err != nil {
		return nil, fmt.Errorf("write definitions program: %w", err)
	}

	// Build, then run the binary itself: killing "go run" on cancellation would leave
	// the program it started running, holding the output pipes.
	bin := filepath.Join(dir, "prog")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	build := exec.CommandContext(ctx, t.Go, "build", "-o", bin, ".")
	build.Dir = dir
	build.WaitDelay = waitDelay
	var buildOut bytes.Buffer
	build.Stdout, build.Stderr = &buildOut, &buildOut
	if err := build.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("build definitions program for package %s: %w", pkg.ImportPath, context.Cause(ctx))
		}
		if t.Stderr != nil {
			t.Stderr.Write(buildOut.Bytes())
			return nil, fmt.Errorf("%w: go build for package %s: %v (the go command's output is above)", ErrBuild, pkg.ImportPath, err)
		}
		return nil, fmt.Errorf("%w: go build for package %s: %v: %s", ErrBuild, pkg.ImportPath, err, firstLine(buildOut.String()))
	}

	// The result goes to a file, not stdout, so that whatever the definitions package
	// prints (in an init function, say) cannot garble it; that output goes to Stderr.
	resultPath := filepath.Join(dir, "result.json")
	cmd := exec.CommandContext(ctx, bin, mode, abs, resultPath)
	cmd.Dir = dir
	cmd.WaitDelay = waitDelay
	var stderr bytes.Buffer
	if t.Stderr != nil {
		cmd.Stdout, cmd.Stderr = t.Stderr, t.Stderr
	} else {
		cmd.Stderr = &stderr
	}
	runErr := cmd.Run()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("run definitions program for package %s: %w", pkg.ImportPath, context.Cause(ctx))
	}
	var res Result
	data, readErr := os.ReadFile(resultPath)
	if runErr == nil && readErr == nil {
		if runErr = json.Unmarshal(data, &res); runErr == nil {
			return &res, nil
		}
	}
	cause := runErr
	if cause == nil {
		cause = fmt.Errorf("no result: %w", readErr)
	}
	if t.Stderr != nil {
		return nil, fmt.Errorf("%w: the definitions program for package %s: %v (its output is above)", ErrBuild, pkg.ImportPath, cause)
	}
	return nil, fmt.Errorf("%w: the definitions program for package %s: %v: %s", ErrBuild, pkg.ImportPath, cause, firstLine(stderr.String()))
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	for _, line := range strings.Split(s, "\n") {
		// go's own "# package" header line says nothing.
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "# ") {
			return line
		}
	}
	return s
}
