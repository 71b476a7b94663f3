package kafka_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestRootPackageLinksNoKafka: a program that imports edgeoutbox (and its test
// helpers) but not this package links none of franz-go.
func TestRootPackageLinksNoKafka(t *testing.T) {
	t.Parallel()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("go toolchain not on PATH: %v", err)
		}
		t.Skipf("go toolchain not on PATH (%v): cannot list dependencies", err)
	}
	out, err := exec.Command(goCmd, "list", "-deps",
		"github.com/edgeoutbox/edgeoutbox", "github.com/edgeoutbox/edgeoutbox/edgeoutboxtest").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/twmb/") || strings.HasSuffix(pkg, "/edgeoutbox/kafka") {
			t.Errorf("the root package links %s", pkg)
		}
	}
}
