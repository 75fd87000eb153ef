package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// Open opens (creating it if needed) the SQLite store in dir and brings its
// schema to the current version. A damaged database file is moved aside
// (see recover.go) and a fresh store started, so that a disk's error does
// not take the status page down for good.
func Open(ctx context.Context, dir string, opts Options) (*Store, error) {
	s := newStore(sqliteDialect, opts)
	s.dir, s.where = dir, dir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	// SQLite removes a WAL it cannot read when it closes the file: keep a
	// link to it, for the damaged file to be moved aside with its WAL.
	wal, held := filepath.Join(dir, DBFile+"-wal"), filepath.Join(dir, heldWAL)
	_ = os.Remove(held)
	_ = os.Link(wal, held)
	db, err := s.openSQLite(ctx)
	if damaged(err) {
		db, err = s.recoverOpen(ctx, err)
	}
	_ = os.Remove(held)
	if err != nil {
		return nil, err
	}
	s.dbp.Store(db)
	s.migrated.Store(true)
	if err := s.importLegacyArtifacts(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	s.start()
	return s, nil
}

// openSQLite opens the file, migrates it and checks it.
func (s *Store) openSQLite(ctx context.Context) (*sql.DB, error) {
	db, err := openDB(filepath.Join(s.dir, DBFile))
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, db, s.d); err != nil {
		_ = db.Close()
		return nil, err
	}
	// quick_check reads every page once (75 ms for 200 MB in the page
	// cache, BenchmarkOpenSQLite200MB): a file damaged in a page that the
	// schema does not touch would otherwise fail the status page at its
	// first read of it.
	var check string
	if err := db.QueryRowContext(ctx, `PRAGMA quick_check(1)`).Scan(&check); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("history: checking %s: %w", DBFile, err)
	}
	if check != "ok" {
		_ = db.Close()
		return nil, fmt.Errorf("history: checking %s: %s: %w", DBFile, check, errDamaged)
	}
	return db, nil
}

// openDB opens the SQLite file with the settings every connection needs:
// pragmas are per connection, so they go in the DSN, which the driver
// applies to each new one.
func openDB(path string) (*sql.DB, error) {
	q := url.Values{}
	for _, p := range []string{
		// WAL lets the status page read while a run is written, and a
		// process killed mid-write leaves the last commit intact.
		"journal_mode(WAL)",
		// FULL syncs the WAL at every commit: a run the agent has shown
		// on /metrics survives a power cut too, at one fsync per run.
		"synchronous(FULL)",
		"foreign_keys(1)",
		// Another process (uxprobe check) may hold the write lock.
		"busy_timeout(10000)",
	} {
		q.Add("_pragma", p)
	}
	// IMMEDIATE takes the write lock at BEGIN, so two writers never both
	// read and then fail to upgrade.
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("history: opening %s: %w", path, err)
	}
	if err := db.Ping(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("history: opening %s: %w", path, err)
	}
	return db, nil
}

// OpenURL opens the PostgreSQL store at a postgres:// URL and brings its
// schema to the current version. The password comes from the URL,
// PGPASSWORD or PGPASSFILE (pgx reads them); it never appears in the
// store's errors or logs. A server that does not answer yet is not an
// error: the store queues runs until it does (the error is reported to
// OnError as "open"); a wrong password or database is.
func OpenURL(ctx context.Context, rawURL string, opts Options) (*Store, error) {
	s := newStore(postgresDialect, opts)
	where, secret, err := RedactURL(rawURL)
	if err != nil {
		return nil, err
	}
	s.where, s.secret = where, secret
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		return nil, s.scrub(fmt.Errorf("history: --storage.url %s: %w", where, err))
	}
	if cfg.Password != "" && cfg.Password != secret {
		s.secret = cfg.Password // from PGPASSWORD or PGPASSFILE
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 5 * time.Second
	}
	db := stdlib.OpenDB(*cfg)
	// A few connections per agent: the agent's runs and the status page;
	// a fleet of a hundred agents stays under PostgreSQL's default 100
	// connections' worth of idle ones.
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(2)
	db.SetConnMaxIdleTime(5 * time.Minute)
	s.dbp.Store(db)
	if err := s.schema(ctx); err != nil {
		if fatalOpen(err) {
			_ = db.Close()
			return nil, err
		}
		s.log.Warn("the run history's PostgreSQL does not answer; runs are queued until it does", "url", where, "err", err)
		if s.opts.OnError != nil {
			s.opts.OnError("open", err)
		}
	}
	s.start()
	return s, nil
}

// RedactURL checks a postgres:// URL and returns it without its password
// (for logs, /-/ready and errors) and the password it held, if any.
func RedactURL(raw string) (redacted, password string, err error) {
	u, perr := url.Parse(raw)
	if perr != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" && u.Query().Get("host") == "" {
		// The text is not echoed: it may hold the password.
		return "", "", errors.New("history: --storage.url: want a URL such as postgres://user@host:5432/db?sslmode=require")
	}
	if u.User != nil {
		password, _ = u.User.Password()
		u.User = url.User(u.User.Username())
	}
	if q := u.Query(); q.Has("password") {
		password = q.Get("password")
		q.Del("password")
		u.RawQuery = q.Encode()
	}
	return u.String(), password, nil
}

// schema migrates the store once; until it succeeds every use tries again.
func (s *Store) schema(ctx context.Context) error {
	if s.migrated.Load() {
		return nil
	}
	s.migrMu.Lock()
	defer s.migrMu.Unlock()
	if s.migrated.Load() {
		return nil
	}
	if err := migrate(ctx, s.db(), s.d); err != nil {
		return s.scrub(fmt.Errorf("history: %s: %w", s.where, err))
	}
	s.migrated.Store(true)
	return nil
}
