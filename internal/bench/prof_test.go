package bench

import (
	"context"
	"testing"
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
	r, err := RelayJetStream(ctx, dir, dbPath(dir, "b"), 200000)
	t.Log(r.Rate(), err)
}
