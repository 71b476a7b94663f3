package cloud

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/rs/zerolog"
)

// Defaults of the Config fields left zero.
const (
	DefaultBatchSize         = 50
	DefaultFlushInterval     = 10 * time.Second
	DefaultHeartbeatInterval = time.Minute
	DefaultTimeout           = 5 * time.Second
	DefaultBufferSize        = 10000
	DefaultBackoffBase       = time.Second
	DefaultBackoffMax        = 5 * time.Minute
)

// Environment variables read by ConfigFromEnv.
const (
	EnvEndpoint    = "EDGEOUTBOX_CLOUD_ENDPOINT"
	EnvAPIKey      = "EDGEOUTBOX_CLOUD_API_KEY"
	EnvApp         = "EDGEOUTBOX_CLOUD_APP"
	EnvEnvironment = "EDGEOUTBOX_CLOUD_ENVIRONMENT"
	EnvInstanceID  = "EDGEOUTBOX_CLOUD_INSTANCE_ID"
)

// Config configures a Reporter. The reporter is off (inert: no goroutine, no
// connection) unless both Endpoint and APIKey are set.
type Config struct {
	// Endpoint is the URL batches and heartbeats are POSTed to. It must be https,
	// except on a loopback host (for a local collector or a test).
	Endpoint string
	// APIKey is sent as "Authorization: Bearer <APIKey>".
	APIKey string
	// App and Environment label everything sent (e.g. "till", "production").
	App         string
	Environment string
	// InstanceID names this device or process. Default: the host name.
	InstanceID string

	// BatchSize is how many entries make a batch that is sent at once. Default 50.
	BatchSize int
	// FlushInterval sends a smaller batch when this much time passed. Default 10 s.
	FlushInterval time.Duration
	// HeartbeatInterval is how often the heartbeat is sent. Default 1 min.
	HeartbeatInterval time.Duration
	// Timeout bounds one HTTP request. Default 5 s.
	Timeout time.Duration
	// BufferSize bounds the entries waiting to be sent; when full, the oldest are
	// dropped and counted. Default 10000.
	BufferSize int
	// BackoffBase and BackoffMax bound the wait between attempts while the endpoint
	// fails (doubling from base; a Retry-After answer is honoured up to BackoffMax).
	// Defaults 1 s and 5 min.
	BackoffBase time.Duration
	BackoffMax  time.Duration

	// Logger receives the start line and send failures. Default: silent.
	Logger zerolog.Logger
	// Transport, when set, carries the requests (custom TLS roots, proxies). Default:
	// a clone of http.DefaultTransport.
	Transport http.RoundTripper
}

// ConfigFromEnv returns a Config filled from the EDGEOUTBOX_CLOUD_* environment
// variables; the reporter stays off when endpoint or key is unset.
func ConfigFromEnv() Config {
	return Config{
		Endpoint:    os.Getenv(EnvEndpoint),
		APIKey:      os.Getenv(EnvAPIKey),
		App:         os.Getenv(EnvApp),
		Environment: os.Getenv(EnvEnvironment),
		InstanceID:  os.Getenv(EnvInstanceID),
	}
}

// Enabled reports whether c turns the reporter on: an endpoint and an API key are set.
func (c Config) Enabled() bool { return c.Endpoint != "" && c.APIKey != "" }

// withDefaults fills zero fields and checks the rest.
func (c Config) withDefaults() (Config, error) {
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.FlushInterval == 0 {
		c.FlushInterval = DefaultFlushInterval
	}
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.BufferSize == 0 {
		c.BufferSize = DefaultBufferSize
	}
	if c.BackoffBase == 0 {
		c.BackoffBase = DefaultBackoffBase
	}
	if c.BackoffMax == 0 {
		c.BackoffMax = DefaultBackoffMax
	}
	if c.InstanceID == "" {
		if h, err := os.Hostname(); err == nil {
			c.InstanceID = h
		}
	}
	var errs []error
	if c.BatchSize < 0 || c.BufferSize < 0 {
		errs = append(errs, errors.New("cloud: BatchSize and BufferSize must not be negative (0 means the default)"))
	}
	if c.BufferSize > 0 && c.BatchSize > c.BufferSize {
		errs = append(errs, fmt.Errorf("cloud: BatchSize %d is larger than BufferSize %d: raise BufferSize", c.BatchSize, c.BufferSize))
	}
	if c.FlushInterval < 0 || c.HeartbeatInterval < 0 || c.Timeout < 0 || c.BackoffBase < 0 || c.BackoffMax < 0 {
		errs = append(errs, errors.New("cloud: intervals, Timeout and backoffs must not be negative (0 means the default)"))
	}
	if c.BackoffMax < c.BackoffBase {
		errs = append(errs, fmt.Errorf("cloud: BackoffMax %s is below BackoffBase %s", c.BackoffMax, c.BackoffBase))
	}
	if err := checkEndpoint(c.Endpoint); err != nil {
		errs = append(errs, err)
	}
	return c, errors.Join(errs...)
}

// checkEndpoint accepts https anywhere and http only on a loopback host: the API key
// must not cross a network in clear text.
func checkEndpoint(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil {
		return fmt.Errorf("cloud: endpoint %q is not a URL: %w", redact(endpoint), err)
	}
	if u.Host == "" {
		return fmt.Errorf("cloud: endpoint %q has no host: set Config.Endpoint to e.g. https://collector.example.com/v1/ingest", redact(endpoint))
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if ip := net.ParseIP(u.Hostname()); (ip != nil && ip.IsLoopback()) || u.Hostname() == "localhost" {
			return nil
		}
		return fmt.Errorf("cloud: endpoint %q is plain http on a non-loopback host: use https so the API key is not sent in clear text", redact(endpoint))
	}
	return fmt.Errorf("cloud: endpoint %q must be an https URL", redact(endpoint))
}

// redact drops credentials and the query from an endpoint before it is logged.
func redact(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User = nil
	u.RawQuery = ""
	u.Fragment = ""
	return u.String()
}
