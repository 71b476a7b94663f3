package edgeoutbox

import (
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// Synchronous is SQLite's synchronous level for the outbox connections. It decides what
// a power cut can take back: see the constants.
type Synchronous string

const (
	// SyncFull (the default) fsyncs the WAL at every commit: an event whose Emit returned
	// nil survives a power cut.
	SyncFull Synchronous = "FULL"
	// SyncExtra is FULL plus an fsync of the directory after the WAL is reset.
	SyncExtra Synchronous = "EXTRA"
	// SyncNormal fsyncs only at checkpoints: the database stays consistent after a power
	// cut, but the last commits (acknowledged emits) may be lost. About 2–3× faster per
	// commit on small transactions.
	SyncNormal Synchronous = "NORMAL"
	// SyncOff never fsyncs; a power cut may corrupt the file. For tests and benchmarks.
	SyncOff Synchronous = "OFF"
)

// pragmaValue is what PRAGMA synchronous reads back for each level.
func (s Synchronous) pragmaValue() (int, bool) {
	switch s {
	case SyncOff:
		return 0, true
	case SyncNormal:
		return 1, true
	case SyncFull:
		return 2, true
	case SyncExtra:
		return 3, true
	}
	return 0, false
}

// DeliveryMode says who publishes an emitted event.
type DeliveryMode int

const (
	// DeliveryBackground (the default): the relay publishes, woken at once by each emit.
	DeliveryBackground DeliveryMode = iota
	// DeliveryInline: Emit publishes the event itself right after its commit, when no
	// earlier event of the same entity is still pending; on any failure the event stays
	// in the outbox for the relay. Emit still returns nil once the event is stored.
	DeliveryInline
)

// Config configures an Engine. The zero value plus a schema is valid: every other field
// has a default, filled in by Open and New and listed beside the field.
type Config struct {
	// Schema is a loaded schema file (LoadSchemaFile, LoadSchemaFS, ParseSchema). When
	// nil, the schema is loaded from SchemaFS or SchemaPath.
	Schema *Schema
	// SchemaFS with SchemaPath loads the schema from a file system, typically an
	// embed.FS holding the committed schema file, so the binary runs from any directory.
	SchemaFS fs.FS
	// SchemaPath is the schema file's path (in SchemaFS when set). Default
	// "event_schema.json".
	SchemaPath string
	// Definitions are the event definitions compiled into this program. When set, Open
	// compares them with the schema file and fails if any changed since the file was
	// dumped (in Development mode it dumps the file instead).
	Definitions []*Definition
	// Development lets Open create or update the schema file at SchemaPath from
	// Definitions instead of failing. Never set it in production builds.
	Development bool

	// Synchronous is SQLite's synchronous level. Default SyncFull (durable).
	Synchronous Synchronous
	// BusyTimeout is how long a connection waits for a lock. Default 5s.
	BusyTimeout time.Duration
	// ReadConns is the size of the read-only connection pool (Open only). Default 4.
	ReadConns int

	// Logger receives structured logs. The zero value logs nothing.
	Logger zerolog.Logger
	// Hooks are called on emit, publish and dead letter; see Hooks.
	Hooks Hooks

	// Transport publishes events. Required by Start, not by Emit.
	Transport Transport
	// Delivery chooses background (default) or inline publishing.
	Delivery DeliveryMode
	// BatchSize is how many due events the relay claims at once. Default 500.
	BatchSize int
	// MaxAttempts is how many failed publishes dead-letter an event. Being offline
	// (Unavailable errors) never counts. Default 10.
	MaxAttempts int
	// BackoffBase is the delay after the first failure; it doubles per attempt, with
	// jitter, up to BackoffMax. Defaults 1s and 5m.
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// PollInterval is how often the relay looks for events emitted by other processes.
	// Emits in this process wake it at once. Default 1s.
	PollInterval time.Duration
	// OfflineProbeInterval is how often the relay retries a transport that reported
	// itself unavailable and cannot say when it is back (no AvailabilityWaiter).
	// Default 2s.
	OfflineProbeInterval time.Duration
	// LeaseTTL is how long a relay owns the database file without renewing; it renews
	// every third of it. Another relay takes over within LeaseTTL after a crash.
	// Default 15s.
	LeaseTTL time.Duration

	// RetentionPeriod is how long published events are kept. Default 7 days; negative
	// keeps them forever.
	RetentionPeriod time.Duration
	// DeadLetterRetention is how long dead letters are kept. Default 30 days; negative
	// keeps them forever.
	DeadLetterRetention time.Duration
	// RetentionInterval is how often the relay owner runs Cleanup. Default 1h; negative
	// disables the background cleanup (call Cleanup yourself).
	RetentionInterval time.Duration

	// MaxPendingEvents caps unpublished events; at the cap Emit returns ErrOutboxFull.
	// Default 0: no cap.
	MaxPendingEvents int64
	// MaxOutboxBytes caps the bytes (payload plus metadata) of all events the outbox
	// holds, pending, published or dead; at the cap Emit returns ErrOutboxFull. Retention
	// frees space. Default 0: no cap.
	MaxOutboxBytes int64

	// MaxCommitBatch is the most events one group commit writes. Default 1000.
	MaxCommitBatch int

	// MaxInFlightBytes bounds the memory the relay holds while it drains: the events it
	// has claimed and sent and not yet recorded as published, each counted as its
	// payload and metadata plus 1 KiB (less once its outcome is known). The
	// relay keeps fewer batches in flight, and claims smaller batches (at most a
	// quarter of it each), rather than exceed it; a single event larger than that is
	// still sent, alone. The process's peak memory while draining is about twice this
	// (garbage collection headroom) on top of what it uses idle. Default
	// DefaultMaxInFlightBytes (2 MiB): a million-event backlog drains at full speed on
	// a local link with it; raise it for a link with a long round trip.
	MaxInFlightBytes int64

	// Clock tells the time stored in and compared with the database (created, due,
	// published, lease expiry). Default: the wall clock. Stored times further ahead
	// than they can legitimately be (a clock stepped back after they were written) are
	// treated as now, so a clock step delays nothing for longer than one LeaseTTL or
	// BackoffMax.
	Clock Clock
}

// withDefaults returns a copy of c with every unset field filled in, or an error that
// says which field is wrong and how to fix it.
func (c Config) withDefaults() (Config, error) {
	if c.Clock == nil {
		c.Clock = wallClock{}
	}
	if c.SchemaPath == "" {
		c.SchemaPath = DefaultSchemaFile
	}
	if c.Synchronous == "" {
		c.Synchronous = SyncFull
	}
	c.Synchronous = Synchronous(strings.ToUpper(string(c.Synchronous)))
	if _, ok := c.Synchronous.pragmaValue(); !ok {
		return c, fmt.Errorf("edgeoutbox: Config.Synchronous %q is not a level: use SyncFull, SyncExtra, SyncNormal or SyncOff", c.Synchronous)
	}
	durations := []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"BusyTimeout", &c.BusyTimeout, 5 * time.Second},
		{"BackoffBase", &c.BackoffBase, time.Second},
		{"BackoffMax", &c.BackoffMax, 5 * time.Minute},
		{"PollInterval", &c.PollInterval, time.Second},
		{"OfflineProbeInterval", &c.OfflineProbeInterval, 2 * time.Second},
		{"LeaseTTL", &c.LeaseTTL, 15 * time.Second},
	}
	for _, d := range durations {
		if *d.v < 0 {
			return c, fmt.Errorf("edgeoutbox: Config.%s is negative (%v): leave it 0 for the default %v", d.name, *d.v, d.def)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if c.LeaseTTL < 100*time.Millisecond {
		return c, fmt.Errorf("edgeoutbox: Config.LeaseTTL %v is too short: use at least 100ms (default 15s)", c.LeaseTTL)
	}
	if c.BackoffMax < c.BackoffBase {
		return c, fmt.Errorf("edgeoutbox: Config.BackoffMax (%v) is less than Config.BackoffBase (%v)", c.BackoffMax, c.BackoffBase)
	}
	if c.RetentionPeriod == 0 {
		c.RetentionPeriod = 7 * 24 * time.Hour
	}
	if c.DeadLetterRetention == 0 {
		c.DeadLetterRetention = 30 * 24 * time.Hour
	}
	if c.RetentionInterval == 0 {
		c.RetentionInterval = time.Hour
	}
	ints := []struct {
		name string
		v    *int
		def  int
	}{
		{"ReadConns", &c.ReadConns, 4},
		{"BatchSize", &c.BatchSize, 500},
		{"MaxAttempts", &c.MaxAttempts, 10},
		{"MaxCommitBatch", &c.MaxCommitBatch, 1000},
	}
	for _, n := range ints {
		if *n.v < 0 {
			return c, fmt.Errorf("edgeoutbox: Config.%s is negative (%d): leave it 0 for the default %d", n.name, *n.v, n.def)
		}
		if *n.v == 0 {
			*n.v = n.def
		}
	}
	if c.MaxInFlightBytes < 0 {
		return c, fmt.Errorf("edgeoutbox: Config.MaxInFlightBytes is negative (%d): leave it 0 for the default %d", c.MaxInFlightBytes, DefaultMaxInFlightBytes)
	}
	if c.MaxInFlightBytes == 0 {
		c.MaxInFlightBytes = DefaultMaxInFlightBytes
	}
	if c.MaxPendingEvents < 0 || c.MaxOutboxBytes < 0 {
		return c, fmt.Errorf("edgeoutbox: Config.MaxPendingEvents and Config.MaxOutboxBytes must not be negative (0 means no cap)")
	}
	if c.Delivery != DeliveryBackground && c.Delivery != DeliveryInline {
		return c, fmt.Errorf("edgeoutbox: Config.Delivery %d is not a mode: use DeliveryBackground or DeliveryInline", c.Delivery)
	}
	return c, nil
}
