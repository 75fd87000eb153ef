package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// migration is one schema version in both dialects. The two texts differ
// only where the databases do: SQLite's INTEGER PRIMARY KEY AUTOINCREMENT
// is PostgreSQL's identity column, REAL is DOUBLE PRECISION, BLOB is
// BYTEA, and INTEGER that holds milliseconds or bytes is BIGINT.
type migration struct{ sqlite, postgres string }

// migrations are the schema versions, in order: migrations[i] takes the
// database from version i to i+1 (SQLite's user_version, PostgreSQL's
// history_schema table). Released migrations are never edited, only
// appended to: stores in the field are at every earlier version, and
// TestMigrateFromEveryVersion opens each from its checked-in schema under
// testdata/.
var migrations = []migration{
	// 1: runs, with the columns the status page filters and sorts on next
	// to the whole result JSON, so that result fields added later need no
	// migration; artifacts, with their sizes for retention by size.
	{sqlite: `CREATE TABLE runs (
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
		postgres: `CREATE TABLE runs (
		seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		id TEXT NOT NULL UNIQUE,
		flow TEXT NOT NULL,
		device TEXT NOT NULL,
		started_ms BIGINT NOT NULL,
		outcome TEXT NOT NULL,
		failing_step TEXT NOT NULL,
		kind TEXT NOT NULL,
		duration_seconds DOUBLE PRECISION NOT NULL,
		bytes BIGINT NOT NULL,
		result TEXT NOT NULL
	);
	CREATE INDEX runs_flow_device_started ON runs (flow, device, started_ms);
	CREATE INDEX runs_started ON runs (started_ms);
	CREATE INDEX runs_outcome ON runs (flow, device, outcome, started_ms);
	CREATE TABLE artifacts (
		run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		kind TEXT NOT NULL,
		bytes BIGINT NOT NULL,
		PRIMARY KEY (run_id, name)
	);`},
	// 2: a fleet. Where a run came from (location, agent) as columns to
	// filter on; the artifacts' bytes in the database with their run, so
	// that any agent serves any run's files and retention counts them in
	// one place; pos keeps the order the runner listed them in. The last
	// success and failure that retention keeps are per location.
	{sqlite: `ALTER TABLE runs ADD COLUMN location TEXT NOT NULL DEFAULT '';
	ALTER TABLE runs ADD COLUMN agent TEXT NOT NULL DEFAULT '';
	DROP INDEX runs_outcome;
	CREATE INDEX runs_outcome ON runs (flow, device, location, outcome, started_ms);
	CREATE INDEX runs_location ON runs (flow, device, location, started_ms);
	ALTER TABLE artifacts ADD COLUMN pos INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE artifacts ADD COLUMN data BLOB;
	UPDATE artifacts SET pos = rowid;`,
		postgres: `ALTER TABLE runs ADD COLUMN location TEXT NOT NULL DEFAULT '';
	ALTER TABLE runs ADD COLUMN agent TEXT NOT NULL DEFAULT '';
	DROP INDEX runs_outcome;
	CREATE INDEX runs_outcome ON runs (flow, device, location, outcome, started_ms);
	CREATE INDEX runs_location ON runs (flow, device, location, started_ms);
	ALTER TABLE artifacts ADD COLUMN pos INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE artifacts ADD COLUMN data BYTEA;`},
}

// errNewerSchema refuses a store that a newer uxprobe migrated.
var errNewerSchema = errors.New("newer than this uxprobe knows")

// SchemaVersion is the version Open brings a store to.
var SchemaVersion = len(migrations)

// migrate applies the migrations the database lacks, each in its own
// transaction with its version bump, so a crash leaves a consistent
// version.
func migrate(ctx context.Context, db *sql.DB, d *dialect) error {
	return migrateTo(ctx, db, d, len(migrations))
}

func migrateTo(ctx context.Context, db *sql.DB, d *dialect, target int) error {
	for {
		done, err := migrateOne(ctx, db, d, target)
		if err != nil || done {
			return err
		}
	}
}

// migrateOne applies the next migration, under the dialect's lock so that
// agents starting together neither apply one twice nor see half of one.
func migrateOne(ctx context.Context, db *sql.DB, d *dialect, target int) (done bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("history: reading the schema version: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err := d.lock(ctx, tx, lockMigrate); err != nil {
		return false, fmt.Errorf("history: locking the schema: %w", err)
	}
	v, err := d.version(ctx, tx)
	if err != nil {
		return false, fmt.Errorf("history: reading the schema version: %w", err)
	}
	if v > len(migrations) {
		return false, fmt.Errorf("history: the store is at schema version %d, %w (%d); run the newer uxprobe or point --storage.path or --storage.url elsewhere", v, errNewerSchema, len(migrations))
	}
	if v >= target {
		return true, tx.Rollback()
	}
	if _, err := tx.ExecContext(ctx, d.migration(v)); err != nil {
		return false, fmt.Errorf("history: migrating to schema version %d: %w", v+1, err)
	}
	if err := d.setVersion(ctx, tx, v+1); err != nil {
		return false, fmt.Errorf("history: migrating to schema version %d: %w", v+1, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("history: migrating to schema version %d: %w", v+1, err)
	}
	return v+1 >= target, nil
}
