//go:build !linux

package edgeoutbox

import "testing"

// TestFrozenRelayProcessSendsNothingAfterTakeover freezes relay processes with
// SIGSTOP and reads /proc: see freeze_linux_test.go.
func TestFrozenRelayProcessSendsNothingAfterTakeover(t *testing.T) {
	t.Skip("the frozen-relay process test needs Linux (SIGSTOP, /proc/net/tcp)")
}
