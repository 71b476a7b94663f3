package edgeoutbox

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// mountTmpfs mounts a tmpfs of the given size (e.g. "2m") on a new directory and
// unmounts it when the test ends. It skips the test when mounting is not allowed
// (not root, or no CAP_SYS_ADMIN in a container).
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "small-disk")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a %s tmpfs to fill (needs root with CAP_SYS_ADMIN): %v: %s", size, err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

func resizeTmpfs(t *testing.T, dir, size string) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", "remount,size="+size, dir).CombinedOutput(); err != nil {
		t.Fatalf("resize tmpfs %s to %s: %v: %s", dir, size, err, out)
	}
}

// TestDiskFull fills a real 2 MiB file system with big events from several
// goroutines until Emit fails. Every failure must say that the disk is full and what
// to do; the file must pass integrity_check while full; once space is freed the same
// engine emits again (no transaction left stuck on the writer connection); and after
// a reopen every event whose Emit returned nil is there.
func TestDiskFull(t *testing.T) {
	t.Parallel()
	dir := mountTmpfs(t, "2m")
	path := filepath.Join(dir, "outbox.db")
	ctx := context.Background()
	e, err := Open(ctx, path, Config{Schema: testSchema(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	big := strings.Repeat("x", 8<<10)
	inputs := func(id int) Inputs {
		return Inputs{"order": testOrder{ClassName: "Order", ID: id, Version: 1, Total: 1}, "customer": map[string]any{"name": big}}
	}

	var (
		mu    sync.Mutex
		acked []string
		errs  []error
		wg    sync.WaitGroup
	)
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				r, err := e.Emit(ctx, "order_placed", inputs(g*100000+i))
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				acked = append(acked, r.IdempotencyKey)
				mu.Unlock()
				if i > 10000 {
					return
				}
			}
		})
	}
	wg.Wait()
	if len(errs) == 0 {
		t.Fatalf("%d events of 8 KiB fit on a 2 MiB file system", len(acked))
	}
	// A rolled-back commit may leave a little room: batches fill it, then fail too.
	for i := 0; ; i++ {
		rs, err := e.EmitBatch(ctx, []Emission{{Name: "order_placed", Inputs: inputs(-1)}, {Name: "order_placed", Inputs: inputs(-2)}})
		if err != nil {
			errs = append(errs, err)
			break
		}
		if i > 1000 {
			t.Fatal("EmitBatch kept succeeding on a full disk")
		}
		for _, r := range rs {
			acked = append(acked, r.IdempotencyKey)
		}
	}
	for _, err := range errs {
		if err == nil || !isDiskFull(err) || !strings.Contains(err.Error(), "disk holding the outbox is full") ||
			!strings.Contains(err.Error(), "free space") || strings.Contains(err.Error(), "rollback:") {
			t.Fatalf("emit on a full disk: %v; want the disk-full error that says to free space", err)
		}
	}
	t.Logf("%d emits of 8 KiB acknowledged before the disk filled; first error: %v", len(acked), errs[0])
	checkFileIntegrity(t, path)

	// Free space: the same engine must emit again.
	resizeTmpfs(t, dir, "64m")
	var after []string
	for range 5 {
		r, err := e.Emit(ctx, "order_placed", inputs(-10))
		if err != nil {
			t.Fatalf("emit after freeing space: %v", err)
		}
		after = append(after, r.IdempotencyKey)
	}
	if _, err := e.EmitBatch(ctx, []Emission{{Name: "order_placed", Inputs: inputs(-20)}}); err != nil {
		t.Fatalf("batch after freeing space: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	checkFileIntegrity(t, path)

	e2, err := Open(ctx, path, Config{Schema: testSchema(t)})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer e2.Close()
	if err := e2.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
	stored, _ := storedKeys(t, path)
	for _, k := range append(acked, after...) {
		if !stored[k] {
			t.Fatalf("acknowledged event %s lost", k)
		}
	}
	if want := len(acked) + len(after) + 1; len(stored) != want {
		t.Fatalf("%d events stored, want %d (every acknowledged emit, nothing of a failed one)", len(stored), want)
	}
}
