package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
)

func outboxCommand() *command {
	return &command{
		Name:    "outbox",
		Summary: "see what the outbox holds and clean it up",
		Subcommands: []*command{
			{Name: "stats", Args: "--db PATH [--json]", Summary: "counts by status, oldest pending age, publish latency and the relay lease", run: runOutboxStats},
			{Name: "list", Args: "--db PATH [--status pending|published|dead_lettered] [--name EVENT] [--limit N] [--before-id ID] [--json]", Summary: "list events, newest first", run: runOutboxList},
			{
				Name:    "cleanup",
				Args:    "--db PATH [--older-than DURATION] [--dead-older-than DURATION] [--json]",
				Summary: "delete old published events and dead letters and give the space back",
				Details: `Pending events are never deleted. Durations take Go's units plus days: 36h, 7d, 1d12h.
"never" keeps that kind of event.`,
				run: runOutboxCleanup,
			},
		},
	}
}

type leaseOutput struct {
	Owner     string    `json:"owner"`
	ExpiresAt time.Time `json:"expires_at"`
}

type statsOutput struct {
	Path string `json:"path"`
	edgeoutbox.Stats
	Relay *leaseOutput `json:"relay"`
}

func runOutboxStats(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := newFlagSet(cmd)
	dbPath := fs.String("db", "", "outbox database `PATH`")
	asJSON := fs.Bool("json", false, "print as JSON (durations in nanoseconds)")
	if err := c.parseWithDB(cmd, fs, args, dbPath); err != nil {
		return err
	}
	e, err := openOutbox(ctx, *dbPath, false, edgeoutbox.Config{})
	if err != nil {
		return err
	}
	defer e.Close()
	st, err := e.Stats(ctx)
	if err != nil {
		return err
	}
	lease, err := e.Lease(ctx)
	if err != nil {
		return err
	}
	out := statsOutput{Path: *dbPath, Stats: st}
	if lease != nil {
		out.Relay = &leaseOutput{Owner: lease.Owner, ExpiresAt: lease.ExpiresAt.UTC()}
	}
	if *asJSON {
		return writeJSON(c.stdout, out)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
	row("database", *dbPath)
	row("pending", strconv.FormatInt(st.Pending, 10))
	row("published", strconv.FormatInt(st.Published, 10))
	row("dead letters", strconv.FormatInt(st.DeadLettered, 10))
	if st.Pending > 0 {
		row("oldest pending", roundDuration(st.OldestPendingAge)+" ago")
	}
	if !st.LastPublishedAt.IsZero() {
		row("last published", formatTime(&st.LastPublishedAt))
	}
	if l := st.PublishLatency; l.Samples > 0 {
		row("publish latency", fmt.Sprintf("p50 %s, p99 %s, max %s (last %d events)", roundDuration(l.P50), roundDuration(l.P99), roundDuration(l.Max), l.Samples))
	}
	row("outbox bytes", strconv.FormatInt(st.OutboxBytes, 10))
	if lease != nil {
		row("relay", fmt.Sprintf("running (lease %s until %s)", lease.Owner, lease.ExpiresAt.UTC().Format(time.RFC3339)))
	} else {
		row("relay", "none holds the lease")
	}
	return tw.Flush()
}

func roundDuration(d time.Duration) string {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second).String()
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	default:
		return d.Round(time.Microsecond).String()
	}
}

