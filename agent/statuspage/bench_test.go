package statuspage

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/uxprobe/uxprobe/agent/history"
	"github.com/uxprobe/uxprobe/scenarios"
)

// BenchmarkOverview renders / over 3 days of 10 flows on 2 devices every
// 5 minutes (17280 runs, 5760 of them in the sparklines' 24 h).
func BenchmarkOverview(b *testing.B) {
	s, err := history.Open(context.Background(), b.TempDir(), history.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for i := range 3 * 24 * 12 {
		for f := range 10 {
			for _, d := range []string{"desktop", "mobile"} {
				kind := scenarios.ErrorKind("")
				if i%17 == 0 {
					kind = scenarios.KindTimeout
				}
				r := res(fmt.Sprintf("f%d-%s-%d", f, d, i), fmt.Sprintf("flow%d", f), d, time.Duration(3*24*12-i)*5*time.Minute, "place order", kind)
				if err := s.Export(context.Background(), r); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	h := New(Options{Store: s, Now: func() time.Time { return now }})
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkOverviewFleet renders / for a fleet: 10 flows on 2 devices every
// 5 minutes in 3 locations over a day (8,640 runs, more than the page reads
// at once), read through Runs as the Store interface gives them.
func BenchmarkOverviewFleet(b *testing.B) {
	s, err := history.Open(context.Background(), b.TempDir(), history.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for i := range 24 * 12 {
		for f := range 10 {
			for _, d := range []string{"desktop", "mobile"} {
				for _, l := range []string{"eu", "us", "ap"} {
					r := res(fmt.Sprintf("f%d-%s-%s-%d", f, d, l, i), fmt.Sprintf("flow%d", f), d, time.Duration(24*12-i)*5*time.Minute, "", "")
					r.Location, r.Agent = l, l+"-1"
					if err := s.Export(context.Background(), r); err != nil {
						b.Fatal(err)
					}
				}
			}
		}
	}
	h := New(Options{Store: s, Now: func() time.Time { return now }})
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}
