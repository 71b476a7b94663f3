package kafka_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/edgeoutbox/edgeoutbox/edgeoutboxtest"
	"github.com/edgeoutbox/edgeoutbox/kafka"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const faultTopic = "events.cow_fed"

func cowFed(id int64, cow string) *edgeoutbox.Event {
	v := id
	return &edgeoutbox.Event{
		ID: id, IdempotencyKey: "key-" + cow + "-" + time.Now().Format("150405.000000000"),
		Name: "cow_fed", Type: "domain", Version: 1,
		Entity:     edgeoutbox.Entity{Class: "Cow", ID: cow, Version: &v},
		Payload:    []byte(`{"weight":12.5}`),
		OccurredAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
}

// Publish timeouts: short where the test waits for it to pass (an outage), long where
// an answer is expected, so that a busy machine cannot turn the answer into a timeout.
const (
	outageTimeout = time.Second
	answerTimeout = 15 * time.Second
)

// faultTransport starts a cluster holding faultTopic and a transport on it with the
// given publish timeout.
func faultTransport(t *testing.T, cfg kafka.ClientConfig, timeout time.Duration) (*fakeCluster, *kafka.Transport) {
	t.Helper()
	fc := startCluster(t, 2, faultTopic)
	cfg.Brokers = fc.Addrs()
	cfg.DeliveryTimeout = timeout
	cl, err := kafka.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	tr, err := kafka.NewTransport(cl, kafka.WithPublishTimeout(timeout))
	if err != nil {
		t.Fatal(err)
	}
	return fc, tr
}

func TestFaultsPermanent(t *testing.T) {
	t.Parallel()
	for _, e := range []*kerr.Error{kerr.MessageTooLarge, kerr.InvalidRecord, kerr.PolicyViolation, kerr.RecordListTooLarge} {
		t.Run(e.Message, func(t *testing.T) {
			t.Parallel()
			fc, tr := faultTransport(t, kafka.ClientConfig{}, answerTimeout)
			fc.Cluster().Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: faultTopic, Err: e})
			err := tr.Publish(context.Background(), cowFed(1, "7"))
			if !errors.Is(err, edgeoutbox.ErrPermanent) || !errors.Is(err, e) {
				t.Fatalf("Publish = %v, want a permanent error wrapping %s", err, e.Message)
			}
			if errors.Is(err, edgeoutbox.ErrTransportUnavailable) || errors.Is(err, kafka.ErrDestinationBlocked) {
				t.Errorf("Publish = %v: classed more than permanent", err)
			}
			if st := tr.Stats(); st.Permanent != 1 || st.LastError == "" {
				t.Errorf("stats = %+v, want 1 permanent and the last error", st)
			}
			// The fault was for one request: the next event goes through.
			if err := tr.Publish(context.Background(), cowFed(2, "7")); err != nil {
				t.Errorf("Publish after the fault: %v", err)
			}
		})
	}
}

func TestFaultsDestinationBlocked(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		err  *kerr.Error
		key  kmsg.Key
	}{
		{"topic authorization", kerr.TopicAuthorizationFailed, kmsg.Produce},
		{"idempotent write not granted", kerr.ClusterAuthorizationFailed, kmsg.InitProducerID},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			fc, tr := faultTransport(t, kafka.ClientConfig{}, answerTimeout)
			fc.Cluster().Fault(kfake.Fault{Keys: []kmsg.Key{c.key}, Err: c.err, Count: -1})
			err := tr.Publish(context.Background(), cowFed(1, "7"))
			if !errors.Is(err, kafka.ErrDestinationBlocked) || !errors.Is(err, c.err) {
				t.Fatalf("Publish = %v, want destination blocked wrapping %s", err, c.err.Message)
			}
			if errors.Is(err, edgeoutbox.ErrTransportUnavailable) || errors.Is(err, edgeoutbox.ErrPermanent) {
				t.Errorf("Publish = %v: blocked must count attempts (neither unavailable nor permanent)", err)
			}
			if st := tr.Stats(); st.Blocked != 1 {
				t.Errorf("stats = %+v, want 1 blocked", st)
			}
		})
	}
	t.Run("unknown topic", func(t *testing.T) {
		t.Parallel()
		_, tr := faultTransport(t, kafka.ClientConfig{}, answerTimeout)
		ev := cowFed(1, "7")
		ev.Name = "not_created"
		err := tr.Publish(context.Background(), ev)
		if !errors.Is(err, kafka.ErrDestinationBlocked) || !errors.Is(err, kerr.UnknownTopicOrPartition) || errors.Is(err, edgeoutbox.ErrTransportUnavailable) {
			t.Fatalf("Publish = %v, want destination blocked (unknown topic), not unavailable", err)
		}
	})
}

