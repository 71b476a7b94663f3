package edgeoutbox

import (
	"os"
	"testing"
)

// TestMain removes what tests share across the run (the torture child binary) once
// every test has finished.
func TestMain(m *testing.M) {
	code := m.Run()
	removeTortureChild()
	os.Exit(code)
}
