package main

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"runtime/debug"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver edgeoutbox uses
)

func versionCommand() *command {
	return &command{
		Name:    "version",
		Args:    "[--json]",
		Summary: "print the edgeoutbox, Go and SQLite versions",
		run:     runVersion,
	}
}

type versionOutput struct {
	Version string `json:"version"`
	Go      string `json:"go"`
	OSArch  string `json:"os_arch"`
	SQLite  string `json:"sqlite"`
}

func runVersion(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := newFlagSet(cmd)
	asJSON := fs.Bool("json", false, "print the versions as JSON")
	rest, err := c.parse(cmd, fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(cmd, fs, rest, 0, 0, ""); err != nil {
		return err
	}
	sqliteVersion, err := sqliteVersion(ctx)
	if err != nil {
		return err
	}
	out := versionOutput{Version: moduleVersion(), Go: runtime.Version(), OSArch: runtime.GOOS + "/" + runtime.GOARCH, SQLite: sqliteVersion}
	if *asJSON {
		return writeJSON(c.stdout, out)
	}
	fmt.Fprintf(c.stdout, "edgeoutbox %s\ngo         %s %s\nsqlite     %s (modernc.org/sqlite, no cgo)\n", out.Version, out.Go, out.OSArch, out.SQLite)
	return nil
}

// moduleVersion is the version of the edgeoutbox module this binary was built from:
// a release tag with "go install …@v1.2.3", "(devel)" for a local build.
func moduleVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(devel)"
	}
	if bi.Main.Path == "github.com/edgeoutbox/edgeoutbox" && bi.Main.Version != "" {
		return bi.Main.Version
	}
	for _, dep := range bi.Deps {
		if dep.Path == "github.com/edgeoutbox/edgeoutbox" {
			return dep.Version
		}
	}
	return "(devel)"
}

func sqliteVersion(ctx context.Context) (string, error) {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		return "", fmt.Errorf("read sqlite version: %w", err)
	}
	defer db.Close()
	var v string
	if err := db.QueryRowContext(ctx, "SELECT sqlite_version()").Scan(&v); err != nil {
		return "", fmt.Errorf("read sqlite version: %w", err)
	}
	return v, nil
}
