package history

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// notProtected leaves out the runs retention never deletes: the last failed
// and the last successful run of each flow and device, the pair a person
// compares when a flow breaks after a quiet month. Runs that tie on the
// start time are all kept. The index runs_outcome answers the subquery
// without sorting the table.
const notProtected = `(flow, device, outcome, started_ms) NOT IN
	(SELECT flow, device, outcome, MAX(started_ms) FROM runs
	 WHERE outcome IN ('success', 'failure') GROUP BY flow, device, outcome)`

// orphanAge is how old an artifact directory without a run must be before
// Prune removes it: a writer copies the files before it commits the row.
const orphanAge = 10 * time.Minute

// RunRetention prunes the store every PruneInterval until ctx ends. Errors are
// logged and reported to OnError; pruning goes on at the next interval.
func (s *Store) RunRetention(ctx context.Context) error {
	t := time.NewTicker(s.opts.PruneInterval)
	defer t.Stop()
	for {
		if n, err := s.Prune(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.log.Error("pruning the run history", "err", err)
		} else if n > 0 {
			s.log.Debug("pruned the run history", "runs", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Prune deletes the runs that are older than the retention or beyond the
// size bound (oldest first), with their artifacts, and returns how many it
// deleted.
func (s *Store) Prune(ctx context.Context) (int, error) {
	n, err := s.prune(ctx)
	return n, s.failed("prune", err)
}

func (s *Store) prune(ctx context.Context) (int, error) {
	var deleted []string
	s.writeMu.Lock()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if s.opts.Retention > 0 {
			cutoff := s.opts.Now().Add(-s.opts.Retention).UnixMilli()
			ids, err := collect(ctx, tx, `DELETE FROM runs WHERE started_ms < ? AND `+notProtected+` RETURNING id`, cutoff)
			if err != nil {
				return err
			}
			deleted = append(deleted, ids...)
		}
		if s.opts.RetentionSize > 0 {
			ids, err := pruneSize(ctx, tx, s.opts.RetentionSize)
			if err != nil {
				return err
			}
			deleted = append(deleted, ids...)
		}
		return nil
	})
	s.writeMu.Unlock()
	if err != nil {
		return 0, fmt.Errorf("history: pruning: %w", err)
	}
	// The rows are gone; a file that cannot be removed now is an orphan
	// that the sweep below retries.
	for _, id := range deleted {
		if err := os.RemoveAll(s.runDir(id)); err != nil {
			s.log.Warn("removing the artifacts of a pruned run", "run", id, "err", err)
		}
	}
	return len(deleted), s.sweepOrphans(ctx)
}

// pruneSize deletes the oldest unprotected runs until the total is within
// limit.
func pruneSize(ctx context.Context, tx *sql.Tx, limit int64) ([]string, error) {
	var total sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT SUM(bytes) FROM runs`).Scan(&total); err != nil {
		return nil, err
	}
	excess := total.Int64 - limit
	if excess <= 0 {
		return nil, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, bytes FROM runs WHERE `+notProtected+` ORDER BY started_ms, seq`)
	if err != nil {
		return nil, err
	}
	var ids []string
	for rows.Next() && excess > 0 {
		var id string
		var b int64
		if err := rows.Scan(&id, &b); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
		excess -= b
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return nil, err
	}
	rows.Close()
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `DELETE FROM runs WHERE id = ?`, id); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

func collect(ctx context.Context, tx *sql.Tx, q string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// sweepOrphans removes artifact directories whose run is not in the store:
// left by a crash between copying and committing, or between deleting a
// row and its files.
func (s *Store) sweepOrphans(ctx context.Context) error {
	entries, err := os.ReadDir(filepath.Join(s.dir, artifactsDir))
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		info, err := e.Info()
		if err != nil || s.opts.Now().Sub(info.ModTime()) < orphanAge {
			continue
		}
		var one int
		err = s.db.QueryRowContext(ctx, `SELECT 1 FROM runs WHERE id = ?`, e.Name()).Scan(&one)
		if err == sql.ErrNoRows {
			if err := os.RemoveAll(filepath.Join(s.dir, artifactsDir, e.Name())); err != nil {
				s.log.Warn("removing an orphaned artifact directory", "dir", e.Name(), "err", err)
			}
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}
