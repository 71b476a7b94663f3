package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
)

func deadLettersCommand() *command {
	return &command{
		Name:    "dead-letters",
		Summary: "list, inspect and retry events that failed for good",
		Subcommands: []*command{
			{Name: "list", Args: "--db PATH [--limit N] [--before-id ID] [--json]", Summary: "list dead letters, newest first", run: runDeadLettersList},
			{Name: "show", Args: "ID --db PATH [--json]", Summary: "show one dead letter with its error, payload and metadata", run: runDeadLettersShow},
			{
				Name:    "retry",
				Args:    "ID --db PATH | --all --db PATH",
				Summary: "make one dead letter, or all of them, pending again",
				Details: `The event keeps its idempotency key, so a broker that already has it drops the
re-send; its attempts start again from zero. A running relay publishes it.`,
				run: runDeadLettersRetry,
			},
		},
	}
}

func runDeadLettersList(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := newFlagSet(cmd)
	dbPath := fs.String("db", "", "outbox database `PATH`")
	limit := fs.Int("limit", 100, "list at most `N` dead letters (at most 1000)")
	beforeID := fs.Int64("before-id", 0, "list only dead letters with an id below `ID` (the next page)")
	asJSON := fs.Bool("json", false, "print as JSON")
	if err := c.parseWithDB(cmd, fs, args, dbPath); err != nil {
		return err
	}
	if *limit < 0 || *beforeID < 0 {
		return usageErrorf(cmd, fs, "--limit and --before-id must not be negative")
	}
	return c.printEventPage(ctx, *dbPath, *asJSON, *limit, eventTable{
		empty:  fmt.Sprintf("no dead letters in %s", *dbPath),
		header: "ID\tEVENT\tENTITY\tFAILED ATTEMPTS\tDEAD SINCE\tERROR",
		row: func(ev *edgeoutbox.StoredEvent) string {
			return fmt.Sprintf("%d\t%s v%d\t%s\t%d\t%s\t%s", ev.ID, ev.Name, ev.Version, entityString(ev.Entity), ev.Attempts,
				formatTime(ev.DeadLetteredAt), truncate(errorString(ev)))
		},
	}, func(e *edgeoutbox.Engine) ([]*edgeoutbox.StoredEvent, error) {
		return e.DeadLetters(ctx, *limit, *beforeID)
	})
}

// eventTable says how a list command prints a page of events as a table.
type eventTable struct {
	empty  string                               // the line printed for an empty page
	header string                               // tab-separated column names
	row    func(*edgeoutbox.StoredEvent) string // tab-separated cells of one event
}

// printEventPage opens the outbox at dbPath (never creating it), fetches one page of
// events with list and prints it as JSON or as a table, with a paging hint when the
// page is full.
func (c *cli) printEventPage(ctx context.Context, dbPath string, asJSON bool, limit int, t eventTable,
	list func(*edgeoutbox.Engine) ([]*edgeoutbox.StoredEvent, error)) error {
	e, err := openOutbox(ctx, dbPath, false, edgeoutbox.Config{})
	if err != nil {
		return err
	}
	defer e.Close()
	events, err := list(e)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(c.stdout, nonNilEvents(events))
	}
	if len(events) == 0 {
		fmt.Fprintln(c.stdout, t.empty)
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, t.header)
	for _, ev := range events {
		fmt.Fprintln(tw, t.row(ev))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(events) == pageSize(limit) {
		fmt.Fprintf(c.stdout, "(more may follow: add --before-id %d)\n", events[len(events)-1].ID)
	}
	return nil
}

func nonNilEvents(events []*edgeoutbox.StoredEvent) []*edgeoutbox.StoredEvent {
	if events == nil {
		return []*edgeoutbox.StoredEvent{}
	}
	return events
}

func entityString(en edgeoutbox.Entity) string {
	if en.Class == "" && en.ID == "" {
		return "-"
	}
	s := en.Class + "/" + en.ID
	if en.Version != nil {
		s += "@" + strconv.FormatInt(*en.Version, 10)
	}
	return s
}

func errorString(ev *edgeoutbox.StoredEvent) string {
	if ev.LastError == "" {
		return "-"
	}
	if ev.LastErrorClass != "" {
		return ev.LastErrorClass + ": " + ev.LastError
	}
	return ev.LastError
}

func formatTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// parseEventID reads an event id argument.
func parseEventID(cmd *command, fs *flag.FlagSet, s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, usageErrorf(cmd, fs, "%q is not an event id (a positive number from the list)", s)
	}
	return id, nil
}

