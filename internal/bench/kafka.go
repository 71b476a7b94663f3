package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/edgeoutbox/edgeoutbox/kafka"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// kafkaTopic is where the benchmark events go (the transport's default topic).
var kafkaTopic = "events." + Event.Name()

// kafkaPartitions spreads the benchmark's 64 sensors (entities) over partitions.
const kafkaPartitions = 4

// startKafka runs a fresh in-process Kafka (kfake, one broker, in memory) holding the
// benchmark topic, and a client with the transport's defaults.
func startKafka() (*kfake.Cluster, *kgo.Client, error) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(kafkaPartitions, kafkaTopic))
	if err != nil {
		return nil, nil, err
	}
	cl, err := kafka.NewClient(kafka.ClientConfig{Brokers: c.ListenAddrs()})
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	return c, cl, nil
}

// topicCount checks that the benchmark topic holds n records.
func topicCount(ctx context.Context, cl *kgo.Client, n int) error {
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, kafkaTopic)
	if err != nil {
		return err
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	if total != int64(n) {
		return fmt.Errorf("topic %s holds %d records, want %d", kafkaTopic, total, n)
	}
	return nil
}

// RawKafka is the Kafka baseline: the same records the relay would produce (envelope,
// headers, entity key), built in memory beforehand, produced with franz-go's
// ProduceSync through a client with the transport's defaults.
func RawKafka(ctx context.Context, recs []*kgo.Record) (Result, error) {
	c, cl, err := startKafka()
	if err != nil {
		return Result{}, err
	}
	defer c.Close()
	defer cl.Close()
	// Fresh copies: a produced record carries its offset and partition.
	batch := make([]*kgo.Record, len(recs))
	for i, r := range recs {
		cp := *r
		batch[i] = &cp
	}
	start := time.Now()
	if err := cl.ProduceSync(ctx, batch...).FirstErr(); err != nil {
		return Result{}, err
	}
	elapsed := time.Since(start)
	return Result{Name: "raw franz-go ProduceSync", Events: len(recs), Elapsed: elapsed}, topicCount(ctx, cl, len(recs))
}

// RelayKafka drains the backlog at path through the relay and the kafka transport to
// a fresh kfake cluster.
func RelayKafka(ctx context.Context, path string, n int) (Result, error) {
	c, cl, err := startKafka()
	if err != nil {
		return Result{}, err
	}
	defer c.Close()
	defer cl.Close()
	tr, err := kafka.NewTransport(cl)
	if err != nil {
		return Result{}, err
	}
	res, err := RelayDrain(ctx, path, n, "relay drain to kafka (kfake)", tr)
	if err != nil {
		return Result{}, err
	}
	return res, topicCount(ctx, cl, n)
}

// KafkaSuite compares the relay's drain of an n-event backlog to an in-process Kafka
// with raw ProduceSync of the same records from memory, best of reps runs each.
func KafkaSuite(ctx context.Context, dir string, n, reps int) ([]Comparison, error) {
	template := dbPath(dir, "kafka-backlog")
	if err := MakeBacklog(ctx, template, n); err != nil {
		return nil, err
	}
	events, err := backlogEvents(ctx, template, n)
	if err != nil {
		return nil, err
	}
	recs := make([]*kgo.Record, len(events))
	for i, ev := range events {
		if recs[i], err = kafka.Record(kafkaTopic, ev); err != nil {
			return nil, err
		}
	}
	fresh := copyBacklog(dir, template)
	noDir := func() string { return "" }
	cmp, err := Compare(reps, 0,
		onFreshCopy(fresh, noDir, func(p, _ string) (Result, error) { return RelayKafka(ctx, p, n) }),
		func() (Result, error) { return RawKafka(ctx, recs) })
	if err != nil {
		return nil, err
	}
	return []Comparison{cmp}, nil
}
