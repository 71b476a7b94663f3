package edgeoutbox

import (
	"errors"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/edgeoutbox/edgeoutbox/internal/shellquote"
)

// ErrSchemaDrift is matched by a *SchemaDriftError: definitions in code differ from the
// loaded schema file.
var ErrSchemaDrift = errors.New("edgeoutbox: definitions differ from the schema file")

// SchemaDriftError lists the events whose definitions are new or changed since the
// schema file was dumped. It matches ErrSchemaDrift with errors.Is.
type SchemaDriftError struct {
	File    string   // schema file name
	New     []string // defined in code, not in the file (sorted)
	Changed []string // defined in code, differing from the file's latest version (sorted)
	// Command is the exact command that brings the file up to date, e.g.
	// "edgeoutbox gen example.com/app/events"; "" when it cannot be named (the
	// message then names it with a placeholder for what is not known).
	Command string

	hint string // the remedy with placeholders, when Command is ""
}

// Error implements error. For example:
//
//	cow_fed changed since event_schema.json was dumped; run "edgeoutbox gen example.com/app/events", then commit the changes
func (e *SchemaDriftError) Error() string {
	file := filepath.Base(e.File)
	var parts []string
	if len(e.Changed) > 0 {
		parts = append(parts, strings.Join(e.Changed, ", ")+" changed since "+file+" was dumped")
	}
	if len(e.New) > 0 {
		verb := " is"
		if len(e.New) > 1 {
			verb = " are"
		}
		parts = append(parts, strings.Join(e.New, ", ")+verb+" not in "+file)
	}
	switch {
	case e.Command != "":
		return strings.Join(parts, "; ") + "; run " + strconv.Quote(e.Command) + ", then commit the changes"
	case e.hint != "":
		return strings.Join(parts, "; ") + "; " + e.hint + ", then commit the changes"
	}
	return strings.Join(parts, "; ") + "; " + dumpHint + ", then commit the file"
}

// Is reports whether target is ErrSchemaDrift.
func (e *SchemaDriftError) Is(target error) bool { return target == ErrSchemaDrift }

// CheckDefinitions compares defs with the latest version of each event in the schema.
// It returns an error matching ErrInvalidDefinition when a definition has a mistake, a
// *SchemaDriftError when some are new or changed, and nil when all match. Events in the
// file without a definition are not reported (old events stay emittable).
func (s *Schema) CheckDefinitions(defs ...*Definition) error {
	reg, err := NewRegistry(defs...)
	if err != nil {
		return err
	}
	drift := &SchemaDriftError{File: s.file}
	for _, d := range reg.Definitions() {
		switch latest := s.Latest(d.name); {
		case latest == nil:
			drift.New = append(drift.New, d.name)
		case latest.Fingerprint != d.v.Fingerprint:
			drift.Changed = append(drift.Changed, d.name)
		}
	}
	if len(drift.New) == 0 && len(drift.Changed) == 0 {
		return nil
	}
	pkg := ""
	for i, d := range reg.Definitions() {
		if i == 0 {
			pkg = d.pkg
		} else if d.pkg != pkg {
			pkg = ""
			break
		}
	}
	drift.Command, drift.hint = s.remedy(pkg)
	return drift
}

// remedy says how to bring the loaded file up to date with the definitions of package
// pkg ("" when not known). The file to update is the one this schema came from, not
// necessarily the one next to the definitions: an application may embed its own copy.
// command is the exact command when one can be named; otherwise hint names it with a
// placeholder for what is not known, and says why.
func (s *Schema) remedy(pkg string) (command, hint string) {
	if pkg == "main" || strings.HasSuffix(pkg, "_test") || strings.HasSuffix(pkg, ".test") {
		pkg = "" // cannot be imported, so cannot be named on the command line
	}
	if s.pkg != "" && pkg == s.pkg {
		return "edgeoutbox gen " + pkg, "" // the file next to the package and its generated code
	}
	var out, why string
	switch {
	case s.pkg != "":
		// The file that generated code of another package embeds.
		out = "<directory of " + s.pkg + ">/" + DefaultSchemaFile
	case s.origin == originPath:
		out = shellquote.Quote(s.file)
	case s.origin == originEmbedFS:
		out = "<directory of the package with the //go:embed line>/" + s.file
		why = "the schema was read from an embed.FS, so where its file lies on disk is not known"
	case s.origin == originFS:
		out = "<directory the fs.FS reads>/" + s.file
		why = "the schema was read from an fs.FS, so where its file lies on disk is not known"
	default:
		out = "<path of the schema file this program parsed>"
		why = "the schema was given as bytes to ParseSchema or built with NewSchema, so which file it came from is not known"
	}
	if pkg != "" && s.pkg == "" && s.origin == originPath {
		return "edgeoutbox schema dump --out " + out + " " + pkg, ""
	}
	if pkg == "" {
		pkg = "<definitions package>"
	}
	hint = "run " + strconv.Quote("edgeoutbox schema dump --out "+out+" "+pkg) + " or edgeoutbox.DumpSchema on that file"
	if why != "" {
		hint += " (" + why + ")"
	}
	return "", hint
}

// remedyText is remedy as a phrase for a message: `run "<command>"`.
func (s *Schema) remedyText(pkg string) string {
	command, hint := s.remedy(pkg)
	if command != "" {
		return "run " + strconv.Quote(command)
	}
	return hint
}
