package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// A command is one entry of the command table: a command ("migrate"), a group
// ("schema") whose Subcommands do the work, or a subcommand ("schema dump"). The table
// drives dispatch, usage output and the test that every "edgeoutbox …" mention in
// messages and the README names a real command.
type command struct {
	Name        string
	Args        string // synopsis after the full name, e.g. "--db PATH"
	Summary     string // one line for the command list
	Details     string // paragraphs for --help
	Subcommands []*command

	run    func(ctx context.Context, c *cli, cmd *command, args []string) error
	parent *command
}

// FullName is the name as typed after "edgeoutbox", e.g. "schema dump".
func (cmd *command) FullName() string {
	if cmd.parent != nil {
		return cmd.parent.FullName() + " " + cmd.Name
	}
	return cmd.Name
}

func (cmd *command) sub(name string) *command {
	for _, s := range cmd.Subcommands {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// commandTable returns the commands in the order usage lists them. It is a function,
// not a variable, because the commands' run functions print usage from it.
func commandTable() []*command {
	cmds := []*command{
		demoCommand(),
		migrateCommand(),
		schemaCommand(),
		genCommand(),
		emitCommand(),
		relayCommand(),
		deadLettersCommand(),
		outboxCommand(),
		dashboardCommand(),
		benchCommand(),
		versionCommand(),
	}
	for _, c := range cmds {
		for _, s := range c.Subcommands {
			s.parent = c
		}
	}
	return cmds
}

// cli is what every command gets: where to write, and the tools it may run.
type cli struct {
	stdout, stderr io.Writer
	goCmd          string // the go command, for schema dump and check
	cacheDir       string // where schema dump and check keep built programs; "" for none
}

// Run runs the edgeoutbox command line with args (without the program name), writing
// output to stdout and diagnostics to stderr. It returns nil on success, flag.ErrHelp
// after printing requested help, a *UsageError for bad usage and any other error for a
// failure; main maps them to exit codes 0, 0, 2 and 1.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := &cli{stdout: stdout, stderr: stderr, goCmd: "go", cacheDir: defaultCacheDir()}
	return c.run(ctx, args)
}

// defaultCacheDir is $EDGEOUTBOX_CACHE ("off" for none), else edgeoutbox/programs in
// the user's cache directory (os.UserCacheDir).
func defaultCacheDir() string {
	switch dir := os.Getenv("EDGEOUTBOX_CACHE"); dir {
	case "off":
		return ""
	case "":
	default:
		return dir
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(base, "edgeoutbox", "programs")
}

func (c *cli) run(ctx context.Context, args []string) error {
	cmds := commandTable()
	if len(args) == 0 {
		return &UsageError{Err: errors.New("no command given")}
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		if len(args) > 1 && args[0] == "help" {
			return c.run(ctx, append(args[1:], "--help"))
		}
		fmt.Fprint(c.stdout, rootUsage(cmds))
		return flag.ErrHelp
	}
	var cmd *command
	for _, cand := range cmds {
		if cand.Name == args[0] {
			cmd = cand
		}
	}
	if cmd == nil {
		return &UsageError{Err: fmt.Errorf("unknown command %q", args[0])}
	}
	args = args[1:]
	if len(cmd.Subcommands) > 0 {
		if len(args) == 0 {
			return &UsageError{Err: fmt.Errorf("%s: no subcommand given", cmd.Name), Command: cmd.Name}
		}
		switch args[0] {
		case "-h", "-help", "--help":
			fmt.Fprint(c.stdout, groupUsage(cmd))
			return flag.ErrHelp
		}
		sub := cmd.sub(args[0])
		if sub == nil {
			return &UsageError{Err: fmt.Errorf("%s: unknown subcommand %q", cmd.Name, args[0]), Command: cmd.Name}
		}
		cmd, args = sub, args[1:]
	}
	return cmd.run(ctx, c, cmd, args)
}

// UsageError is a command line the program cannot act on: an unknown command or flag,
// a missing argument, a malformed value. main exits with status 2 and prints the
// message on one line, then Hint.
type UsageError struct {
	Err error
	// Command is the full name of the command whose --help explains the usage, e.g.
	// "emit" or "schema dump"; "" for the program itself.
	Command string
}

// Error implements error.
func (e *UsageError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *UsageError) Unwrap() error { return e.Err }

// Hint is the line printed after the error: the help command to run.
func (e *UsageError) Hint() string {
	if e.Command == "" {
		return `run "edgeoutbox --help" for the commands`
	}
	return fmt.Sprintf("run %q for its arguments and flags", "edgeoutbox "+e.Command+" --help")
}

// usageErrorf returns a *UsageError for cmd whose message starts with the command's
// full name. (fs is not needed since usage is no longer printed; the parameter stays
// so that call sites read the same.)
func usageErrorf(cmd *command, fs *flag.FlagSet, format string, args ...any) error {
	return &UsageError{
		Err:     fmt.Errorf("%s: %s", cmd.FullName(), fmt.Sprintf(format, args...)),
		Command: cmd.FullName(),
	}
}

// flagErrorREs rewrite the flag package's messages, which spell flags with one dash,
// into the double-dash form the usage and every other message use.
var flagErrorREs = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`^flag provided but not defined: -+(.*)$`), "unknown flag --$1"},
	{regexp.MustCompile(`^flag needs an argument: -+(.*)$`), "--$1 needs a value"},
	{regexp.MustCompile(`^invalid (boolean )?value (".*") for (?:flag )?-+([^:\s]+): (.*)$`), "--$3: invalid ${1}value $2: $4"},
	{regexp.MustCompile(`(^|[\s:])-([A-Za-z][\w-]*)`), "$1--$2"},
}

