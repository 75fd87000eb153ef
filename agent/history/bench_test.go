package history

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uxprobe/uxprobe/agent/pgtest"
)

// benchStores are the two databases, for benchmarks.
var benchStores = []struct {
	name string
	open func(b *testing.B, opts Options) *Store
}{
	{"sqlite", func(b *testing.B, opts Options) *Store {
		s, err := Open(context.Background(), b.TempDir(), opts)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}},
	{"postgres", func(b *testing.B, opts Options) *Store {
		s, err := OpenURL(context.Background(), pgtest.URL(b), opts)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}},
}

// BenchmarkExport is the history's write rate: one committed run each, as
// an agent writes it, with a 50 kB screenshot, from one writer and from
// ten at once (ten agents of a fleet; SQLite's are one agent's runs). The
// metric runs/s is what the README quotes. SQLite syncs its WAL at every
// commit (synchronous=FULL); the test PostgreSQL runs with fsync off, so
// its rate is the protocol's and the server's CPU, not a disk's.
func BenchmarkExport(b *testing.B) {
	shot := filepath.Join(b.TempDir(), "shot.png")
	if err := os.WriteFile(shot, make([]byte, 50<<10), 0o644); err != nil {
		b.Fatal(err)
	}
	for _, st := range benchStores {
		for _, writers := range []int{1, 10} {
			b.Run(fmt.Sprintf("%s/writers=%d", st.name, writers), func(b *testing.B) {
				s := st.open(b, Options{})
				var next atomic.Int64
				var wg sync.WaitGroup
				start := time.Now()
				b.ResetTimer()
				for range writers {
					wg.Go(func() {
						for {
							i := int(next.Add(1))
							if i > b.N {
								return
							}
							r := run("search", "desktop", i, "")
							r.Screenshots = []string{shot}
							if err := s.Export(context.Background(), r); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "runs/s")
			})
		}
	}
}

// BenchmarkPrune15Days prunes a store of 15 days of 10 flows on 2 devices
// every 5 minutes (86400 runs) by one minute's worth, as RunRetention does
// every minute.
func BenchmarkPrune15Days(b *testing.B) {
	for _, st := range benchStores {
		b.Run(st.name, func(b *testing.B) {
			now := t0.Add(15 * 24 * time.Hour)
			s := st.open(b, Options{Now: func() time.Time { return now }, Retention: 15 * 24 * time.Hour})
			fill(b, s, 15*24*12)
			b.ResetTimer()
			for b.Loop() {
				now = now.Add(time.Minute)
				if _, err := s.Prune(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// fill writes runs of 10 flows on 2 devices, 5 minutes apart, a tick's
// runs in one transaction, faster than Export for set-up.
func fill(b *testing.B, s *Store, ticks int) {
	b.Helper()
	ctx := context.Background()
	for i := range ticks {
		var rows []*row
		for f := range 10 {
			for _, d := range []string{"desktop", "mobile"} {
				rw, err := s.prepare(run(fmt.Sprintf("flow%d", f), d, i*5, ""))
				if err != nil {
					b.Fatal(err)
				}
				rows = append(rows, rw)
			}
		}
		if err := s.writeRows(ctx, rows); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenSQLite200MB opens an SQLite store of 10,000 runs with a
// 20 kB screenshot each (about 200 MB): the cost of the integrity check
// (PRAGMA quick_check) that finds a damaged file at start.
func BenchmarkOpenSQLite200MB(b *testing.B) {
	dir := b.TempDir()
	s, err := Open(context.Background(), dir, Options{Retention: -1, RetentionSize: -1})
	if err != nil {
		b.Fatal(err)
	}
	shot := filepath.Join(b.TempDir(), "shot.png")
	if err := os.WriteFile(shot, make([]byte, 20<<10), 0o644); err != nil {
		b.Fatal(err)
	}
	for i := range 100 {
		var rows []*row
		for j := range 100 {
			r := run("search", "desktop", i*100+j, "")
			r.Screenshots = []string{shot}
			rw, err := s.prepare(r)
			if err != nil {
				b.Fatal(err)
			}
			rows = append(rows, rw)
		}
		if err := s.writeRows(context.Background(), rows); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		s, err := Open(context.Background(), dir, Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
}