func noDeadLetterError(id int64, dbPath string) error {
	return fmt.Errorf("no dead letter with id %d in %s: run \"edgeoutbox dead-letters list --db %s\" to see them", id, dbPath, dbPath)
}

func runDeadLettersShow(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := newFlagSet(cmd)
	dbPath := fs.String("db", "", "outbox database `PATH`")
	asJSON := fs.Bool("json", false, "print as JSON")
	rest, err := c.parse(cmd, fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(cmd, fs, rest, 1, 1, "dead letter ID"); err != nil {
		return err
	}
	if err := requireFlag(cmd, fs, "db", *dbPath); err != nil {
		return err
	}
	id, err := parseEventID(cmd, fs, rest[0])
	if err != nil {
		return err
	}
	e, err := openOutbox(ctx, *dbPath, false, edgeoutbox.Config{})
	if err != nil {
		return err
	}
	defer e.Close()
	ev, err := e.GetEvent(ctx, id)
	if errors.Is(err, edgeoutbox.ErrNotFound) || err == nil && ev.Status != edgeoutbox.StatusDeadLettered {
		return noDeadLetterError(id, *dbPath)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(c.stdout, ev)
	}
	printEvent(c, ev)
	return nil
}

// printEvent prints every attribute of a stored event, payload and metadata included.
func printEvent(c *cli, ev *edgeoutbox.StoredEvent) {
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
	row("id", strconv.FormatInt(ev.ID, 10))
	row("event", fmt.Sprintf("%s v%d (%s)", ev.Name, ev.Version, ev.Type))
	row("status", string(ev.Status))
	row("entity", entityString(ev.Entity))
	row("idempotency key", ev.IdempotencyKey)
	row("occurred at", formatTime(&ev.OccurredAt))
	row("created at", formatTime(&ev.CreatedAt))
	if ev.PublishedAt != nil {
		row("published at", formatTime(ev.PublishedAt))
	}
	if ev.DeadLetteredAt != nil {
		row("dead-lettered at", formatTime(ev.DeadLetteredAt))
	}
	row("failed attempts", strconv.Itoa(ev.Attempts))
	row("last error", errorString(ev))
	tw.Flush()
	fmt.Fprintf(c.stdout, "payload:\n%s\n", indentJSON(ev.Payload))
	if len(ev.Metadata) == 0 {
		fmt.Fprintln(c.stdout, "metadata: none")
		return
	}
	md, _ := json.Marshal(ev.Metadata)
	fmt.Fprintf(c.stdout, "metadata:\n%s\n", indentJSON(md))
}

func indentJSON(b []byte) string {
	var out strings.Builder
	var v any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "  " + string(b)
	}
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("  ", "  ")
	if err := enc.Encode(v); err != nil {
		return "  " + string(b)
	}
	return "  " + strings.TrimRight(out.String(), "\n")
}

func runDeadLettersRetry(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := newFlagSet(cmd)
	dbPath := fs.String("db", "", "outbox database `PATH`")
	all := fs.Bool("all", false, "retry every dead letter, in one transaction")
	rest, err := c.parse(cmd, fs, args)
	if err != nil {
		return err
	}
	if err := requireFlag(cmd, fs, "db", *dbPath); err != nil {
		return err
	}
	switch {
	case *all && len(rest) > 0:
		return usageErrorf(cmd, fs, "give a dead letter ID or --all, not both")
	case !*all:
		if err := wantArgs(cmd, fs, rest, 1, 1, "dead letter ID (or --all)"); err != nil {
			return err
		}
	}
	var id int64
	if !*all {
		if id, err = parseEventID(cmd, fs, rest[0]); err != nil {
			return err
		}
	}
	e, err := openOutbox(ctx, *dbPath, false, edgeoutbox.Config{})
	if err != nil {
		return err
	}
	defer e.Close()
	if *all {
		n, err := e.RetryAllDeadLetters(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "%d dead letters are pending again; a running relay publishes them\n", n)
		return e.Close()
	}
	if err := e.RetryDeadLetter(ctx, id); err != nil {
		if errors.Is(err, edgeoutbox.ErrNotFound) {
			return noDeadLetterError(id, *dbPath)
		}
		return err
	}
	fmt.Fprintf(c.stdout, "dead letter %d is pending again; a running relay publishes it\n", id)
	return e.Close()
}
