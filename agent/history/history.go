// Package history keeps every finished run, with the screenshots, HAR file
// and downloads kept with it, so that the status page and the API can show
// what each device in each location saw, since when, and what the last
// good run looked like. Old runs are pruned by age and by size in the
// background; the last failed and the last successful run of each flow,
// device and location are always kept, since they are what a person paged
// at night compares.
//
// One Store, two databases: an embedded SQLite file for one agent (Open,
// --storage.path), or a PostgreSQL database that a fleet of agents shares
// (OpenURL, --storage.url), so that every agent shows every run. Both go
// through database/sql with the same queries and migrations; what differs
// is in dialect.go. SQLite comes from modernc.org/sqlite, a translation of
// SQLite's C source to Go, PostgreSQL from jackc/pgx's database/sql driver:
// the binary stays CGO_ENABLED=0 and static.
//
// A store that does not answer does not stop runs: Export keeps what it
// cannot write in a bounded queue in memory and writes it when the store
// answers again.
package history

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/uxprobe/uxprobe/agent/result"
)

// Defaults of Options, as Prometheus' TSDB retention.
const (
	DefaultRetention     = 15 * 24 * time.Hour
	DefaultRetentionSize = 1 << 30 // 1 GiB
	// DefaultPruneInterval is how often RunRetention prunes; a minute keeps the
	// overshoot of the size limit to a minute's runs.
	DefaultPruneInterval = time.Minute
	// DefaultQueueLength bounds the runs kept in memory while the store
	// does not answer: a day of 7 flows every minute on one device.
	DefaultQueueLength = 10000
	// DefaultQueueBytes bounds the artifacts among them; runs queued beyond
	// it are kept without their files.
	DefaultQueueBytes = 256 << 20
	// DefaultRetryInterval is how often queued runs are tried again.
	DefaultRetryInterval = 2 * time.Second
)

// DBFile is the name of the SQLite database file in the storage directory.
const DBFile = "uxprobe.db"

// heldWAL is a link to the WAL while Open checks the database.
const heldWAL = DBFile + "-wal.opening"

// legacyArtifactsDir held one directory of files per run before the
// artifacts moved into the database (schema version 2); Open moves them in.
const legacyArtifactsDir = "artifacts"

// Artifact kinds.
const (
	KindScreenshot = "screenshot"
	KindHAR        = "har"
	KindDownload   = "download"
)

// ErrNotFound is returned for a run id that is not in the store.
var ErrNotFound = errors.New("history: no such run")

// Options configure a Store.
type Options struct {
	// Retention drops runs that started longer ago; 0 means
	// DefaultRetention, a negative value keeps runs forever.
	Retention time.Duration
	// RetentionSize bounds the bytes of results and artifacts of the whole
	// store (of every agent of a fleet); 0 means DefaultRetentionSize, a
	// negative value sets no bound.
	RetentionSize int64
	// PruneInterval is how often RunRetention prunes; 0 means DefaultPruneInterval.
	PruneInterval time.Duration
	// QueueLength bounds the runs kept while the store does not answer; 0
	// means DefaultQueueLength. QueueBytes bounds their artifacts; 0 means
	// DefaultQueueBytes. RetryInterval is how often they are tried again;
	// 0 means DefaultRetryInterval.
	QueueLength   int
	QueueBytes    int64
	RetryInterval time.Duration
	// OnError hears every failure of the store (op is "open", "write",
	// "read", "prune" or "recover"), to count it: the store never stops
	// runs, so its errors must be visible elsewhere. Nil ignores them (they
	// are returned anyway).
	OnError func(op string, err error)
	// OnWrite hears every committed run, so that a Health can clear its
	// last error; nil ignores them.
	OnWrite func()
	// OnQueue hears the number of runs waiting in the queue whenever it
	// changes, and OnDrop every run dropped from a full queue; nil ignores
	// them.
	OnQueue func(waiting int)
	OnDrop  func()
	// Logger receives the store's log; nil discards it.
	Logger *slog.Logger
	// Now is the clock of retention; nil means time.Now.
	Now func() time.Time
}