func runOutboxList(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := newFlagSet(cmd)
	dbPath := fs.String("db", "", "outbox database `PATH`")
	status := fs.String("status", "", "only events with this `STATUS`: pending, published or dead_lettered")
	name := fs.String("name", "", "only events named `EVENT`")
	limit := fs.Int("limit", 100, "list at most `N` events (at most 1000)")
	beforeID := fs.Int64("before-id", 0, "list only events with an id below `ID` (the next page)")
	asJSON := fs.Bool("json", false, "print as JSON")
	if err := c.parseWithDB(cmd, fs, args, dbPath); err != nil {
		return err
	}
	filter := edgeoutbox.EventFilter{Name: *name, Limit: *limit, BeforeID: *beforeID}
	if *status != "" {
		var err error
		if filter.Status, err = edgeoutbox.ParseStatus(*status); err != nil {
			return usageErrorf(cmd, fs, "--status: %v", err)
		}
	}
	if *limit < 0 || *beforeID < 0 {
		return usageErrorf(cmd, fs, "--limit and --before-id must not be negative")
	}
	return c.printEventPage(ctx, *dbPath, *asJSON, filter.Limit, eventTable{
		empty:  fmt.Sprintf("no matching events in %s", *dbPath),
		header: "ID\tSTATUS\tEVENT\tENTITY\tFAILED ATTEMPTS\tCREATED\tERROR",
		row: func(ev *edgeoutbox.StoredEvent) string {
			return fmt.Sprintf("%d\t%s\t%s v%d\t%s\t%d\t%s\t%s", ev.ID, ev.Status, ev.Name, ev.Version, entityString(ev.Entity),
				ev.Attempts, formatTime(&ev.CreatedAt), truncate(errorString(ev)))
		},
	}, func(e *edgeoutbox.Engine) ([]*edgeoutbox.StoredEvent, error) { return e.ListEvents(ctx, filter) })
}

// pageSize is the number of events a list asks for with --limit n returns at most:
// the library reads 0 as its default of 100 and caps the rest at 1000. A full page
// means more may follow.
func pageSize(n int) int {
	if n <= 0 {
		return 100
	}
	return min(n, 1000)
}

// durationValue is a flag accepting Go durations plus days ("7d", "1d12h") and
// "never" (a negative duration: keep that kind of event).
type durationValue struct{ d time.Duration }

func (v *durationValue) String() string {
	switch {
	case v == nil:
		return ""
	case v.d < 0:
		return "never"
	case v.d%(24*time.Hour) == 0 && v.d > 0:
		return strconv.FormatInt(int64(v.d/(24*time.Hour)), 10) + "d"
	}
	return v.d.String()
}

func (v *durationValue) Set(s string) error {
	d, err := parseDuration(s)
	if err != nil {
		return err
	}
	v.d = d
	return nil
}

func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "never" {
		return -1, nil
	}
	var days int64
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.ParseInt(s[:i], 10, 32)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a duration such as 7d, 36h or never", s)
		}
		days, s = n, s[i+1:]
		if s == "" {
			return time.Duration(days) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration such as 7d, 36h or never", s)
	}
	return time.Duration(days)*24*time.Hour + d, nil
}

type cleanupOutput struct {
	Path         string `json:"path"`
	Published    int64  `json:"published_deleted"`
	DeadLettered int64  `json:"dead_letters_deleted"`
	FreedBytes   int64  `json:"freed_bytes"`
}

func runOutboxCleanup(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := newFlagSet(cmd)
	dbPath := fs.String("db", "", "outbox database `PATH`")
	olderThan := &durationValue{7 * 24 * time.Hour}
	deadOlderThan := &durationValue{30 * 24 * time.Hour}
	fs.Var(olderThan, "older-than", "delete published events older than `DURATION`")
	fs.Var(deadOlderThan, "dead-older-than", "delete dead letters older than `DURATION`")
	asJSON := fs.Bool("json", false, "print as JSON")
	if err := c.parseWithDB(cmd, fs, args, dbPath); err != nil {
		return err
	}
	e, err := openOutbox(ctx, *dbPath, false, edgeoutbox.Config{})
	if err != nil {
		return err
	}
	defer e.Close()
	res, err := e.CleanupOlderThan(ctx, olderThan.d, deadOlderThan.d)
	if err != nil {
		return err
	}
	if err := e.Close(); err != nil {
		return err
	}
	out := cleanupOutput{Path: *dbPath, Published: res.Published, DeadLettered: res.DeadLettered, FreedBytes: res.FreedBytes}
	if *asJSON {
		return writeJSON(c.stdout, out)
	}
	fmt.Fprintf(c.stdout, "deleted %d published events (older than %s) and %d dead letters (older than %s); %d bytes of events freed\n",
		out.Published, olderThan, out.DeadLettered, deadOlderThan, out.FreedBytes)
	return nil
}
