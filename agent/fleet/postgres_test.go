package fleet_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uxprobe/uxprobe/agent/fleet"
	"github.com/uxprobe/uxprobe/agent/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// openFleet opens n agents' views of one new database, named a0, a1, ...
func openFleet(t testing.TB, url string, n int) []*fleet.Postgres {
	t.Helper()
	out := make([]*fleet.Postgres, n)
	for i := range out {
		p, err := fleet.Open(url, fleet.Options{Agent: fmt.Sprintf("a%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		out[i] = p
	}
	return out
}

func TestClaimIsTakenOnce(t *testing.T) {
	// Ten agents that start at once also create the tables at once.
	agents := openFleet(t, pgtest.URL(t), 10)
	at := time.Date(2026, 12, 7, 12, 0, 5, 123456000, time.UTC)
	tests := []struct {
		name string
		slot fleet.Slot
	}{
		{"a slot", fleet.Slot{Location: "eu", Flow: "checkout", Device: "desktop", At: at}},
		{"the same slot in another location", fleet.Slot{Location: "us", Flow: "checkout", Device: "desktop", At: at}},
		{"the same slot on another device", fleet.Slot{Location: "eu", Flow: "checkout", Device: "mobile", At: at}},
		{"the next slot", fleet.Slot{Location: "eu", Flow: "checkout", Device: "desktop", At: at.Add(5 * time.Second)}},
		{"another flow", fleet.Slot{Location: "eu", Flow: "search", Device: "desktop", At: at}},
		{"no location", fleet.Slot{Flow: "checkout", Device: "desktop", At: at}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var winners []string
			var wg sync.WaitGroup
			for _, a := range agents {
				wg.Go(func() {
					won, err := a.Claim(context.Background(), tt.slot)
					if err != nil {
						t.Error(err)
					}
					if won {
						mu.Lock()
						winners = append(winners, a.Agent())
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if len(winners) != 1 {
				t.Fatalf("winners %q, want exactly one", winners)
			}
			holder, missed, err := agents[0].Holder(context.Background(), tt.slot)
			if err != nil || holder != winners[0] || missed {
				t.Errorf("Holder = %q, missed %v, %v; want %q", holder, missed, err, winners[0])
			}
			// A claim after the race loses too, even the winner's own.
			for _, a := range agents {
				if won, err := a.Claim(context.Background(), tt.slot); won || err != nil {
					t.Errorf("%s claimed a taken slot again: %v, %v", a.Agent(), won, err)
				}
			}
		})
	}
}

func TestMissedIsMarkedOnceAndBeatsALateClaim(t *testing.T) {
	agents := openFleet(t, pgtest.URL(t), 3)
	ctx := context.Background()
	at := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	ran := fleet.Slot{Location: "eu", Flow: "checkout", Device: "desktop", At: at}
	lost := fleet.Slot{Location: "eu", Flow: "checkout", Device: "mobile", At: at}
	if won, err := agents[0].Claim(ctx, ran); !won || err != nil {
		t.Fatalf("claim: %v, %v", won, err)
	}
	var mu sync.Mutex
	var marked []fleet.Slot
	var wg sync.WaitGroup
	for _, a := range agents {
		wg.Go(func() {
			m, err := a.MarkMissed(ctx, []fleet.Slot{ran, lost})
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			marked = append(marked, m...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(marked) != 1 || marked[0].Device != "mobile" || !marked[0].At.Equal(at) || marked[0].Location != "eu" || marked[0].Flow != "checkout" {
		t.Fatalf("marked %+v, want the mobile slot once over the fleet", marked)
	}
	if _, missed, _ := agents[0].Holder(ctx, lost); !missed {
		t.Error("the lost slot holds no missed marker")
	}
	// An agent that got a browser only now must not run the slot: it was
	// counted as missed already.
	if won, err := agents[2].Claim(ctx, lost); won || err != nil {
		t.Errorf("a late claim won over the missed marker: %v, %v", won, err)
	}
	if m, err := agents[1].MarkMissed(ctx, nil); m != nil || err != nil {
		t.Errorf("MarkMissed(nil) = %v, %v", m, err)
	}
}

func TestRequestsGoToTheirLocation(t *testing.T) {
	url := pgtest.URL(t)
	agents := openFleet(t, url, 3) // a0 in eu asks; a1 and a2 in us
	ctx := context.Background()
	req := fleet.Request{Location: "us", Flow: "checkout", Device: "mobile", IDs: []string{"id-1"}}
	if _, err := agents[0].Enqueue(ctx, req); !errors.Is(err, fleet.ErrNoAgent) {
		t.Fatalf("Enqueue with no agent in us: %v, want ErrNoAgent", err)
	}
	for _, a := range agents[1:] {
		if err := a.Heartbeat(ctx, "us"); err != nil {
			t.Fatal(err)
		}
	}
	if err := agents[0].Heartbeat(ctx, "eu"); err != nil {
		t.Fatal(err)
	}
	id, err := agents[0].Enqueue(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := agents[0].Take(ctx, "eu"); r != nil || err != nil {
		t.Fatalf("an eu agent took %+v, %v", r, err)
	}
	r, err := agents[1].Take(ctx, "us")
	if err != nil || r == nil {
		t.Fatalf("Take in us: %+v, %v", r, err)
	}
	want := fleet.Request{ID: id, Location: "us", Flow: "checkout", Device: "mobile", IDs: []string{"id-1"}, By: "a0"}
	if fmt.Sprint(*r) != fmt.Sprint(want) {
		t.Errorf("took %+v, want %+v", *r, want)
	}
	if r, err := agents[2].Take(ctx, "us"); r != nil || err != nil {
		t.Fatalf("a request was taken twice: %+v, %v", r, err)
	}
	if err := agents[1].Release(ctx, id); err != nil {
		t.Fatal(err)
	}
	if r, err := agents[2].Take(ctx, "us"); err != nil || r == nil || r.ID != id {
		t.Fatalf("a released request was not taken again: %+v, %v", r, err)
	}
	// Pruning drops what is old; a slot of now stays claimed.
	now := time.Now()
	old := fleet.Slot{Location: "us", Flow: "f", Device: "desktop", At: now.Add(-fleet.KeepClaims - 2*time.Minute)}
	fresh := fleet.Slot{Location: "us", Flow: "f", Device: "desktop", At: now}
	// A daily flow's slot of yesterday stays until today's slot is over.
	daily := fleet.Slot{Location: "us", Flow: "daily", Device: "desktop", At: now.Add(-23 * time.Hour), End: now.Add(time.Hour)}
	for _, s := range []fleet.Slot{old, fresh, daily} {
		if _, err := agents[1].Claim(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := agents[1].Prune(ctx, now); err != nil {
		t.Fatal(err)
	}
	if h, _, _ := agents[1].Holder(ctx, old); h != "" {
		t.Errorf("an old claim survived pruning, held by %q", h)
	}
	for _, s := range []fleet.Slot{fresh, daily} {
		if h, _, _ := agents[1].Holder(ctx, s); h != "a1" {
			t.Errorf("the claim of %s at %s was pruned: holder %q", s.Flow, s.At, h)
		}
	}
}

// syncBuffer is a log sink that tests read while agents write.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestOutageFailsFastAndIsLoggedOnce(t *testing.T) {
	url := pgtest.URL(t)
	var logs syncBuffer
	p, err := fleet.Open(url, fleet.Options{Agent: "a0", Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	at := time.Now().Truncate(time.Second)
	slot := func(i int) fleet.Slot {
		return fleet.Slot{Location: "eu", Flow: "checkout", Device: "desktop", At: at.Add(time.Duration(i) * time.Second)}
	}
	if won, err := p.Claim(ctx, slot(0)); !won || err != nil {
		t.Fatalf("claim before the outage: %v, %v", won, err)
	}
	srv := pgtest.Shared(t)
	if err := srv.Pause(); err != nil {
		t.Fatal(err)
	}
	resumed := false
	defer func() {
		if !resumed {
			_ = srv.Resume()
		}
	}()
	for i := 1; i <= 5; i++ {
		won, err := p.Claim(ctx, slot(i))
		if err == nil {
			t.Fatalf("claim %d during the outage: won %v and no error", i, won)
		}
	}
	if !p.Down() {
		t.Error("Down() is false during the outage")
	}
	if n := strings.Count(logs.String(), "unreachable"); n != 1 {
		t.Errorf("the outage was logged %d times, want once:\n%s", n, logs.String())
	}
	if strings.Contains(logs.String(), "password") {
		t.Errorf("the log speaks of a password:\n%s", logs.String())
	}
	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	resumed = true
	// The pool reconnects on its own; the claim of a slot of the outage is
	// still open, as no agent could take it.
	var won bool
	deadline := time.Now().Add(15 * time.Second)
	for {
		won, err = p.Claim(ctx, slot(3))
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil || !won {
		t.Fatalf("claim after the outage: %v, %v", won, err)
	}
	if p.Down() || !strings.Contains(logs.String(), "reachable again") {
		t.Errorf("the recovery was not noticed:\n%s", logs.String())
	}
}