// flagError rewrites a flag parsing error with double-dash flag names.
func flagError(err error) string {
	msg := err.Error()
	for _, r := range flagErrorREs {
		if r.re.MatchString(msg) {
			return r.re.ReplaceAllString(msg, r.repl)
		}
	}
	return msg
}

// newFlagSet returns the flag set of cmd. Every command has its own, with
// ContinueOnError so that Run, not the flag package, decides what happens.
func newFlagSet(cmd *command) *flag.FlagSet {
	fs := flag.NewFlagSet(cmd.FullName(), flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parse parses args with fs, allowing flags before, between and after positional
// arguments ("emit cow_fed --db x" and "emit --db x cow_fed"); everything after "--"
// is positional. -h and --help print the usage to stdout and return flag.ErrHelp.
func (c *cli) parse(cmd *command, fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(c.stdout, commandUsage(cmd, fs))
				return nil, flag.ErrHelp
			}
			return nil, usageErrorf(cmd, fs, "%s", flagError(err))
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if i := len(args) - len(rest); i > 0 && args[i-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// wantArgs checks the number of positional arguments.
// parseWithDB parses the flags of a command that takes no positional arguments and
// requires --db.
func (c *cli) parseWithDB(cmd *command, fs *flag.FlagSet, args []string, dbPath *string) error {
	rest, err := c.parse(cmd, fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(cmd, fs, rest, 0, 0, ""); err != nil {
		return err
	}
	return requireFlag(cmd, fs, "db", *dbPath)
}

func wantArgs(cmd *command, fs *flag.FlagSet, args []string, minN, maxN int, what string) error {
	switch {
	case len(args) < minN:
		return usageErrorf(cmd, fs, "missing %s", what)
	case len(args) > maxN:
		return usageErrorf(cmd, fs, "unexpected argument %q", args[maxN])
	}
	return nil
}

// requireFlag reports a required flag that was not given.
func requireFlag(cmd *command, fs *flag.FlagSet, name, value string) error {
	if strings.TrimSpace(value) == "" {
		return usageErrorf(cmd, fs, "--%s is required", name)
	}
	return nil
}

// lookGo finds the go command, for the commands that build a program.
func (c *cli) lookGo(doing string) (string, error) {
	path, err := exec.LookPath(c.goCmd)
	if err != nil {
		return "", fmt.Errorf("%s needs the Go toolchain, and %q is not on PATH: install Go (https://go.dev/dl/) or call edgeoutbox.DumpSchema from go generate instead", doing, c.goCmd)
	}
	return path, nil
}
