package edgeoutbox

import (
	"context"
	"database/sql"
	"fmt"
)

// walCheckpointBytes is how much WAL the writer lets accumulate before SQLite copies it
// back into the database file. SQLite's default is 1000 pages: 1 MB with edgeoutbox's
// 1 KiB pages. A page rewritten by many commits in between (the counters row, the last
// leaf of each index) is copied back once per checkpoint, so a larger interval writes
// fewer bytes per event; 4 MiB keeps the WAL small on any device.
const walCheckpointBytes = 4 << 20

// setCheckpointInterval sets the writer connection's automatic checkpoint to
// walCheckpointBytes of WAL, whatever the file's page size.
func setCheckpointInterval(ctx context.Context, writer *sql.DB) error {
	var pageSize int64
	if err := writer.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
		return fmt.Errorf("read page size: %w", err)
	}
	if pageSize <= 0 {
		return nil
	}
	if _, err := writer.ExecContext(ctx, fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", walCheckpointBytes/pageSize)); err != nil {
		return fmt.Errorf("set the WAL checkpoint interval: %w", err)
	}
	return nil
}
