package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// DamagedSuffix starts the name a damaged SQLite file is moved aside to:
// uxprobe.db.damaged-20261207T120000Z, with its WAL as ...-wal.
const DamagedSuffix = ".damaged-"

// recoverOpen moves a damaged database aside and opens a fresh one. The
// damaged file is kept, not deleted: a person may still want to read what
// SQLite's recovery tools get out of it.
func (s *Store) recoverOpen(ctx context.Context, cause error) (*sql.DB, error) {
	moved, err := s.moveAside()
	if err != nil {
		return nil, fmt.Errorf("%w (and moving the damaged file aside failed: %v)", cause, err)
	}
	s.recovered(cause, moved)
	return s.openSQLite(ctx)
}

// moveAside renames the database file and its WAL to the damaged name of
// now, and removes the shared-memory index, which SQLite rebuilds.
func (s *Store) moveAside() (string, error) {
	base := filepath.Join(s.dir, DBFile)
	moved := base + DamagedSuffix + s.opts.Now().UTC().Format("20060102T150405Z")
	if err := os.Rename(base, moved); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	wal := base + "-wal"
	if _, err := os.Stat(filepath.Join(s.dir, heldWAL)); err == nil {
		// Open's link to the WAL as it was before SQLite saw it.
		_ = os.Remove(wal)
		wal = filepath.Join(s.dir, heldWAL)
	}
	if err := os.Rename(wal, moved+"-wal"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	if err := os.Remove(base + "-shm"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	return moved, nil
}

func (s *Store) recovered(cause error, moved string) {
	at := s.opts.Now().UTC()
	s.log.Error("the run history was damaged on disk; moved it aside and started a fresh one",
		"damaged", moved, "err", cause)
	s.failed("recover", cause)
	s.noteMu.Lock()
	s.note = fmt.Sprintf("The run history was damaged on disk (%v) and was moved aside to %s at %s; a fresh history started then, so earlier runs are not shown.",
		cause, filepath.Base(moved), at.Format(time.RFC3339))
	s.noteMu.Unlock()
}

// recoverRuntime swaps a database that a query found damaged for a fresh
// one. Queries that hold the old one fail once; the next ones use the new.
func (s *Store) recoverRuntime(cause error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if s.reopenPending.Load() {
		s.reopen(ctx)
		return
	}
	// Confirm it: an error of one query may be a torn read of a file that
	// another process was replacing, gone on the next.
	var check string
	err := s.db().QueryRowContext(ctx, `PRAGMA quick_check(1)`).Scan(&check)
	if err == nil && check == "ok" || err != nil && !damaged(err) {
		s.damagedErr.Store(nil)
		return
	}
	old := s.db()
	_ = old.Close()
	moved, err := s.moveAside()
	if err != nil {
		s.log.Error("moving the damaged run history aside", "err", err)
		s.reopen(ctx)
		return
	}
	s.recovered(cause, moved)
	s.reopen(ctx)
}

func (s *Store) reopen(ctx context.Context) {
	db, err := s.openSQLite(ctx)
	if err != nil {
		// Keep the closed handle: queries fail with "database is closed"
		// and the loop tries again.
		s.failed("open", err)
		s.reopenPending.Store(true)
		s.damagedErr.Store(&err)
		return
	}
	s.dbp.Store(db)
	s.reopenPending.Store(false)
	s.damagedErr.Store(nil)
}

// importLegacyArtifacts moves the files of a store written before the
// artifacts lived in the database (schema version 1) into it, and removes
// their directory. A file that is gone stays listed without bytes and
// answers ErrNotFound.
func (s *Store) importLegacyArtifacts(ctx context.Context) error {
	root := filepath.Join(s.dir, legacyArtifactsDir)
	if _, err := os.Stat(root); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	rows, err := s.db().QueryContext(ctx, `SELECT run_id, name FROM artifacts WHERE data IS NULL`)
	if err != nil {
		return fmt.Errorf("history: moving artifact files into the database: %w", err)
	}
	type key struct{ id, name string }
	var keys []key
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.id, &k.name); err != nil {
			rows.Close()
			return fmt.Errorf("history: moving artifact files into the database: %w", err)
		}
		keys = append(keys, k)
	}
	rows.Close()
	for _, k := range keys {
		if !ValidID(k.id) || filepath.Base(k.name) != k.name {
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, k.id, k.name))
		if err != nil {
			continue
		}
		if _, err := s.db().ExecContext(ctx, `UPDATE artifacts SET data = ? WHERE run_id = ? AND name = ?`, data, k.id, k.name); err != nil {
			return fmt.Errorf("history: moving artifact files into the database: %w", err)
		}
	}
	if len(keys) > 0 {
		s.log.Info("moved the run history's artifact files into its database", "files", len(keys))
	}
	return os.RemoveAll(root)
}
