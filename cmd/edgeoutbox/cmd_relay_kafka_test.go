package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestRelayKafka runs "edgeoutbox relay --kafka" against an in-process Kafka (kfake):
// every event lands once in farm.cow_fed, keyed by its entity, and the relay stops
// cleanly on SIGINT.
func TestRelayKafka(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "farm.cow_fed"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := c.ListenAddrs()[0]
	db := newOutbox(t)
	emitCows(t, db, 4)

	relay := startRelayCommand(t, "--db", db, "--kafka", addr, "--topic-prefix", "farm", "--batch-size", "3")
	e := openForTest(t, db)
	waitPublished(t, e, 4)
	logs := relay.stop(t) // SIGINT
	for _, want := range []string{"relay running", "kafka=" + addr, "idempotent=true", "relay stopped", "published=4"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("farm.cow_fed"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	waitUntil(t, 20*time.Second, "4 records in farm.cow_fed", func() bool {
		pctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		cl.PollFetches(pctx).EachRecord(func(r *kgo.Record) { recs = append(recs, r) })
		return len(recs) >= 4
	})
	if len(recs) != 4 {
		t.Fatalf("%d records, want 4", len(recs))
	}
	for _, r := range recs {
		env, err := edgeoutbox.DecodeEnvelope(r.Value)
		if err != nil {
			t.Fatal(err)
		}
		if string(r.Key) != "Cow/7" || env.Name != "cow_fed" {
			t.Errorf("record key %q, event %q; want Cow/7 and cow_fed", r.Key, env.Name)
		}
	}
}
