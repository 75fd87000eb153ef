package agent

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

func TestRunNow(t *testing.T) {
	runner := newFakeRunner(300 * time.Millisecond)
	rec := newFakeRecorder()
	// A flow runs once at start, then hourly: after the first two results
	// every run is RunNow's.
	a, _, _ := startAgent(t, rec.wire(Options{Runner: runner, Splay: -1, MaxConcurrency: 1}),
		fileResult("f.yaml", testFlow(t, "checkout", "@every 1h", "desktop", "mobile")))
	waitFor(t, 5*time.Second, "the first scheduled runs", func() bool {
		rs, _, _ := rec.snapshot()
		a.mu.Lock()
		e := a.entries["checkout"]
		a.mu.Unlock()
		return len(rs) == 2 && !e.running.Load()
	})
	rec.mu.Lock()
	rec.results = nil
	rec.mu.Unlock()

	ids, err := a.RunNow("checkout", "")
	if err != nil || len(ids) != 2 || ids[0] == ids[1] {
		t.Fatalf("RunNow = %q, %v; want two ids", ids, err)
	}
	if _, err := a.RunNow("checkout", ""); !errors.Is(err, ErrFlowRunning) {
		t.Errorf("RunNow while running: err %v, want ErrFlowRunning", err)
	}
	for _, c := range []struct{ flow, device string }{{"nope", ""}, {"checkout", "tablet"}} {
		if _, err := a.RunNow(c.flow, c.device); !errors.Is(err, ErrUnknownFlow) {
			t.Errorf("RunNow(%q, %q): err %v, want ErrUnknownFlow", c.flow, c.device, err)
		}
	}
	waitFor(t, 5*time.Second, "both results", func() bool {
		rs, _, _ := rec.snapshot()
		return len(rs) == 2
	})
	rs, _, _ := rec.snapshot()
	got := []string{rs[0].ID, rs[1].ID}
	slices.Sort(got)
	want := slices.Clone(ids)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("results have ids %q, RunNow promised %q", got, want)
	}
	// The same concurrency limit as scheduled runs.
	if m := runner.max.Load(); m != 1 {
		t.Errorf("%d runs at once, limit 1", m)
	}

	waitFor(t, 5*time.Second, "the flow to be free", func() bool {
		ids, err = a.RunNow("checkout", "mobile")
		return err == nil
	})
	if len(ids) != 1 {
		t.Errorf("RunNow on mobile: ids %q, want one", ids)
	}
}

// historyProbe is a History that checks, as each run arrives, that nothing
// else has seen it yet.
type historyProbe struct {
	a   *Agent
	rec *fakeRecorder

	mu   sync.Mutex
	seen []string
	errs []string
}

func (h *historyProbe) Export(_ context.Context, r *result.Result) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.ID == "" {
		h.errs = append(h.errs, "a run without an id")
	}
	for _, l := range h.a.Results() {
		if l.ID == r.ID {
			h.errs = append(h.errs, "the latest results showed run "+r.ID+" before the history had it")
		}
	}
	rs, _, _ := h.rec.snapshot()
	for _, o := range rs {
		if o.ID == r.ID {
			h.errs = append(h.errs, "an exporter had run "+r.ID+" before the history")
		}
	}
	h.seen = append(h.seen, r.ID)
	return nil
}

func TestHistoryBeforeEverythingElse(t *testing.T) {
	runner := newFakeRunner(10 * time.Millisecond)
	rec := newFakeRecorder()
	h := &historyProbe{rec: rec}
	a, err := New(rec.wire(Options{Runner: runner, Splay: -1, History: h}))
	if err != nil {
		t.Fatal(err)
	}
	h.a = a
	if err := a.Apply([]scenarios.FileResult{fileResult("f.yaml", testFlow(t, "search", "@every 1s", "desktop", "mobile"))}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	waitFor(t, 10*time.Second, "four runs exported", func() bool {
		rs, _, _ := rec.snapshot()
		return len(rs) >= 4
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range h.errs {
		t.Error(e)
	}
	rs, _, _ := rec.snapshot()
	for _, r := range rs {
		if !slices.Contains(h.seen, r.ID) {
			t.Errorf("run %s reached the exporters but not the history", r.ID)
		}
	}
}
