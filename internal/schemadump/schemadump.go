// Package schemadump runs edgeoutbox.DumpSchema and Schema.CheckDefinitions against the
// event definitions of a user's Go package, the way Go code generators do: it finds the
// package with "go list", finds its exported package-level variables set with
// edgeoutbox.Define(...) by parsing the source, writes a tiny main package inside the
// user's module that imports the package, runs it with "go run" and removes it.
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
	"sort"
	"strconv"
	"strings"
	"text/template"
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
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		os.Exit(3)
	}
}
`))

func (t *Tool) run(ctx context.Context, pkg *Package, mode, schemaPath string) (*Result, error) {
	abs, err := filepath.Abs(schemaPath)
	if err != nil {
		return nil, fmt.Errorf("schema file %s: %w", schemaPath, err)
	}
	// Inside the user's module, so that the import resolves with the module's own
	// go.mod (its edgeoutbox version included); "_" keeps it out of ./... patterns.
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
	cmd := exec.CommandContext(ctx, t.Go, "run", ".", mode, abs)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var res Result
	if jsonErr := json.Unmarshal(stdout.Bytes(), &res); runErr != nil || jsonErr != nil {
		if t.Stderr != nil {
			t.Stderr.Write(stderr.Bytes())
		}
		cause := runErr
		if cause == nil {
			cause = jsonErr
		}
		if t.Stderr != nil {
			return nil, fmt.Errorf("%w: go run for package %s: %v (the go command's output is above)", ErrBuild, pkg.ImportPath, cause)
		}
		return nil, fmt.Errorf("%w: go run for package %s: %v: %s", ErrBuild, pkg.ImportPath, cause, firstLine(stderr.String()))
	}
	return &res, nil
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