func TestFaultsUnavailable(t *testing.T) {
	t.Parallel()
	t.Run("retriable broker error", func(t *testing.T) {
		t.Parallel()
		fc, tr := faultTransport(t, kafka.ClientConfig{}, outageTimeout)
		h := fc.Cluster().Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: faultTopic, Err: kerr.NotEnoughReplicas, Count: -1})
		err := tr.Publish(context.Background(), cowFed(1, "7"))
		if !errors.Is(err, edgeoutbox.ErrTransportUnavailable) {
			t.Fatalf("Publish = %v, want unavailable", err)
		}
		h.Remove()
		if err := tr.Publish(context.Background(), cowFed(2, "7")); err != nil {
			t.Errorf("Publish after the fault: %v", err)
		}
	})
	t.Run("connection dropped", func(t *testing.T) {
		t.Parallel()
		fc, tr := faultTransport(t, kafka.ClientConfig{}, outageTimeout)
		c := fc.Cluster()
		c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
			c.KeepControl()
			return nil, errors.New("kfake: drop the connection"), true
		})
		started := time.Now()
		err := tr.Publish(context.Background(), cowFed(1, "7"))
		if !errors.Is(err, edgeoutbox.ErrTransportUnavailable) {
			t.Fatalf("Publish = %v, want unavailable", err)
		}
		if d := time.Since(started); d > 30*time.Second {
			t.Errorf("Publish took %s: not bounded by the publish timeout", d)
		}
	})
	t.Run("broker down", func(t *testing.T) {
		t.Parallel()
		fc, tr := faultTransport(t, kafka.ClientConfig{}, outageTimeout)
		fc.Stop()
		err := tr.Publish(context.Background(), cowFed(1, "7"))
		if !errors.Is(err, edgeoutbox.ErrTransportUnavailable) {
			t.Fatalf("Publish = %v, want unavailable", err)
		}
		if st := tr.Stats(); st.Unavailable != 1 {
			t.Errorf("stats = %+v, want 1 unavailable", st)
		}
	})
}

func TestWithoutIdempotencyPublishes(t *testing.T) {
	t.Parallel()
	fc, tr := faultTransport(t, kafka.ClientConfig{DisableIdempotency: true}, answerTimeout)
	// No producer id is asked for: a cluster that refuses IDEMPOTENT_WRITE is fine.
	fc.Cluster().Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.InitProducerID}, Err: kerr.ClusterAuthorizationFailed, Count: -1})
	if err := tr.Publish(context.Background(), cowFed(1, "7")); err != nil {
		t.Fatalf("Publish without idempotency: %v", err)
	}
}

// TestBlockedCountsAttemptsThroughTheRelay: a destination the producer may not write
// to is not an outage: attempts are counted, the event is dead-lettered after
// MaxAttempts with the reason, and the transport's stats show it.
func TestBlockedCountsAttemptsThroughTheRelay(t *testing.T) {
	t.Parallel()
	fc := startCluster(t, 2, conformanceTopic)
	cl, err := kafka.NewClient(kafka.ClientConfig{Brokers: fc.Addrs(), DeliveryTimeout: answerTimeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	tr, err := kafka.NewTransport(cl, kafka.WithPublishTimeout(answerTimeout))
	if err != nil {
		t.Fatal(err)
	}
	fc.Cluster().Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: conformanceTopic, Err: kerr.TopicAuthorizationFailed, Count: -1})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e, err := edgeoutbox.Open(ctx, filepath.Join(t.TempDir(), "outbox.db"), edgeoutbox.Config{
		Schema: edgeoutboxtest.ConformanceSchema(t), Transport: tr,
		MaxAttempts: 3, BackoffBase: 5 * time.Millisecond, BackoffMax: 20 * time.Millisecond,
		PollInterval: 20 * time.Millisecond, Synchronous: edgeoutbox.SyncNormal,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	r, err := e.Emit(ctx, edgeoutboxtest.ConformanceEvent.Name(), edgeoutbox.Inputs{"line": map[string]any{"kind": "order", "order": "o-1", "seq": 1, "amount": 2.5}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var ev *edgeoutbox.StoredEvent
	for ev == nil || ev.Status != edgeoutbox.StatusDeadLettered {
		if ctx.Err() != nil {
			t.Fatalf("event not dead-lettered: %+v", ev)
		}
		if ev, err = e.GetEvent(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if ev.Attempts != 3 || !strings.Contains(ev.LastError, "destination blocked") {
		t.Errorf("dead letter: %d attempts, last error %q; want 3 and destination blocked", ev.Attempts, ev.LastError)
	}
	if st := tr.Stats(); st.Blocked != 3 || st.Unavailable != 0 {
		t.Errorf("transport stats = %+v, want 3 blocked, 0 unavailable", st)
	}
}
