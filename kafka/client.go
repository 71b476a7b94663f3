package kafka

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// ClientConfig configures [NewClient].
type ClientConfig struct {
	// Brokers are the seed brokers, "host:port" each. Required.
	Brokers []string
	// DisableIdempotency turns the idempotent producer off, for clusters that do not
	// grant IDEMPOTENT_WRITE (a produce then fails with CLUSTER_AUTHORIZATION_FAILED,
	// reported as destination blocked). Order per partition still holds (one produce
	// request in flight per broker); retries inside the client may then store a
	// record twice.
	DisableIdempotency bool
	// DeliveryTimeout bounds how long a record may wait for the broker before it
	// fails (kgo.RecordDeliveryTimeout). Default DefaultPublishTimeout; keep it no
	// longer than the transport's publish timeout.
	DeliveryTimeout time.Duration
	// Options are appended after the defaults, so they can override any of them
	// (TLS, SASL, client id, compression, ...).
	Options []kgo.Opt
}

// NewClient returns a franz-go client with the defaults the transport needs: the
// idempotent producer (unless DisableIdempotency), acks from all in-sync replicas,
// delivery bounded by DeliveryTimeout, and in-flight records that may be cancelled
// when that time or the batch's deadline passes (kgo.AllowIdempotentProduceCancellation),
// so that an offline broker never holds a publish. It does no I/O: the client
// connects on first use. The caller closes it after the engine stopped.
func NewClient(cfg ClientConfig) (*kgo.Client, error) {
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("new kafka client: no brokers: set ClientConfig.Brokers, e.g. []string{\"127.0.0.1:9092\"}")
	}
	for _, b := range cfg.Brokers {
		if b == "" {
			return nil, errors.New("new kafka client: empty broker address in ClientConfig.Brokers")
		}
	}
	if cfg.DeliveryTimeout < 0 {
		return nil, fmt.Errorf("new kafka client: negative DeliveryTimeout %s", cfg.DeliveryTimeout)
	}
	if cfg.DeliveryTimeout == 0 {
		cfg.DeliveryTimeout = DefaultPublishTimeout
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordDeliveryTimeout(cfg.DeliveryTimeout),
		kgo.AllowIdempotentProduceCancellation(),
		// Connecting to a broker that is down must not eat the whole batch deadline.
		kgo.DialTimeout(min(cfg.DeliveryTimeout/2, 5*time.Second)),
		// The default backoff grows to 5 s: after an outage the producer would sit
		// out up to that long although the broker is back.
		kgo.RetryBackoffFn(retryBackoff),
		// After a broker failure the producer waits for fresh metadata, which by
		// default comes at most every 5 s: the relay would lose that long per outage.
		kgo.MetadataMinAge(250 * time.Millisecond),
		// The relay hands over whole batches and waits for them: lingering for more
		// records would only add its delay to every batch.
		kgo.ProducerLinger(0),
	}
	if cfg.DisableIdempotency {
		opts = append(opts, kgo.DisableIdempotentWrite())
	}
	opts = append(opts, cfg.Options...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("new kafka client: %w", err)
	}
	return cl, nil
}

// retryBackoff is the client's backoff after failed requests and dials: 100 ms
// doubling to 1 s, with ±20% jitter so that many devices do not retry in step.
func retryBackoff(fails int) time.Duration {
	d := time.Second
	if fails < 4 {
		d = 100 * time.Millisecond << max(fails-1, 0)
	}
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}
