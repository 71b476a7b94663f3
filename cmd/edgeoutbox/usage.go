package main

import (
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
)

const tagline = "A durable, schema-checked event outbox in your application's SQLite file,\nrelayed to NATS whenever the network is there."

// rootUsage lists every command of the table.
func rootUsage(cmds []*command) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\nUsage:\n  edgeoutbox <command> [arguments]\n\nCommands:\n", tagline)
	tw := tabwriter.NewWriter(&b, 0, 0, 3, ' ', 0)
	for _, c := range cmds {
		if len(c.Subcommands) == 0 {
			fmt.Fprintf(tw, "  %s\t%s\n", c.Name, c.Summary)
			continue
		}
		for _, s := range c.Subcommands {
			fmt.Fprintf(tw, "  %s %s\t%s\n", c.Name, s.Name, s.Summary)
		}
	}
	tw.Flush()
	b.WriteString("\nRun \"edgeoutbox <command> --help\" for a command's arguments and flags.\n")
	b.WriteString("Exit status: 0 success, 1 failure, 2 usage error.\n")
	return b.String()
}

// groupUsage lists the subcommands of a group such as schema.
func groupUsage(cmd *command) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage:\n  edgeoutbox %s <subcommand> [arguments]\n\n%s\n\nSubcommands:\n", cmd.Name, cmd.Summary)
	tw := tabwriter.NewWriter(&b, 0, 0, 3, ' ', 0)
	for _, s := range cmd.Subcommands {
		fmt.Fprintf(tw, "  %s %s\t%s\n", cmd.Name, s.Name, s.Summary)
	}
	tw.Flush()
	fmt.Fprintf(&b, "\nRun \"edgeoutbox %s <subcommand> --help\" for its arguments and flags.\n", cmd.Name)
	return b.String()
}

// commandUsage is the --help text of one command: synopsis, description and flags.
func commandUsage(cmd *command, fs *flag.FlagSet) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage:\n  edgeoutbox %s", cmd.FullName())
	if cmd.Args != "" {
		b.WriteString(" " + cmd.Args)
	}
	fmt.Fprintf(&b, "\n\n%s\n", upperFirst(cmd.Summary)+".")
	if cmd.Details != "" {
		fmt.Fprintf(&b, "\n%s\n", strings.TrimSpace(cmd.Details))
	}
	b.WriteString("\nFlags:\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 3, ' ', 0)
	if fs != nil {
		fs.VisitAll(func(f *flag.Flag) {
			name, usage := flag.UnquoteUsage(f)
			left := "--" + f.Name
			if name != "" {
				left += " " + strings.ToUpper(name)
			}
			if def := f.DefValue; def != "" && def != "false" && def != "0" && def != "[]" {
				usage += fmt.Sprintf(" (default %s)", def)
			}
			fmt.Fprintf(tw, "  %s\t%s\n", left, usage)
		})
	}
	fmt.Fprintf(tw, "  %s\t%s\n", "-h, --help", "show this help")
	tw.Flush()
	return b.String()
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
