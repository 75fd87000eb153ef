package history

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// garble writes random bytes over the file from offset on (all of it for
// 0), as a failing disk or a stray dd does.
func garble(t *testing.T, path string, offset int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, _ := f.Stat()
	n := max(info.Size()-offset, 64<<10)
	junk := make([]byte, n)
	_, _ = rand.Read(junk)
	if _, err := f.WriteAt(junk, offset); err != nil {
		t.Fatal(err)
	}
}

// recorder is an OnError that keeps the operations it heard.
type recorder struct {
	mu  sync.Mutex
	ops []string
}

func (r *recorder) onError(op string, _ error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops = append(r.ops, op)
}

func (r *recorder) count(op string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, o := range r.ops {
		if o == op {
			n++
		}
	}
	return n
}

// TestRecoverDamaged: an SQLite file with garbage over it (whole, or past
// its header, where only a check of its pages sees it) and over its WAL is
// moved aside at Open with its WAL; a fresh store takes and lists runs, the
// recovery is counted and noted.
func TestRecoverDamaged(t *testing.T) {
	for _, tt := range []struct {
		name   string
		offset int64
	}{{"whole file", 0}, {"pages past the header", 4096}} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := Open(context.Background(), dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 200 {
				export(t, s, run("search", "desktop", i, ""))
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			db := filepath.Join(dir, DBFile)
			garble(t, db, tt.offset)
			garble(t, db+"-wal", 0)

			var rec recorder
			now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
			s = open(t, dir, Options{OnError: rec.onError, Now: func() time.Time { return now }})
			moved := db + ".damaged-20261207T120000Z"
			for _, p := range []string{moved, moved + "-wal"} {
				if _, err := os.Stat(p); err != nil {
					t.Errorf("the damaged file is not kept aside: %v", err)
				}
			}
			if n := rec.count("recover"); n != 1 {
				t.Errorf("%d recover errors reported, want 1 (%q)", n, rec.ops)
			}
			if note := s.Note(); !strings.Contains(note, "uxprobe.db.damaged-20261207T120000Z") || !strings.Contains(note, "fresh history") {
				t.Errorf("Note = %q", note)
			}
			export(t, s, run("checkout", "mobile", 0, ""))
			runs, err := s.Runs(context.Background(), Query{})
			if err != nil || len(runs) != 1 || runs[0].Result.Flow != "checkout" {
				t.Errorf("the fresh store lists %v, %v", ids(runs), err)
			}
		})
	}
}

// TestRecoverAtRunTime: a file damaged under a running store fails a read,
// and the store moves it aside and goes on with a fresh one, without a
// restart.
func TestRecoverAtRunTime(t *testing.T) {
	dir := t.TempDir()
	var rec recorder
	s := open(t, dir, Options{OnError: rec.onError, RetryInterval: 20 * time.Millisecond})
	for i := range 200 {
		export(t, s, run("search", "desktop", i, ""))
	}
	// A checkpoint puts every page in the file, which then gets garbage
	// over all but its header; no connection has the pages cached.
	if _, err := s.db().Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	s.db().SetMaxIdleConns(0)
	s.db().SetMaxIdleConns(2)
	garble(t, filepath.Join(dir, DBFile), 4096)

	ctx := context.Background()
	if _, err := s.Runs(ctx, Query{}); err == nil {
		t.Fatal("reading a damaged file: no error")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		runs, err := s.Runs(ctx, Query{})
		if err == nil && len(runs) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not recovered within 10s: %d runs, %v", len(runs), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if rec.count("recover") != 1 || s.Note() == "" {
		t.Errorf("recover errors %q, note %q", rec.ops, s.Note())
	}
	export(t, s, run("checkout", "mobile", 0, ""))
	if n, err := s.Count(ctx); err != nil || n != 1 {
		t.Errorf("Count = %d, %v after the recovery", n, err)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, DBFile+DamagedSuffix+"*"))
	if len(matches) == 0 {
		t.Error("the damaged file is not kept aside")
	}
}
