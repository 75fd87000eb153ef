package history

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are the schema versions, in order: migrations[i] takes the
// database from version i to i+1 (SQLite's user_version). Released
// migrations are never edited, only appended to: stores in the field are at
// every earlier version, and TestMigrateFromEveryVersion opens each from
// its checked-in schema under testdata/.
var migrations = []string{
	// 1: runs, with the columns the status page filters and sorts on next
	// to the whole result JSON, so that result fields added later need no
	// migration; artifacts, with their sizes for retention by size.
	`CREATE TABLE runs (
		seq INTEGER PRIMARY KEY AUTOINCREMENT,
		id TEXT NOT NULL UNIQUE,
		flow TEXT NOT NULL,
		device TEXT NOT NULL,
		started_ms INTEGER NOT NULL,
		outcome TEXT NOT NULL,
		failing_step TEXT NOT NULL,
		kind TEXT NOT NULL,
		duration_seconds REAL NOT NULL,
		bytes INTEGER NOT NULL,
		result TEXT NOT NULL
	);
	CREATE INDEX runs_flow_device_started ON runs (flow, device, started_ms);
	CREATE INDEX runs_started ON runs (started_ms);
	CREATE INDEX runs_outcome ON runs (flow, device, outcome, started_ms);
	CREATE TABLE artifacts (
		run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		kind TEXT NOT NULL,
		bytes INTEGER NOT NULL,
		PRIMARY KEY (run_id, name)
	);`,
}

// SchemaVersion is the version Open brings a store to.
var SchemaVersion = len(migrations)

// migrate applies the migrations the database lacks, each in its own
// transaction with its version bump, so a crash leaves a consistent
// version.
func migrate(ctx context.Context, db *sql.DB) error {
	return migrateTo(ctx, db, len(migrations))
}

func migrateTo(ctx context.Context, db *sql.DB, target int) error {
	var v int
	if err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		return fmt.Errorf("history: reading the schema version: %w", err)
	}
	if v > len(migrations) {
		return fmt.Errorf("history: the store is at schema version %d, newer than this uxprobe knows (%d); run the newer uxprobe or point --storage.path elsewhere", v, len(migrations))
	}
	for ; v < target; v++ {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("history: migrating to schema version %d: %w", v+1, err)
		}
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("history: migrating to schema version %d: %w", v+1, err)
		}
		// PRAGMA takes no parameters; v is our own integer.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, v+1)); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("history: migrating to schema version %d: %w", v+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("history: migrating to schema version %d: %w", v+1, err)
		}
	}
	return nil
}
