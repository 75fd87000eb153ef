package history

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uxprobe/uxprobe/agent/pgtest"
)

// TestOutage: PostgreSQL stops for a while; the agent keeps exporting, the
// runs wait in the queue (the oldest dropped beyond its bound, counted),
// and all that were kept are in the store once it is back, each once.
func TestOutage(t *testing.T) {
	srv := pgtest.Shared(t)
	url := pgtest.URL(t)
	var waiting, dropped atomic.Int64
	var rec recorder
	s := openURL(t, url, Options{QueueLength: 5, RetryInterval: 50 * time.Millisecond, OnError: rec.onError,
		OnQueue: func(n int) { waiting.Store(int64(n)) }, OnDrop: func() { dropped.Add(1) }})
	ctx := context.Background()
	export(t, s, run("search", "desktop", 0, ""))

	if err := srv.Pause(); err != nil {
		t.Fatal(err)
	}
	resumed := false
	defer func() {
		if !resumed {
			_ = srv.Resume()
		}
	}()
	// Seven runs during the outage: the first two are dropped.
	for i := 1; i <= 7; i++ {
		err := s.Export(ctx, run("search", "desktop", i, ""))
		if err == nil || !strings.Contains(err.Error(), "queued") {
			t.Fatalf("Export while the store is down: err %v, want queued", err)
		}
	}
	if s.Waiting() != 5 || waiting.Load() != 5 || dropped.Load() != 2 {
		t.Errorf("waiting %d (heard %d), dropped %d; want 5, 5, 2", s.Waiting(), waiting.Load(), dropped.Load())
	}
	if rec.count("write") != 7 {
		t.Errorf("%d write errors reported, want 7", rec.count("write"))
	}
	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	resumed = true

	deadline := time.Now().Add(30 * time.Second)
	for s.Waiting() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d runs still waiting 30s after the store came back", s.Waiting())
		}
		time.Sleep(20 * time.Millisecond)
	}
	runs, err := s.Runs(ctx, Query{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"search/desktop@12:07", "search/desktop@12:06", "search/desktop@12:05", "search/desktop@12:04", "search/desktop@12:03", "search/desktop@12:00"}
	if got := ids(runs); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("after the outage the store has %q, want %q", got, want)
	}
	if waiting.Load() != 0 {
		t.Errorf("OnQueue last heard %d, want 0", waiting.Load())
	}
}

// TestOpenWhileDown: an agent that starts while PostgreSQL is down runs
// anyway; its runs wait and are written, with the schema, once it is up.
func TestOpenWhileDown(t *testing.T) {
	srv := pgtest.Shared(t)
	url := pgtest.URL(t)
	if err := srv.Pause(); err != nil {
		t.Fatal(err)
	}
	var rec recorder
	s, err := OpenURL(context.Background(), url, Options{RetryInterval: 50 * time.Millisecond, OnError: rec.onError})
	if err != nil {
		_ = srv.Resume()
		t.Fatalf("OpenURL while the server is down: %v", err)
	}
	defer s.Close()
	if rec.count("open") != 1 {
		t.Errorf("open errors %q, want one", rec.ops)
	}
	if err := s.Export(context.Background(), run("search", "desktop", 0, "")); err == nil {
		t.Error("Export while the server is down: no error")
	}
	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for s.Waiting() > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n, err := s.Count(context.Background()); err != nil || n != 1 {
		t.Errorf("Count = %d, %v; want the queued run", n, err)
	}
}
