package edgeoutbox

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var (
	exploreSchedules = flag.Int("explore.schedules", 0, "how many seeded schedules TestOrderExplorer runs (0: 300, 40 with -short, 16 with -short under -race)")
	exploreSeed      = flag.Int64("explore.seed", 0, "run TestOrderExplorer for this one seed (as printed by a failure)")
	exploreFirst     = flag.Int64("explore.first", 1, "the first seed TestOrderExplorer runs")
)

// TestOrderExplorer searches schedules for a per-entity order violation. Each seed
// runs two relays on one database file, each with its own ordered pipeline (depth 8,
// batches of 3) to one fake broker, while events of three entities are emitted; the
// seed chooses a delay at every await point (claim, send, land, record, lease
// renewal, and the fake connection's writes and acks), a lease renewal stalled past
// the lease (so the lease changes hands, in both directions), connections killed with
// messages in them, and client-side failures mid-batch. After each run the broker
// must hold every event once and each entity's events in emission order.
//
// A failure prints its seed: go test -run TestOrderExplorer -explore.seed=N .
// More schedules: -explore.schedules=20000 (CI runs 2 000).
func TestOrderExplorer(t *testing.T) {
	n := *exploreSchedules
	if n == 0 {
		switch {
		case testing.Short() && raceEnabled:
			n = 16
		case testing.Short():
			n = 40
		default:
			n = 300
		}
	}
	first := *exploreFirst
	if *exploreSeed != 0 {
		first, n = *exploreSeed, 1
	}
	schema := testSchema(t)
	dir := t.TempDir()
	workers := 4 * runtime.GOMAXPROCS(0) // mostly asleep in their injected delays
	seeds := make(chan int64)
	var failures atomic.Int32
	var tally explorerTally
	var wg sync.WaitGroup
	started := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seed := range seeds {
				if err := exploreSchedule(seed, filepath.Join(dir, fmt.Sprintf("s%d.db", seed)), schema, &tally); err != nil {
					failures.Add(1)
					t.Errorf("seed %d: %v\n\trerun: go test -run 'TestOrderExplorer$' -explore.seed=%d .", seed, err, seed)
				}
			}
		}()
	}
	for seed := first; seed < first+int64(n); seed++ {
		if failures.Load() >= 3 {
			break // enough seeds to debug with
		}
		seeds <- seed
	}
	close(seeds)
	wg.Wait()
	t.Logf("%d schedules from seed %d in %v: %d lease handovers seen at the broker, %d connections killed, %d client-side send failures, %d batches refused by the pipeline fence, %d re-sends dropped as duplicates",
		n, first, time.Since(started).Round(time.Millisecond), tally.handovers.Load(), tally.kills.Load(), tally.clientErrs.Load(), tally.refused.Load(), tally.dups.Load())
}

// explorerTally counts what the schedules exercised, so that a run shows its reach.
type explorerTally struct {
	handovers, kills, clientErrs, refused, dups atomic.Int64
}

func (ta *explorerTally) add(b *fakeBroker, pipes ...*fakePipeline) {
	b.mu.Lock()
	ta.handovers.Add(int64(b.switches))
	ta.dups.Add(int64(b.dups))
	b.mu.Unlock()
	for _, p := range pipes {
		ta.kills.Add(p.kills.Load())
		ta.clientErrs.Add(p.clientErrs.Load())
		ta.refused.Add(p.refused.Load())
	}
}

// explorerEntities, explorerVersions: the events of one schedule.
const (
	explorerEntities = 3
	explorerVersions = 12
)

// exploreSchedule runs one seeded schedule on a fresh database at path and checks
// the broker afterwards.
func exploreSchedule(seed int64, path string, schema *Schema, tally *explorerTally) error {
	s := newSchedule(seed)
	broker := &fakeBroker{}
	ctx := context.Background()
	open := func() (*Engine, *fakePipeline, error) {
		tr := newFakePipeline(broker, s, 8)
		e, err := Open(ctx, path, Config{
			Schema:               schema,
			Synchronous:          SyncOff,
			Transport:            tr,
			BatchSize:            3,
			MaxAttempts:          1000,
			BackoffBase:          time.Millisecond,
			BackoffMax:           5 * time.Millisecond,
			PollInterval:         10 * time.Millisecond,
			OfflineProbeInterval: 5 * time.Millisecond,
			LeaseTTL:             100 * time.Millisecond,
			RetentionInterval:    -1,
		})
		if err != nil {
			tr.close()
			return nil, nil, err
		}
		e.sched = s.pause
		return e, tr, nil
	}
	a, ta, err := open()
	if err != nil {
		return err
	}
	defer ta.close()
	defer a.Close()
	b, tb, err := open()
	if err != nil {
		return err
	}
	defer tb.close()
	defer b.Close()

	// Some events wait before the relays start, the rest are emitted while they run.
	emitted := 0
	emit := func(n int) error {
		var batch []Emission
		for ; n > 0 && emitted < explorerEntities*explorerVersions; n-- {
			id, version := emitted%explorerEntities, emitted/explorerEntities+1
			batch = append(batch, Emission{Name: "order_placed", Inputs: orderInputs(id, version)})
			emitted++
		}
		if len(batch) == 0 {
			return nil
		}
		_, err := a.EmitBatch(ctx, batch)
		return err
	}
	if err := emit(s.intn(20)); err != nil {
		return err
	}
	if err := a.Start(ctx); err != nil {
		return err
	}
	if err := b.Start(ctx); err != nil {
		return err
	}
	chaos := make(chan struct{})
	go func() { // connections killed at seeded moments
		defer close(chaos)
		for kills := s.intn(4); kills > 0; kills-- {
			time.Sleep(time.Duration(s.intn(40000)) * time.Microsecond)
			if s.chance(50) {
				ta.killConn()
			} else {
				tb.killConn()
			}
		}
	}()
	for emitted < explorerEntities*explorerVersions {
		time.Sleep(time.Duration(s.intn(8000)) * time.Microsecond)
		if err := emit(1 + s.intn(6)); err != nil {
			return err
		}
	}
	<-chaos

	total := explorerEntities * explorerVersions
	deadline := time.Now().Add(60 * time.Second)
	for len(broker.snapshot()) < total && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_ = a.Stop(stopCtx)
	_ = b.Stop(stopCtx)
	tally.add(broker, ta, tb)
	return checkBrokerOrder(broker.snapshot(), total)
}

// checkBrokerOrder checks that the broker holds total events, each entity's in
// increasing version.
func checkBrokerOrder(stored []*Event, total int) error {
	last := map[string]int64{}
	for i, ev := range stored {
		k := ev.Entity.key()
		if v := *ev.Entity.Version; v <= last[k] {
			return fmt.Errorf("order violated: entity %s version %d stored after version %d (message %d of %d)", k, v, last[k], i+1, len(stored))
		}
		last[k] = *ev.Entity.Version
	}
	if len(stored) != total {
		return fmt.Errorf("the broker holds %d of %d events after 60 s", len(stored), total)
	}
	return nil
}
