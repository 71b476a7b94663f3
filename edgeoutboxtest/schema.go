package edgeoutboxtest

import (
	"bytes"
	"errors"
	"flag"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/edgeoutbox/edgeoutbox"
)

// update is set by "go test -edgeoutbox.update"; CheckSchema then rewrites the files it
// checks instead of failing.
var update = flag.Bool("edgeoutbox.update", false, "rewrite schema files checked by edgeoutboxtest.CheckSchema")

// CheckSchema fails t when the schema file at path differs from what
// edgeoutbox.DumpSchema(path, defs...) would write: a definition is new or changed, or
// the file is missing, invalid or not in canonical form. Run the tests with
// -edgeoutbox.update to rewrite the file instead (old versions are kept, as with every
// dump), then commit it.
func CheckSchema(t testing.TB, path string, defs ...*edgeoutbox.Definition) {
	t.Helper()
	old, err := os.ReadFile(path)
	var cur *edgeoutbox.Schema
	switch {
	case errors.Is(err, fs.ErrNotExist):
		cur = edgeoutbox.NewSchema(path)
	case err != nil:
		t.Fatalf("edgeoutboxtest: read schema file: %v", err)
		return
	default:
		if cur, err = edgeoutbox.LoadSchemaFile(path); err != nil {
			t.Fatalf("edgeoutboxtest: %v", err)
			return
		}
	}
	next, res, err := cur.With(defs...)
	if err != nil {
		t.Fatalf("edgeoutboxtest: %v", err)
		return
	}
	if bytes.Equal(next.Bytes(), old) {
		return
	}
	if *update {
		if _, err := edgeoutbox.DumpSchema(path, defs...); err != nil {
			t.Fatalf("edgeoutboxtest: %v", err)
			return
		}
		t.Logf("edgeoutboxtest: updated %s (%s)", path, describe(res, old == nil))
		return
	}
	t.Errorf("edgeoutboxtest: %s is out of date (%s); run go test -run '%s' -edgeoutbox.update (or \"edgeoutbox schema dump <definitions package>\"), then commit the file",
		path, describe(res, old == nil), t.Name())
}

func describe(res edgeoutbox.DumpResult, missing bool) string {
	if missing {
		return "the file does not exist"
	}
	var parts []string
	if len(res.Added) > 0 {
		parts = append(parts, "new: "+strings.Join(res.Added, ", "))
	}
	if len(res.Changed) > 0 {
		parts = append(parts, "changed: "+strings.Join(res.Changed, ", "))
	}
	if len(parts) == 0 {
		return "not in canonical form"
	}
	return strings.Join(parts, "; ")
}
