// Command edgeoutbox is the operator's and script's side of the edgeoutbox library:
// it runs the demo, migrates outbox databases, dumps and checks the schema file, emits
// events, relays an outbox to NATS and inspects or repairs what is stuck.
//
// Exit codes: 0 success (and --help), 1 failure, 2 usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(report(os.Stderr, err))
}

// exitCode maps Run's error to the process exit code: 0 for success and for a help
// request, 2 for a usage error, 1 for anything else.
func exitCode(err error) int {
	var usage *UsageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &usage):
		return 2
	default:
		return 1
	}
}

// report writes err to stderr as one line "edgeoutbox: <message>" (followed by a
// line naming the help command for a usage error) and returns the exit code.
func report(stderr io.Writer, err error) int {
	code := exitCode(err)
	if code == 0 {
		return 0
	}
	fmt.Fprintf(stderr, "edgeoutbox: %s\n", oneLine(err.Error()))
	var usage *UsageError
	if errors.As(err, &usage) {
		fmt.Fprintln(stderr, usage.Hint())
	}
	return code
}

// oneLine keeps a message on one line and drops the library's own "edgeoutbox: "
// prefixes (the library's sentinel errors carry one, wherever they are wrapped), which
// the line already starts with.
func oneLine(msg string) string {
	for strings.HasPrefix(msg, "edgeoutbox: ") {
		msg = strings.TrimPrefix(msg, "edgeoutbox: ")
	}
	msg = strings.ReplaceAll(msg, ": edgeoutbox: ", ": ")
	msg = strings.TrimSpace(msg)
	return strings.Join(strings.Fields(strings.ReplaceAll(msg, "\n", " ")), " ")
}
