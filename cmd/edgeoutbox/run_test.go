package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"testing"
)

func TestExitCode(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{flag.ErrHelp, 0},
		{fmt.Errorf("wrapped: %w", flag.ErrHelp), 0},
		{&UsageError{Err: errors.New("bad flag")}, 2},
		{fmt.Errorf("outer: %w", &UsageError{Err: errors.New("bad flag")}), 2},
		{errors.New("database is corrupt"), 1},
	}
	for _, c := range cases {
		if got := exitCode(c.err); got != c.want {
			t.Errorf("exitCode(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}

func TestReportIsOneLine(t *testing.T) {
	var b strings.Builder
	code := report(&b, errors.New("edgeoutbox: open x:\n  the file is not a database"))
	if code != 1 {
		t.Errorf("code = %d, want 1", code)
	}
	if got, want := b.String(), "edgeoutbox: open x: the file is not a database\n"; got != want {
		t.Errorf("report wrote %q, want %q", got, want)
	}
	b.Reset()
	if code := report(&b, nil); code != 0 || b.Len() != 0 {
		t.Errorf("report(nil) = %d and wrote %q", code, b.String())
	}
}

// TestHelpEverywhere asks every command and subcommand of the table for help, both
// spellings: usage on stdout, nothing on stderr, exit status 0.
func TestHelpEverywhere(t *testing.T) {
	var invocations [][]string
	invocations = append(invocations, nil) // the root: edgeoutbox --help
	for _, c := range commandTable() {
		invocations = append(invocations, []string{c.Name})
		for _, s := range c.Subcommands {
			invocations = append(invocations, []string{c.Name, s.Name})
		}
	}
	for _, inv := range invocations {
		for _, h := range []string{"--help", "-h"} {
			args := append(append([]string(nil), inv...), h)
			r := run(t, args...)
			if r.code() != 0 || !errors.Is(r.err, flag.ErrHelp) {
				t.Errorf("edgeoutbox %s: err %v (exit %d), want help and exit 0", strings.Join(args, " "), r.err, r.code())
			}
			if !strings.Contains(r.stdout, "Usage:") || r.stderr != "" {
				t.Errorf("edgeoutbox %s: stdout %q, stderr %q", strings.Join(args, " "), r.stdout, r.stderr)
			}
			if len(inv) > 0 && !strings.Contains(r.stdout, "edgeoutbox "+strings.Join(inv, " ")) {
				t.Errorf("edgeoutbox %s: usage does not name the command:\n%s", strings.Join(args, " "), r.stdout)
			}
		}
	}
}

func TestHelpListsEveryCommand(t *testing.T) {
	r := run(t, "--help")
	for _, c := range commandTable() {
		for _, s := range c.Subcommands {
			if !strings.Contains(r.stdout, "  "+c.Name+" "+s.Name+" ") {
				t.Errorf("root usage does not list %s %s", c.Name, s.Name)
			}
		}
		if !strings.Contains(r.stdout, "  "+c.Name+" ") {
			t.Errorf("root usage does not list %s", c.Name)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string // in the error line
	}{
		{nil, "no command given"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"schema"}, "schema: no subcommand given"},
		{[]string{"schema", "explode"}, `schema: unknown subcommand "explode"`},
		{[]string{"outbox", "stats", "--no-such-flag"}, "outbox stats: unknown flag --no-such-flag"},
		{[]string{"outbox", "stats"}, "outbox stats: --db is required"},
		{[]string{"outbox", "list", "--db", "x.db", "--status", "lost"}, `outbox list: --status: unknown status "lost"`},
		{[]string{"outbox", "cleanup", "--db", "x.db", "--older-than", "soon"}, `outbox cleanup: --older-than: invalid value "soon"`},
		{[]string{"migrate", "--db", "x.db", "extra"}, `migrate: unexpected argument "extra"`},
		{[]string{"emit", "--db", "x.db"}, "emit: missing event name"},
		{[]string{"dead-letters", "show", "abc", "--db", "x.db"}, `dead-letters show: "abc" is not an event id`},
		{[]string{"dead-letters", "retry", "--db", "x.db"}, "dead-letters retry: missing dead letter ID (or --all)"},
		{[]string{"dead-letters", "retry", "3", "--all", "--db", "x.db"}, "give a dead letter ID or --all, not both"},
		{[]string{"schema", "dump"}, "schema dump: missing definitions package"},
		{[]string{"relay", "--db", "x.db"}, "relay: --nats or --kafka is required"},
		{[]string{"relay", "--db", "x.db", "--nats", "nats://127.0.0.1:1", "--kafka", "127.0.0.1:1"}, "relay: --nats and --kafka: choose one broker"},
		{[]string{"demo", "--events", "0"}, "demo: --events and --entities must be at least 1"},
		{[]string{"version", "now"}, `version: unexpected argument "now"`},
		{[]string{"emit", "cow_fed", "--db", "x.db", "--version", "x"}, `emit: --version: invalid value "x"`},
		{[]string{"emit", "cow_fed", "--db"}, "emit: --db needs a value"},
		{[]string{"emit", "cow_fed", "--db", "x.db", "--version", "0"}, "emit: --version 0: versions start at 1"},
	}
	for _, c := range cases {
		r := run(t, c.args...)
		if r.code() != 2 {
			t.Errorf("edgeoutbox %s: exit %d (err %v), want 2", strings.Join(c.args, " "), r.code(), r.err)
			continue
		}
		line, rest, _ := strings.Cut(r.stderr, "\n")
		if !strings.HasPrefix(line, "edgeoutbox: ") || !strings.Contains(line, c.want) {
			t.Errorf("edgeoutbox %s: error line %q, want it to contain %q", strings.Join(c.args, " "), line, c.want)
		}
		if !strings.HasPrefix(rest, `run "edgeoutbox `) || !strings.HasSuffix(rest, "\n") || strings.Count(rest, "\n") != 1 {
			t.Errorf("edgeoutbox %s: want the error line and one hint line naming the help command, got:\n%s", strings.Join(c.args, " "), r.stderr)
		}
		if strings.Contains(line, " -") && !strings.Contains(line, " --") {
			t.Errorf("edgeoutbox %s: single-dash flag name in %q", strings.Join(c.args, " "), line)
		}
	}
}

func TestParseFlagsAnywhere(t *testing.T) {
	cmd := &command{Name: "x"}
	for _, args := range [][]string{
		{"a", "--n", "1", "b"},
		{"--n", "1", "a", "b"},
		{"a", "b", "--n=1"},
		{"--n", "1", "--", "a", "b"},
	} {
		fs := newFlagSet(cmd)
		n := fs.Int("n", 0, "")
		c := &cli{}
		pos, err := c.parse(cmd, fs, args)
		if err != nil || *n != 1 || strings.Join(pos, ",") != "a,b" {
			t.Errorf("parse(%q) = %q, n=%d, %v; want [a b], n=1", args, pos, *n, err)
		}
	}
}

func TestParseDuration(t *testing.T) {
	cases := map[string]string{"7d": "168h0m0s", "1d12h": "36h0m0s", "90m": "1h30m0s", "0s": "0s", "never": "-1ns"}
	for in, want := range cases {
		d, err := parseDuration(in)
		if err != nil || d.String() != want {
			t.Errorf("parseDuration(%q) = %v, %v; want %s", in, d, err, want)
		}
	}
	for _, bad := range []string{"", "d", "-1d", "7x", "-5m", "1.5d"} {
		if _, err := parseDuration(bad); err == nil {
			t.Errorf("parseDuration(%q) succeeded", bad)
		}
	}
}
