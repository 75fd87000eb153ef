// Package history keeps every finished run in an embedded SQLite database
// (one file under the storage directory, in WAL mode), with the run's
// screenshots and HAR file beside it, so that the status page and the API
// can show what each device saw, since when, and what the last good run
// looked like. Old runs are pruned by age and by size in the background;
// the last failed and the last successful run of each flow and device are
// always kept, since they are what a person paged at night compares.
//
// SQLite comes from modernc.org/sqlite, a translation of SQLite's C source
// to Go: the binary stays CGO_ENABLED=0 and static.
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
	"sync"
	"time"

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
)

// DBFile is the name of the database file in the storage directory.
const DBFile = "uxprobe.db"

// artifactsDir holds one directory per run id under the storage directory.
const artifactsDir = "artifacts"

// Artifact kinds.
const (
	KindScreenshot = "screenshot"
	KindHAR        = "har"
)

// ErrNotFound is returned for a run id that is not in the store.
var ErrNotFound = errors.New("history: no such run")

// Options configure a Store.
type Options struct {
	// Retention drops runs that started longer ago; 0 means
	// DefaultRetention, a negative value keeps runs forever.
	Retention time.Duration
	// RetentionSize bounds the bytes of results and artifacts; 0 means
	// DefaultRetentionSize, a negative value sets no bound.
	RetentionSize int64
	// PruneInterval is how often RunRetention prunes; 0 means DefaultPruneInterval.
	PruneInterval time.Duration
	// OnError hears every failure of the store (op is "write", "read" or
	// "prune"), to count it: the store never stops runs, so its errors must
	// be visible elsewhere. Nil ignores them (they are returned anyway).
	OnError func(op string, err error)
	// OnWrite hears every committed run, so that a Health can clear its
	// last error; nil ignores them.
	OnWrite func()
	// Logger receives the store's log; nil discards it.
	Logger *slog.Logger
	// Now is the clock of retention; nil means time.Now.
	Now func() time.Time
}

