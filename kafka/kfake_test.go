package kafka_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/edgeoutbox/edgeoutbox/kafka"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// fakeCluster is an in-process Kafka (kfake) that can be stopped and started again
// on the same port with the same data directory.
type fakeCluster struct {
	t    testing.TB
	opts []kfake.Opt

	address string

	mu sync.Mutex
	c  *kfake.Cluster
}

// startCluster starts a one-broker cluster persisting to a temporary directory, with
// topics created with the given number of partitions.
func startCluster(t testing.TB, partitions int32, topics ...string) *fakeCluster {
	t.Helper()
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.DataDir(t.TempDir()), kfake.DefaultNumPartitions(int(partitions))}
	if len(topics) > 0 {
		opts = append(opts, kfake.SeedTopics(partitions, topics...))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatalf("start kfake: %v", err)
	}
	_, port, err := net.SplitHostPort(c.ListenAddrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	fc := &fakeCluster{t: t, opts: append(opts, kfake.Ports(p)), address: c.ListenAddrs()[0], c: c}
	t.Cleanup(fc.Stop)
	return fc
}

// Cluster returns the running cluster (nil while stopped).
func (fc *fakeCluster) Cluster() *kfake.Cluster {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return fc.c
}

// Addrs returns the broker addresses (stable across restarts).
func (fc *fakeCluster) Addrs() []string { return []string{fc.address} }

// Stop closes the cluster; its data stays in the data directory.
func (fc *fakeCluster) Stop() {
	fc.mu.Lock()
	c := fc.c
	fc.c = nil
	fc.mu.Unlock()
	if c != nil {
		c.Close()
	}
}

// Start starts the cluster again on the same port and data directory.
func (fc *fakeCluster) Start() {
	fc.t.Helper()
	var c *kfake.Cluster
	var err error
	// The port was just released; binding it again may race a lingering accept.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err = kfake.NewCluster(fc.opts...)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		fc.t.Fatalf("restart kfake: %v", err)
	}
	fc.mu.Lock()
	fc.c = c
	fc.mu.Unlock()
}

// topicReader consumes topics from the start and keeps every record it saw, in
// arrival order (which is offset order within a partition).
type topicReader struct {
	cl *kgo.Client

	mu      sync.Mutex
	records []*kgo.Record
}

func newTopicReader(t testing.TB, addrs []string, topics ...string) *topicReader {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatalf("kafka reader: %v", err)
	}
	t.Cleanup(cl.Close)
	return &topicReader{cl: cl}
}

// poll fetches what arrived since the last call (waiting at most a moment) and
// returns every record seen so far.
func (r *topicReader) poll(ctx context.Context) []*kgo.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	pctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	fs := r.cl.PollFetches(pctx)
	// Fetch errors (a broker being restarted) are retried by the client.
	fs.EachRecord(func(rec *kgo.Record) { r.records = append(r.records, rec) })
	return append([]*kgo.Record(nil), r.records...)
}

// header returns the value of header key in rec.
func header(rec *kgo.Record, key string) string {
	for _, h := range rec.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// decodeRecords decodes records into events and checks what Kafka adds to the
// contract: each event is in its topic, keyed by its entity, with the idempotency key
// header, and one entity never spans two partitions.
func decodeRecords(recs []*kgo.Record) ([]*edgeoutbox.Event, error) {
	out := make([]*edgeoutbox.Event, 0, len(recs))
	partOf := map[string]int32{}
	for _, rec := range recs {
		env, err := edgeoutbox.DecodeEnvelope(rec.Value)
		if err != nil {
			return nil, err
		}
		ev := edgeoutbox.EnvelopeEvent(env)
		if want := "events." + ev.Name; rec.Topic != want {
			return nil, fmt.Errorf("event %d in topic %q, want %q", ev.ID, rec.Topic, want)
		}
		if !bytes.Equal(rec.Key, kafka.EntityKey(ev)) {
			return nil, fmt.Errorf("event %d: record key %q, want %q", ev.ID, rec.Key, kafka.EntityKey(ev))
		}
		if got := header(rec, edgeoutbox.HeaderIdempotencyKey); got != ev.IdempotencyKey {
			return nil, fmt.Errorf("event %d: idempotency key header %q, want %q", ev.ID, got, ev.IdempotencyKey)
		}
		k := rec.Topic + "\x00" + string(rec.Key)
		if p, ok := partOf[k]; ok && p != rec.Partition {
			return nil, fmt.Errorf("entity %q in partitions %d and %d", rec.Key, p, rec.Partition)
		}
		partOf[k] = rec.Partition
		out = append(out, ev)
	}
	return out, nil
}
