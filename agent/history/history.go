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
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
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
	// KindVisual is a picture of a failed assert_screenshot step: its
	// actual, its baseline as it was, its diff.
	KindVisual = "visual"
	// KindFrame is a JPEG of the run's filmstrip (--artifacts.filmstrip):
	// its time and step come from the result's filmstrip.
	KindFrame = "frame"
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
	// T and Step are a frame's: seconds from the run's start, and the
	// step that ran then ("" before the first).
	T    *float64 `json:"t,omitempty"`
	Step string   `json:"step,omitempty"`
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

// Frames returns the run's filmstrip, oldest first.
func (r *Run) Frames() []Artifact {
	var out []Artifact
	for _, a := range r.Artifacts {
		if a.Kind == KindFrame {
			out = append(out, a)
		}
	}
	return out
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
