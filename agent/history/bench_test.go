package history

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkExport is one committed run: an INSERT and an fsync of the WAL
// (synchronous=FULL).
func BenchmarkExport(b *testing.B) {
	s, err := Open(context.Background(), b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	i := 0
	for b.Loop() {
		if err := s.Export(context.Background(), run("search", "desktop", i, "")); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkPrune15Days prunes a store of 15 days of 10 flows on 2 devices
// every 5 minutes (86400 runs) by one minute's worth, as RunRetention does
// every minute.
func BenchmarkPrune15Days(b *testing.B) {
	now := t0.Add(15 * 24 * time.Hour)
	s, err := Open(context.Background(), b.TempDir(), Options{Now: func() time.Time { return now }, Retention: 15 * 24 * time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	fill(b, s, 15*24*12)
	b.ResetTimer()
	for b.Loop() {
		now = now.Add(time.Minute)
		if _, err := s.Prune(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

// fill writes runs of 10 flows on 2 devices, 5 minutes apart, in one
// transaction per tick, faster than Export for set-up.
func fill(b *testing.B, s *Store, ticks int) {
	b.Helper()
	for i := range ticks {
		for f := range 10 {
			for _, d := range []string{"desktop", "mobile"} {
				r := run(fmt.Sprintf("flow%d", f), d, i*5, "")
				if err := s.export(context.Background(), r); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
}
