package bench

import (
	"context"
	"testing"

	"github.com/edgeoutbox/edgeoutbox"
)

func TestProfDrain(t *testing.T) {
	if !benchEnabled() {
		t.Skip()
	}
	ctx := context.Background()
	dir := t.TempDir()
	if err := MakeBacklog(ctx, dbPath(dir, "b"), 200000); err != nil {
		t.Fatal(err)
	}
	r, err := RelayDrain(ctx, dbPath(dir, "b"), 200000, "x", edgeoutbox.NewMemoryTransport())
	t.Log(r.Rate(), err)
}
