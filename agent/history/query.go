package history

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uxprobe/uxprobe/agent/result"
)

// Query selects runs, newest first. Zero fields select everything.
type Query struct {
	Flow, Device string
	Outcome      result.Outcome
	// Since keeps runs that started at or after it.
	Since time.Time
	// Limit bounds the answer; 0 means 100.
	Limit  int
	Offset int
}

// DefaultLimit is the page size of a Query without Limit.
const DefaultLimit = 100

const runColumns = `id, result`

// Runs returns the runs q selects, newest first.
func (s *Store) Runs(ctx context.Context, q Query) ([]Run, error) {
	var where []string
	var args []any
	if q.Flow != "" {
		where, args = append(where, "flow = ?"), append(args, q.Flow)
	}
	if q.Device != "" {
		where, args = append(where, "device = ?"), append(args, q.Device)
	}
	if q.Outcome != "" {
		where, args = append(where, "outcome = ?"), append(args, string(q.Outcome))
	}
	if !q.Since.IsZero() {
		where, args = append(where, "started_ms >= ?"), append(args, q.Since.UnixMilli())
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	sqlText := `SELECT ` + runColumns + ` FROM runs`
	if len(where) > 0 {
		sqlText += ` WHERE ` + strings.Join(where, " AND ")
	}
	sqlText += ` ORDER BY started_ms DESC, seq DESC LIMIT ? OFFSET ?`
	args = append(args, limit, max(q.Offset, 0))
	return s.query(ctx, sqlText, args...)
}

// Run returns one run, or ErrNotFound.
func (s *Store) Run(ctx context.Context, id string) (Run, error) {
	runs, err := s.query(ctx, `SELECT `+runColumns+` FROM runs WHERE id = ?`, id)
	if err != nil {
		return Run{}, err
	}
	if len(runs) == 0 {
		return Run{}, ErrNotFound
	}
	return runs[0], nil
}

// Latest returns the last run of each flow and device (by start time; a
// run of uxprobe check may be recorded late), ordered by flow and device.
func (s *Store) Latest(ctx context.Context) ([]Run, error) {
	// MAX per group walks the index runs_flow_device_started instead of
	// sorting the table; runs that tie on the start time come back
	// together and the last recorded one wins.
	runs, err := s.query(ctx, `SELECT `+runColumns+` FROM runs
		WHERE (flow, device, started_ms) IN (SELECT flow, device, MAX(started_ms) FROM runs GROUP BY flow, device)
		ORDER BY flow, device, seq DESC`)
	if err != nil {
		return nil, err
	}
	out := runs[:0]
	for _, r := range runs {
		if n := len(out); n > 0 && out[n-1].Result.Flow == r.Result.Flow && out[n-1].Result.Device == r.Result.Device {
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

// LastOf returns the last run of the flow and device with that outcome, or
// ErrNotFound.
func (s *Store) LastOf(ctx context.Context, flow, device string, o result.Outcome) (Run, error) {
	runs, err := s.query(ctx, `SELECT `+runColumns+` FROM runs
		WHERE flow = ? AND device = ? AND outcome = ? ORDER BY started_ms DESC, seq DESC LIMIT 1`, flow, device, string(o))
	if err != nil {
		return Run{}, err
	}
	if len(runs) == 0 {
		return Run{}, ErrNotFound
	}
	return runs[0], nil
}

func (s *Store) query(ctx context.Context, q string, args ...any) ([]Run, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, s.failed("read", fmt.Errorf("history: %w", err))
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		var id, body string
		if err := rows.Scan(&id, &body); err != nil {
			return nil, s.failed("read", fmt.Errorf("history: %w", err))
		}
		r := &result.Result{}
		if err := json.Unmarshal([]byte(body), r); err != nil {
			return nil, s.failed("read", fmt.Errorf("history: run %s: %w", id, err))
		}
		r.ID = id
		out = append(out, Run{ID: id, Result: r})
	}
	if err := rows.Err(); err != nil {
		return nil, s.failed("read", fmt.Errorf("history: %w", err))
	}
	if err := s.attachArtifacts(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Store) attachArtifacts(ctx context.Context, runs []Run) error {
	if len(runs) == 0 {
		return nil
	}
	idx := make(map[string]int, len(runs))
	ids := make([]any, len(runs))
	for i, r := range runs {
		idx[r.ID] = i
		ids[i] = r.ID
	}
	rows, err := s.db.QueryContext(ctx, `SELECT run_id, name, kind, bytes FROM artifacts
		WHERE run_id IN (?`+strings.Repeat(",?", len(ids)-1)+`) ORDER BY run_id, rowid`, ids...)
	if err != nil {
		return s.failed("read", fmt.Errorf("history: %w", err))
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var a Artifact
		if err := rows.Scan(&id, &a.Name, &a.Kind, &a.Bytes); err != nil {
			return s.failed("read", fmt.Errorf("history: %w", err))
		}
		i := idx[id]
		runs[i].Artifacts = append(runs[i].Artifacts, a)
	}
	return s.failed("read", rows.Err())
}

// Point is one run as a sparkline or a success rate needs it.
type Point struct {
	Flow, Device    string
	StartedAt       time.Time
	Outcome         result.Outcome
	DurationSeconds float64
}

// Points returns every run since a time, oldest first, without the result
// JSON: a day of a busy agent is thousands of runs.
func (s *Store) Points(ctx context.Context, since time.Time) ([]Point, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT flow, device, started_ms, outcome, duration_seconds
		FROM runs WHERE started_ms >= ? ORDER BY started_ms, seq`, since.UnixMilli())
	if err != nil {
		return nil, s.failed("read", fmt.Errorf("history: %w", err))
	}
	defer rows.Close()
	var out []Point
	for rows.Next() {
		var p Point
		var ms int64
		var o string
		if err := rows.Scan(&p.Flow, &p.Device, &ms, &o, &p.DurationSeconds); err != nil {
			return nil, s.failed("read", fmt.Errorf("history: %w", err))
		}
		p.StartedAt, p.Outcome = time.UnixMilli(ms).UTC(), result.Outcome(o)
		out = append(out, p)
	}
	return out, s.failed("read", rows.Err())
}

// Count returns the number of stored runs.
func (s *Store) Count(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM runs`).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return n, s.failed("read", err)
}

// Bytes returns the bytes that retention by size counts: results and
// artifacts.
func (s *Store) Bytes(ctx context.Context) (int64, error) {
	var n sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT SUM(bytes) FROM runs`).Scan(&n)
	return n.Int64, s.failed("read", err)
}
