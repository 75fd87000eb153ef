package history

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/uxprobe/uxprobe/agent/result"
)

// Query selects runs, newest first. Zero fields select everything.
type Query struct {
	Flow, Device string
	// Location selects the runs of one location (--location); empty
	// selects every location.
	Location string
	// Agent selects the runs of one agent (--agent.name).
	Agent   string
	Outcome result.Outcome
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
	for _, f := range []struct{ col, v string }{
		{"flow", q.Flow}, {"device", q.Device}, {"location", q.Location}, {"agent", q.Agent}, {"outcome", string(q.Outcome)},
	} {
		if f.v != "" {
			where, args = append(where, f.col+" = ?"), append(args, f.v)
		}
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

// Latest returns the last run of each flow and device, whichever location
// ran it (by start time; a run of uxprobe check may be recorded late),
// ordered by flow and device.
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
	return firstOfEach(runs, func(r *result.Result) string { return r.Flow + "\x00" + r.Device }), nil
}

// LatestByLocation returns the last run of each flow, device and location,
// ordered by flow, device and location: the cells of a fleet's overview.
func (s *Store) LatestByLocation(ctx context.Context) ([]Run, error) {
	runs, err := s.query(ctx, `SELECT `+runColumns+` FROM runs
		WHERE (flow, device, location, started_ms) IN
			(SELECT flow, device, location, MAX(started_ms) FROM runs GROUP BY flow, device, location)
		ORDER BY flow, device, location, seq DESC`)
	if err != nil {
		return nil, err
	}
	return firstOfEach(runs, func(r *result.Result) string { return r.Flow + "\x00" + r.Device + "\x00" + r.Location }), nil
}

// firstOfEach keeps the first run of each run of equal keys.
func firstOfEach(runs []Run, key func(*result.Result) string) []Run {
	out := runs[:0]
	for _, r := range runs {
		if n := len(out); n > 0 && key(out[n-1].Result) == key(r.Result) {
			continue
		}
		out = append(out, r)
	}
	return out
}

// Locations returns the locations that have runs in the store, in order;
// "" is the location of agents without --location.
func (s *Store) Locations(ctx context.Context) ([]string, error) {
	if err := s.schema(ctx); err != nil {
		return nil, s.failed("read", err)
	}
	rows, err := s.db().QueryContext(ctx, `SELECT DISTINCT location FROM runs ORDER BY location`)
	if err != nil {
		return nil, s.failed("read", fmt.Errorf("history: %w", err))
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			return nil, s.failed("read", fmt.Errorf("history: %w", err))
		}
		out = append(out, l)
	}
	return out, s.failed("read", rows.Err())
}

// LastOf returns the last run of the flow and device with that outcome, in
// any location, or ErrNotFound.
func (s *Store) LastOf(ctx context.Context, flow, device string, o result.Outcome) (Run, error) {
	return s.one(ctx, `SELECT `+runColumns+` FROM runs
		WHERE flow = ? AND device = ? AND outcome = ? ORDER BY started_ms DESC, seq DESC LIMIT 1`, flow, device, string(o))
}

// LastOfAt returns the last run of the flow and device in the location
// with that outcome, or ErrNotFound.
func (s *Store) LastOfAt(ctx context.Context, flow, device, location string, o result.Outcome) (Run, error) {
	return s.one(ctx, `SELECT `+runColumns+` FROM runs
		WHERE flow = ? AND device = ? AND location = ? AND outcome = ? ORDER BY started_ms DESC, seq DESC LIMIT 1`,
		flow, device, location, string(o))
}

func (s *Store) one(ctx context.Context, q string, args ...any) (Run, error) {
	runs, err := s.query(ctx, q, args...)
	if err != nil {
		return Run{}, err
	}
	if len(runs) == 0 {
		return Run{}, ErrNotFound
	}
	return runs[0], nil
}

func (s *Store) query(ctx context.Context, q string, args ...any) ([]Run, error) {
	if err := s.schema(ctx); err != nil {
		return nil, s.failed("read", err)
	}
	rows, err := s.db().QueryContext(ctx, s.d.q(q), args...)
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
	rows, err := s.db().QueryContext(ctx, s.d.q(`SELECT run_id, name, kind, bytes FROM artifacts
		WHERE run_id IN (?`+strings.Repeat(",?", len(ids)-1)+`) ORDER BY run_id, pos, name`), ids...)
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
	if err := rows.Err(); err != nil {
		return s.failed("read", err)
	}
	for i := range runs {
		frameTimes(&runs[i])
	}
	return nil
}

// frameTimes gives the run's frames their time and step, which the result
// keeps: the artifacts table needs no columns that only frames would use.
func frameTimes(run *Run) {
	if run.Result == nil || len(run.Result.Filmstrip) == 0 {
		return
	}
	byName := make(map[string]result.Frame, len(run.Result.Filmstrip))
	for _, f := range run.Result.Filmstrip {
		byName[filepath.Base(f.Path)] = f
	}
	for i, a := range run.Artifacts {
		if f, ok := byName[a.Name]; ok && a.Kind == KindFrame {
			t := f.T
			run.Artifacts[i].T, run.Artifacts[i].Step = &t, f.Step
		}
	}
}

// Point is one run as a sparkline or a success rate needs it.
type Point struct {
	Flow, Device    string
	Location        string
	StartedAt       time.Time
	Outcome         result.Outcome
	DurationSeconds float64
}

// Points returns every run since a time, oldest first, without the result
// JSON: a day of a busy agent is thousands of runs.
func (s *Store) Points(ctx context.Context, since time.Time) ([]Point, error) {
	if err := s.schema(ctx); err != nil {
		return nil, s.failed("read", err)
	}
	rows, err := s.db().QueryContext(ctx, s.d.q(`SELECT flow, device, location, started_ms, outcome, duration_seconds
		FROM runs WHERE started_ms >= ? ORDER BY started_ms, seq`), since.UnixMilli())
	if err != nil {
		return nil, s.failed("read", fmt.Errorf("history: %w", err))
	}
	defer rows.Close()
	var out []Point
	for rows.Next() {
		var p Point
		var ms int64
		var o string
		if err := rows.Scan(&p.Flow, &p.Device, &p.Location, &ms, &o, &p.DurationSeconds); err != nil {
			return nil, s.failed("read", fmt.Errorf("history: %w", err))
		}
		p.StartedAt, p.Outcome = time.UnixMilli(ms).UTC(), result.Outcome(o)
		out = append(out, p)
	}
	return out, s.failed("read", rows.Err())
}

// Count returns the number of stored runs (of the whole fleet).
func (s *Store) Count(ctx context.Context) (int, error) {
	if err := s.schema(ctx); err != nil {
		return 0, s.failed("read", err)
	}
	var n int
	err := s.db().QueryRowContext(ctx, `SELECT COUNT(*) FROM runs`).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return n, s.failed("read", err)
}

// sumBytes is the size retention counts. PostgreSQL's SUM of a BIGINT is a
// NUMERIC, hence the cast, which SQLite reads as INTEGER.
const sumBytes = `SELECT CAST(COALESCE(SUM(bytes), 0) AS BIGINT) FROM runs`

// Bytes returns the bytes that retention by size counts: results and
// artifacts, of the whole fleet.
func (s *Store) Bytes(ctx context.Context) (int64, error) {
	if err := s.schema(ctx); err != nil {
		return 0, s.failed("read", err)
	}
	var n int64
	err := s.db().QueryRowContext(ctx, sumBytes).Scan(&n)
	return n, s.failed("read", err)
}
