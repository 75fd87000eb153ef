package history

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
)

// dialect is what differs between the two databases of the history: the
// embedded SQLite of one agent (--storage.path) and the PostgreSQL a fleet
// shares (--storage.url). Everything else, every query and every rule of
// retention, is one code over database/sql, so that a feature of the
// history cannot exist for one and not the other. The differences are kept
// here, small and explicit.
type dialect struct {
	name string
	// numbered placeholders ($1, $2) instead of SQLite's ?.
	numbered bool
	// serialWrites queues this process's writers in Go: SQLite has one
	// writer at a time and would make the others spin on its busy handler.
	serialWrites bool
	// version and setVersion read and write the schema version within the
	// migration's transaction.
	version    func(ctx context.Context, tx *sql.Tx) (int, error)
	setVersion func(ctx context.Context, tx *sql.Tx, v int) error
	// lock serializes the migrations of several agents that start at once
	// (PostgreSQL); SQLite's BEGIN IMMEDIATE already does.
	lock func(ctx context.Context, tx *sql.Tx, key int64) error
	// tryLock takes a lock for the transaction unless another agent holds
	// it: one agent of a fleet prunes at a time.
	tryLock func(ctx context.Context, tx *sql.Tx, key int64) (bool, error)
	// migration returns the text of migrations[i] for this database.
	migration func(i int) string
}

// Keys of PostgreSQL's advisory locks: the history's own, apart from those
// of other users of the database (the fleet's claims).
const (
	lockMigrate int64 = 0x7578_7072_6f62_0001 // "uxprob" 1
	lockPrune   int64 = 0x7578_7072_6f62_0002
)

// q rewrites a query written with ? placeholders for the dialect. No query
// of the history has a ? in a literal.
func (d *dialect) q(s string) string {
	if !d.numbered {
		return s
	}
	var b strings.Builder
	n := 0
	for _, c := range s {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

var sqliteDialect = &dialect{
	name:         "sqlite",
	serialWrites: true,
	version: func(ctx context.Context, tx *sql.Tx) (int, error) {
		var v int
		err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v)
		return v, err
	},
	setVersion: func(ctx context.Context, tx *sql.Tx, v int) error {
		// PRAGMA takes no parameters; v is our own integer.
		_, err := tx.ExecContext(ctx, `PRAGMA user_version = `+strconv.Itoa(v))
		return err
	},
	lock:      func(context.Context, *sql.Tx, int64) error { return nil },
	tryLock:   func(context.Context, *sql.Tx, int64) (bool, error) { return true, nil },
	migration: func(i int) string { return migrations[i].sqlite },
}

var postgresDialect = &dialect{
	name:     "postgres",
	numbered: true,
	version: func(ctx context.Context, tx *sql.Tx) (int, error) {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS history_schema (version INTEGER NOT NULL)`); err != nil {
			return 0, err
		}
		var v int
		err := tx.QueryRowContext(ctx, `SELECT version FROM history_schema`).Scan(&v)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, nil
		}
		return v, err
	},
	setVersion: func(ctx context.Context, tx *sql.Tx, v int) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM history_schema`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO history_schema (version) VALUES ($1)`, v)
		return err
	},
	lock: func(ctx context.Context, tx *sql.Tx, key int64) error {
		_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, key)
		return err
	},
	tryLock: func(ctx context.Context, tx *sql.Tx, key int64) (bool, error) {
		var ok bool
		err := tx.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock($1)`, key).Scan(&ok)
		return ok, err
	},
	migration: func(i int) string { return migrations[i].postgres },
}

// SQLite's primary result codes of a damaged file (sqlite3.h); an extended
// code keeps the primary one in its low byte.
const (
	sqliteCorrupt = 11 // SQLITE_CORRUPT: database disk image is malformed
	sqliteNotADB  = 26 // SQLITE_NOTADB: file is not a database
)

// errDamaged is a failed integrity check of an SQLite file.
var errDamaged = errors.New("database disk image is malformed")

// damaged reports whether err says that the SQLite file is damaged (not
// that it is busy, full or unreadable for its permissions).
func damaged(err error) bool {
	if errors.Is(err, errDamaged) {
		return true
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code() & 0xff
		return c == sqliteCorrupt || c == sqliteNotADB
	}
	return false
}

// fatalOpen reports whether a PostgreSQL error at start-up is one that
// waiting does not cure (a wrong password, a database that does not
// exist, a refused role), so that Open fails rather than queue forever.
func fatalOpen(err error) bool {
	if errors.Is(err, errNewerSchema) {
		return true
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code[:2] {
	case "28", "3D", "42": // authorization, no such database, syntax/privilege
		return true
	}
	return false
}