func (o *Options) defaults() {
	if o.Retention == 0 {
		o.Retention = DefaultRetention
	}
	if o.RetentionSize == 0 {
		o.RetentionSize = DefaultRetentionSize
	}
	if o.PruneInterval <= 0 {
		o.PruneInterval = DefaultPruneInterval
	}
	if o.QueueLength <= 0 {
		o.QueueLength = DefaultQueueLength
	}
	if o.QueueBytes <= 0 {
		o.QueueBytes = DefaultQueueBytes
	}
	if o.RetryInterval <= 0 {
		o.RetryInterval = DefaultRetryInterval
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Store is the run history. It is safe for concurrent use, and several
// processes (agents, and `uxprobe check`) may write the same store.
type Store struct {
	d    *dialect
	dbp  atomic.Pointer[sql.DB]
	opts Options
	log  *slog.Logger
	// dir is the SQLite store's directory, empty for PostgreSQL; where
	// names the store in logs and errors: the directory, or the URL
	// without its password; secret is that password, scrubbed from every
	// error the store returns.
	dir, where, secret string
	// writeMu serializes this process's SQLite writers, so that they queue
	// in Go rather than spin on SQLite's busy handler; busy_timeout still
	// covers other processes.
	writeMu sync.Mutex
	// migrated is set once the schema is current: a PostgreSQL store that
	// did not answer at start-up migrates at its first write.
	migrated atomic.Bool
	migrMu   sync.Mutex

	q       queue
	flushMu sync.Mutex
	stop    chan struct{}
	stopped sync.WaitGroup

	// noteMu guards note, what the status page should say about the store
	// (a damaged SQLite file moved aside).
	noteMu sync.Mutex
	note   string
	// damagedErr is set by a run-time corruption error; the retry loop
	// recovers. reopenPending says that the fresh file could not be
	// opened: the loop tries again.
	damagedErr    atomic.Pointer[error]
	reopenPending atomic.Bool
}

// Artifact is a file kept with a run.
type Artifact struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	Bytes int64  `json:"bytes"`
}

// Run is one stored run.
type Run struct {
	ID        string
	Result    *result.Result
	Artifacts []Artifact
}

// Artifact returns the run's artifact of that name.
func (r *Run) Artifact(name string) (Artifact, bool) {
	for _, a := range r.Artifacts {
		if a.Name == name {
			return a, true
		}
	}
	return Artifact{}, false
}

// HAR returns the run's HAR artifact, if it has one.
func (r *Run) HAR() (Artifact, bool) {
	for _, a := range r.Artifacts {
		if a.Kind == KindHAR {
			return a, true
		}
	}
	return Artifact{}, false
}

func newStore(d *dialect, opts Options) *Store {
	opts.defaults()
	s := &Store{d: d, opts: opts, log: opts.Logger, stop: make(chan struct{})}
	s.q.max, s.q.maxBytes = opts.QueueLength, opts.QueueBytes
	return s
}

func (s *Store) db() *sql.DB { return s.dbp.Load() }

// start runs the loop that writes queued runs (and recovers a damaged
// SQLite file) until Close.
func (s *Store) start() {
	s.stopped.Add(1)
	go s.retryLoop()
}

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

// Close writes what is queued if the store answers within a few seconds,
// and closes the database.
func (s *Store) Close() error {
	close(s.stop)
	s.stopped.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.flush(ctx)
	if n := s.q.len(); n > 0 {
		s.log.Error("runs not written to the history before exit; they are lost", "runs", n, "store", s.where)
	}
	return s.db().Close()
}

// Dir is the SQLite store's directory, empty for PostgreSQL.
func (s *Store) Dir() string { return s.dir }

// Where names the store for people: the directory, or the URL without its
// password.
func (s *Store) Where() string { return s.where }

// Dialect is "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.d.name }

// Note is what the status page should say about the store: that a damaged
// file was moved aside and a fresh history started, and when. Empty when
// there is nothing to say.
func (s *Store) Note() string {
	s.noteMu.Lock()
	defer s.noteMu.Unlock()
	return s.note
}

// Waiting is the number of runs queued for a store that does not answer.
func (s *Store) Waiting() int { return s.q.len() }

// scrub removes the password from an error's text.
func (s *Store) scrub(err error) error {
	if err == nil || s.secret == "" || !strings.Contains(err.Error(), s.secret) {
		return err
	}
	return scrubbed{msg: strings.ReplaceAll(err.Error(), s.secret, "xxxxx"), err: err}
}

// scrubbed is an error whose text has the password replaced; errors.Is
// still sees the original.
type scrubbed struct {
	msg string
	err error
}

func (e scrubbed) Error() string { return e.msg }
func (e scrubbed) Unwrap() error { return e.err }

func (s *Store) failed(op string, err error) error {
	if err == nil {
		return nil
	}
	err = s.scrub(err)
	if s.d == sqliteDialect && damaged(err) && op != "recover" {
		s.damagedErr.CompareAndSwap(nil, &err)
	}
	if s.opts.OnError != nil {
		s.opts.OnError(op, err)
	}
	return err
}

// idPattern is what NewID makes; anything else is refused.
var idPattern = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z_-]{0,63}$`)

// ValidID reports whether id can name a run.
func ValidID(id string) bool { return idPattern.MatchString(id) }

// Name is the store's value of uxprobe_export_errors_total's exporter label.
func (s *Store) Name() string { return "history" }

// row is a run ready to be written: everything the INSERTs need, the
// artifacts' bytes included, since the runner overwrites its files at the
// flow's next run and a queued run may wait for minutes.
type row struct {
	id, flow, device, location, agent string
	startedMs                         int64
	outcome, step, kind               string
	duration                          float64
	size                              int64
	body                              []byte
	arts                              []blob
}

type blob struct {
	Artifact
	data []byte
}

func (r *row) blobBytes() int64 {
	var n int64
	for _, b := range r.arts {
		n += int64(len(b.data))
	}
	return n
}

// Export stores a finished run with its artifacts in one transaction. When
// Export returns nil the run survives a crash of the process. When the
// store fails, the run is queued (see Options.QueueLength) and written when
// the store answers again; the error says so. A result without an ID gets
// one (results of `uxprobe check`).
func (s *Store) Export(ctx context.Context, r *result.Result) error {
	rw, err := s.prepare(r)
	if err != nil {
		return s.failed("write", err)
	}
	// While runs wait, the store is known to fail: the run joins them at
	// once rather than wait for a connection timeout, since the agent
	// shows a run only after Export. The retry loop writes them in order.
	if s.q.len() == 0 {
		err = s.write(ctx, rw)
		if err == nil {
			s.wrote()
			return nil
		}
	} else {
		err = errors.New("earlier runs are still waiting for the store")
	}
	s.enqueue(rw)
	return s.failed("write", fmt.Errorf("history: run %s of %s on %s queued (%d waiting) until the store answers: %w",
		rw.id, rw.flow, rw.device, s.q.len(), err))
}

func (s *Store) wrote() {
	if s.opts.OnWrite != nil {
		s.opts.OnWrite()
	}
}

// prepare reads the run's artifacts and encodes it.
func (s *Store) prepare(r *result.Result) (*row, error) {
	if r.ID == "" {
		r.ID = result.NewID(r.StartedAt)
	}
	if !ValidID(r.ID) {
		return nil, fmt.Errorf("history: run id %q is not a valid id", r.ID)
	}
	arts, size := s.readArtifacts(r)
	body, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("history: encoding run %s: %w", r.ID, err)
	}
	rw := &row{id: r.ID, flow: r.Flow, device: r.Device, location: r.Location, agent: r.Agent,
		startedMs: r.StartedAt.UnixMilli(), outcome: string(r.Outcome()), duration: r.DurationSeconds,
		size: size + int64(len(body)), body: body, arts: arts}
	if r.Error != nil {
		rw.step, rw.kind = r.Error.Step, string(r.Error.Kind)
	}
	return rw, nil
}

// readArtifacts reads the run's screenshots, HAR and kept downloads. A
// file the runner listed but could not write is skipped, not an error of
// the store.
func (s *Store) readArtifacts(r *result.Result) ([]blob, int64) {
	type src struct{ path, kind string }
	var srcs []src
	for _, p := range r.Screenshots {
		srcs = append(srcs, src{p, KindScreenshot})
	}
	if r.HAR != "" {
		srcs = append(srcs, src{r.HAR, KindHAR})
	}
	for _, d := range r.Downloads {
		if d.Path != "" {
			srcs = append(srcs, src{d.Path, KindDownload})
		}
	}
	var arts []blob
	var total int64
	seen := map[string]bool{}
	for _, sc := range srcs {
		name := filepath.Base(sc.path)
		if seen[name] || name == "." || name == string(filepath.Separator) {
			continue
		}
		data, err := os.ReadFile(sc.path)
		if err != nil {
			s.log.Debug("artifact of a run cannot be read; not kept", "run", r.ID, "file", sc.path, "err", err)
			continue
		}
		seen[name] = true
		arts = append(arts, blob{Artifact{Name: name, Kind: sc.kind, Bytes: int64(len(data))}, data})
		total += int64(len(data))
	}
	return arts, total
}

// write commits one run. Writing a run twice (a retry after a commit whose
// answer was lost) keeps one: the id is unique and a second insert of it
// does nothing.
func (s *Store) write(ctx context.Context, rw *row) error {
	err := s.writeRows(ctx, []*row{rw})
	if err != nil {
		return s.scrub(fmt.Errorf("history: writing run %s of %s on %s: %w", rw.id, rw.flow, rw.device, err))
	}
	return nil
}

// writeRows commits runs in one transaction.
func (s *Store) writeRows(ctx context.Context, rws []*row) error {
	if err := s.schema(ctx); err != nil {
		return err
	}
	if s.d.serialWrites {
		s.writeMu.Lock()
		defer s.writeMu.Unlock()
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, rw := range rws {
			if err := s.insert(ctx, tx, rw); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) insert(ctx context.Context, tx *sql.Tx, rw *row) error {
	if _, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO runs
		(id, flow, device, location, agent, started_ms, outcome, failing_step, kind, duration_seconds, bytes, result)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`),
		rw.id, rw.flow, rw.device, rw.location, rw.agent, rw.startedMs, rw.outcome, rw.step, rw.kind,
		rw.duration, rw.size, string(rw.body)); err != nil {
		return err
	}
	for i, a := range rw.arts {
		if _, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO artifacts (run_id, name, kind, bytes, pos, data)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, name) DO NOTHING`),
			rw.id, a.Name, a.Kind, a.Bytes, i+1, a.data); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) tx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := s.db().BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// ReadArtifact returns the named artifact of a run and its bytes, or fails
// with ErrNotFound for a name the run does not have.
func (s *Store) ReadArtifact(ctx context.Context, id, name string) ([]byte, Artifact, error) {
	if err := s.schema(ctx); err != nil {
		return nil, Artifact{}, s.failed("read", err)
	}
	var a Artifact
	var data []byte
	err := s.db().QueryRowContext(ctx, s.d.q(`SELECT name, kind, bytes, data FROM artifacts WHERE run_id = ? AND name = ?`), id, name).
		Scan(&a.Name, &a.Kind, &a.Bytes, &data)
	if errors.Is(err, sql.ErrNoRows) || err == nil && data == nil {
		// No row, or a file of an old store that was gone when Open
		// moved the files into the database.
		return nil, Artifact{}, ErrNotFound
	}
	if err != nil {
		return nil, Artifact{}, s.failed("read", fmt.Errorf("history: %w", err))
	}
	return data, a, nil
}

// OpenArtifact opens the named artifact of a run as a file, or fails with
// ErrNotFound for a name the run does not have. The file is an unlinked
// temporary copy of the stored bytes: close it. ReadArtifact avoids the
// copy.
func (s *Store) OpenArtifact(ctx context.Context, id, name string) (*os.File, Artifact, error) {
	data, a, err := s.ReadArtifact(ctx, id, name)
	if err != nil {
		return nil, Artifact{}, err
	}
	f, err := os.CreateTemp("", "uxprobe-artifact-")
	if err != nil {
		return nil, Artifact{}, s.failed("read", fmt.Errorf("history: %w", err))
	}
	_ = os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return nil, Artifact{}, s.failed("read", fmt.Errorf("history: %w", err))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, Artifact{}, s.failed("read", fmt.Errorf("history: %w", err))
	}
	return f, a, nil
}
