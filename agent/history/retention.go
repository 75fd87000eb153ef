package history

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// notProtected leaves out the runs retention never deletes: the last failed
// and the last successful run of each flow, device and location, the pair
// a person compares when a flow breaks after a quiet month. Runs that tie
// on the start time are all kept. The index runs_outcome answers the
// subquery without sorting the table.
const notProtected = `(flow, device, location, outcome, started_ms) NOT IN
	(SELECT flow, device, location, outcome, MAX(started_ms) FROM runs
	 WHERE outcome IN ('success', 'failure') GROUP BY flow, device, location, outcome)`

// RunRetention prunes the store every PruneInterval until ctx ends. Errors are
// logged and reported to OnError; pruning goes on at the next interval.
// Every agent of a fleet runs it; one at a time prunes (see Prune).
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
// deleted. The size is the store's, over every agent that writes it. On
// PostgreSQL an agent that finds another one pruning skips its turn.
func (s *Store) Prune(ctx context.Context) (int, error) {
	n, err := s.prune(ctx)
	return n, s.failed("prune", err)
}

func (s *Store) prune(ctx context.Context) (int, error) {
	if err := s.schema(ctx); err != nil {
		return 0, err
	}
	var deleted int
	if s.d.serialWrites {
		s.writeMu.Lock()
		defer s.writeMu.Unlock()
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if ok, err := s.d.tryLock(ctx, tx, lockPrune); err != nil || !ok {
			return err
		}
		if s.opts.Retention > 0 {
			cutoff := s.opts.Now().Add(-s.opts.Retention).UnixMilli()
			res, err := tx.ExecContext(ctx, s.d.q(`DELETE FROM runs WHERE started_ms < ? AND `+notProtected), cutoff)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			deleted += int(n)
		}
		if s.opts.RetentionSize > 0 {
			n, err := s.pruneSize(ctx, tx, s.opts.RetentionSize)
			if err != nil {
				return err
			}
			deleted += n
		}
		return nil
	})
	if err != nil {
		return 0, s.scrub(fmt.Errorf("history: pruning: %w", err))
	}
	return deleted, nil
}

// pruneSize deletes the oldest unprotected runs until the total is within
// limit. The artifacts go with their runs (ON DELETE CASCADE).
func (s *Store) pruneSize(ctx context.Context, tx *sql.Tx, limit int64) (int, error) {
	var total int64
	if err := tx.QueryRowContext(ctx, sumBytes).Scan(&total); err != nil {
		return 0, err
	}
	excess := total - limit
	if excess <= 0 {
		return 0, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, bytes FROM runs WHERE `+notProtected+` ORDER BY started_ms, seq`)
	if err != nil {
		return 0, err
	}
	var ids []string
	for rows.Next() && excess > 0 {
		var id string
		var b int64
		if err := rows.Scan(&id, &b); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
		excess -= b
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return 0, err
	}
	rows.Close()
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, s.d.q(`DELETE FROM runs WHERE id = ?`), id); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}