// Store is the run history. It is safe for concurrent use, and several
// processes (the agent and `uxprobe check`) may write the same store.
type Store struct {
	dir  string
	db   *sql.DB
	opts Options
	log  *slog.Logger
	// writeMu serializes this process's writers, so that they queue in Go
	// rather than spin on SQLite's busy handler; busy_timeout still covers
	// other processes.
	writeMu sync.Mutex
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

// Open opens (creating it if needed) the store in dir and brings its schema
// to the current version.
func Open(ctx context.Context, dir string, opts Options) (*Store, error) {
	if opts.Retention == 0 {
		opts.Retention = DefaultRetention
	}
	if opts.RetentionSize == 0 {
		opts.RetentionSize = DefaultRetentionSize
	}
	if opts.PruneInterval <= 0 {
		opts.PruneInterval = DefaultPruneInterval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(filepath.Join(dir, artifactsDir), 0o755); err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	db, err := openDB(filepath.Join(dir, DBFile))
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, db); err != nil {
		_ = db.Close()
		return nil, err
	}
	s := &Store{dir: dir, db: db, opts: opts, log: opts.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
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

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Dir is the storage directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) failed(op string, err error) error {
	if err != nil && s.opts.OnError != nil {
		s.opts.OnError(op, err)
	}
	return err
}

// idPattern is what NewID makes; anything else is refused before it
// becomes part of a file path.
var idPattern = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z_-]{0,63}$`)

// ValidID reports whether id can name a run (and its artifact directory).
func ValidID(id string) bool { return idPattern.MatchString(id) }

// Export stores a finished run: its artifacts are copied beside the
// database under the run's id, then the row is committed. When Export
// returns nil the run survives a crash of the process. A result without an
// ID gets one (results of `uxprobe check`).
func (s *Store) Export(ctx context.Context, r *result.Result) error {
	err := s.export(ctx, r)
	if err == nil && s.opts.OnWrite != nil {
		s.opts.OnWrite()
	}
	return s.failed("write", err)
}

// Name is the store's value of uxprobe_export_errors_total's exporter label.
func (s *Store) Name() string { return "history" }

func (s *Store) export(ctx context.Context, r *result.Result) error {
	if r.ID == "" {
		r.ID = result.NewID(r.StartedAt)
	}
	if !ValidID(r.ID) {
		return fmt.Errorf("history: run id %q is not a valid id", r.ID)
	}
	arts, size, err := s.copyArtifacts(r)
	if err != nil {
		_ = os.RemoveAll(s.runDir(r.ID))
		return err
	}
	body, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("history: encoding run %s: %w", r.ID, err)
	}
	size += int64(len(body))
	var step, kind string
	if r.Error != nil {
		step, kind = r.Error.Step, string(r.Error.Kind)
	}

	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO runs
			(id, flow, device, started_ms, outcome, failing_step, kind, duration_seconds, bytes, result)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, r.Flow, r.Device, r.StartedAt.UnixMilli(), string(r.Outcome()), step, kind,
			r.DurationSeconds, size, string(body)); err != nil {
			return err
		}
		for _, a := range arts {
			if _, err := tx.ExecContext(ctx, `INSERT INTO artifacts (run_id, name, kind, bytes) VALUES (?, ?, ?, ?)`,
				r.ID, a.Name, a.Kind, a.Bytes); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = os.RemoveAll(s.runDir(r.ID))
		return fmt.Errorf("history: writing run %s of %s on %s: %w", r.ID, r.Flow, r.Device, err)
	}
	return nil
}

func (s *Store) tx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (s *Store) runDir(id string) string { return filepath.Join(s.dir, artifactsDir, id) }

// copyArtifacts copies the run's screenshots and HAR into its directory.
// The runner's files are overwritten by the next run of the flow and
// device, so the history keeps its own copies. A file the runner listed
// but could not write is skipped, not an error of the store.
func (s *Store) copyArtifacts(r *result.Result) ([]Artifact, int64, error) {
	type src struct{ path, kind string }
	var srcs []src
	for _, p := range r.Screenshots {
		srcs = append(srcs, src{p, KindScreenshot})
	}
	if r.HAR != "" {
		srcs = append(srcs, src{r.HAR, KindHAR})
	}
	var arts []Artifact
	var total int64
	seen := map[string]bool{}
	for _, sc := range srcs {
		name := filepath.Base(sc.path)
		if seen[name] || name == "." || name == string(filepath.Separator) {
			continue
		}
		in, err := os.Open(sc.path)
		if err != nil {
			s.log.Debug("artifact of a run cannot be read; not kept", "run", r.ID, "file", sc.path, "err", err)
			continue
		}
		n, err := copyFile(filepath.Join(s.runDir(r.ID), name), in)
		_ = in.Close()
		if err != nil {
			return nil, 0, fmt.Errorf("history: keeping %s of run %s: %w", name, r.ID, err)
		}
		seen[name] = true
		arts = append(arts, Artifact{Name: name, Kind: sc.kind, Bytes: n})
		total += n
	}
	return arts, total, nil
}

func copyFile(dst string, in io.Reader) (int64, error) {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return 0, err
	}
	out, err := os.Create(dst)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(out, in)
	if err == nil {
		// The row that points at this file is committed with a sync; the
		// file must not be the part that a power cut loses.
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return n, err
}

// OpenArtifact opens the named artifact of a run, or fails with
// ErrNotFound for a name the run does not have (so that no request can
// name another file).
func (s *Store) OpenArtifact(ctx context.Context, id, name string) (*os.File, Artifact, error) {
	run, err := s.Run(ctx, id)
	if err != nil {
		return nil, Artifact{}, err
	}
	a, ok := run.Artifact(name)
	if !ok {
		return nil, Artifact{}, ErrNotFound
	}
	f, err := os.Open(filepath.Join(s.runDir(id), a.Name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, Artifact{}, ErrNotFound
	}
	return f, a, s.failed("read", err)
}
