package edgeoutbox

import (
	"context"
	"testing"
	"time"
)

// Cleanup deletes old published events, keeps pending ones, and gives the freed pages
// back to the file system.
func TestCleanupGivesSpaceBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mt := NewMemoryTransport()
	e := openTest(t, Config{Transport: mt, Synchronous: SyncOff, RetentionInterval: -1})
	batch := make([]Emission, 500)
	for round := 0; round < 10; round++ {
		for i := range batch {
			batch[i] = Emission{Name: "order_placed", Inputs: orderInputs(round*500+i, 1),
				Options: []EmitOption{WithMetadata(map[string]string{"padding": string(make([]byte, 400))})}}
		}
		if _, err := e.EmitBatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "all published", func() bool { return mustStats(t, e).Published == 5000 })
	if err := e.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	mt.SetOffline(true)
	if _, err := e.Emit(ctx, "order_placed", orderInputs(1, 2)); err != nil {
		t.Fatal(err)
	}
	pages := func() (n int64) {
		if err := e.DB().QueryRowContext(ctx, "PRAGMA page_count").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := pages()
	res, err := e.CleanupOlderThan(ctx, 0, 0)
	if err != nil || res.Published != 5000 || res.FreedBytes == 0 {
		t.Fatalf("cleanup: %+v, %v", res, err)
	}
	after := pages()
	if after*2 > before {
		t.Errorf("the file kept %d of %d pages after deleting every published event", after, before)
	}
	st := mustStats(t, e)
	if st.Pending != 1 || st.Published != 0 || st.OutboxBytes <= 0 || st.OutboxBytes > 1000 {
		t.Errorf("after cleanup: %+v", st)
	}
}
