package edgeoutbox

import (
	"errors"
	"path/filepath"
	"strconv"
	"strings"
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
	// message then names the generic one).
	Command string
}

// Error implements error. For example:
//
//	cow_fed changed since event_schema.json was dumped; run "edgeoutbox schema dump <definitions package>" or edgeoutbox.DumpSchema, then commit the file
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
	if e.Command != "" {
		return strings.Join(parts, "; ") + "; run " + strconv.Quote(e.Command) + ", then commit the changes"
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
	drift.Command = s.commandFor(pkg)
	return drift
}
