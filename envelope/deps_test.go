package envelope

import (
	"os/exec"
	"strings"
	"testing"
)

// The package exists so that a consumer links no SQLite and no NATS: it may import the
// standard library and the module's internal JSON writer, nothing else.
func TestImportsStandardLibraryOnly(t *testing.T) {
	t.Parallel()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found; cannot list dependencies")
	}
	out, err := exec.Command(goBin, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		switch p {
		case "github.com/edgeoutbox/edgeoutbox/envelope", "github.com/edgeoutbox/edgeoutbox/internal/jsonenc":
		default:
			t.Errorf("package envelope depends on %s; consumers would link it", p)
		}
	}
}
