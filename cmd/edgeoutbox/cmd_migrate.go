package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/edgeoutbox/edgeoutbox"
)

func migrateCommand() *command {
	return &command{
		Name:    "migrate",
		Args:    "--db PATH [--json]",
		Summary: "create an outbox database, or bring one up to date",
		Details: `Applies edgeoutbox's pending migrations to the SQLite file at PATH, creating the file
if it does not exist. An application's own database works: the outbox tables live
beside the application's. Running it again is a no-op. A database that a newer release
has migrated is refused and left unchanged.`,
		run: runMigrate,
	}
}

type migrateOutput struct {
	Path    string `json:"path"`
	Applied []int  `json:"applied"`
	Current int    `json:"current"`
	Latest  int    `json:"latest"`
}

func runMigrate(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := newFlagSet(cmd)
	dbPath := fs.String("db", "", "outbox database `PATH` (created if missing)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := c.parseWithDB(cmd, fs, args, dbPath); err != nil {
		return err
	}
	if err := checkDatabaseFile(ctx, *dbPath, true); err != nil {
		return err
	}
	db, err := sql.Open("sqlite", edgeoutbox.DSN(*dbPath, edgeoutbox.SyncFull, 0))
	if err != nil {
		return fmt.Errorf("open %s: %w", *dbPath, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	status, err := edgeoutbox.Migrate(ctx, db)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", *dbPath, err)
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("close %s: %w", *dbPath, err)
	}
	out := migrateOutput{Path: *dbPath, Applied: status.Applied, Current: status.Current, Latest: status.Latest}
	if out.Applied == nil {
		out.Applied = []int{}
	}
	if *asJSON {
		return writeJSON(c.stdout, out)
	}
	if len(out.Applied) == 0 {
		fmt.Fprintf(c.stdout, "%s is up to date (schema version %d)\n", out.Path, out.Current)
		return nil
	}
	for _, v := range out.Applied {
		fmt.Fprintf(c.stdout, "applied migration %d\n", v)
	}
	fmt.Fprintf(c.stdout, "%s is at schema version %d\n", out.Path, out.Current)
	return nil
}

// writeJSON writes v as indented JSON and a newline.
func writeJSON(w interface{ Write([]byte) (int, error) }, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
