package history

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/uxprobe/uxprobe/agent/result"
)

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

// readArtifacts reads the run's screenshots, HAR, filmstrip and kept downloads. A
// file the runner listed but could not write is skipped, not an error of
// the store.
func (s *Store) readArtifacts(r *result.Result) ([]blob, int64) {
	type src struct{ path, kind string }
	var srcs []src
	for _, p := range r.Screenshots {
		srcs = append(srcs, src{p, KindScreenshot})
	}
	for _, st := range r.Steps {
		// Only a failed comparison's pictures are the run's own; a passed
		// one points at the baseline's file, kept in git, not here.
		if v := st.Visual; v != nil && v.Actual != "" {
			for _, p := range []string{v.Actual, v.Baseline, v.Diff} {
				if p != "" {
					srcs = append(srcs, src{p, KindVisual})
				}
			}
		}
	}
	if r.HAR != "" {
		srcs = append(srcs, src{r.HAR, KindHAR})
	}
	for _, f := range r.Filmstrip {
		srcs = append(srcs, src{f.Path, KindFrame})
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
