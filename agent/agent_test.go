package agent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/uxprobe/uxprobe/agent/result"
	promexp "github.com/uxprobe/uxprobe/exporters/prometheus"
	"github.com/uxprobe/uxprobe/scenarios"
)

func TestSplayOffset(t *testing.T) {
	tests := []struct {
		name  string
		flow  string
		splay time.Duration
	}{
		{"one minute", "checkout", time.Minute},
		{"five seconds", "search", 5 * time.Second},
		{"one nanosecond", "x", 1},
		{"no splay", "checkout", 0},
		{"negative splay", "checkout", -time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SplayOffset(tt.flow, tt.splay)
			if again := SplayOffset(tt.flow, tt.splay); again != got {
				t.Fatalf("offset not deterministic: %s then %s", got, again)
			}
			if tt.splay <= 0 {
				if got != 0 {
					t.Fatalf("offset %s with splay %s, want 0", got, tt.splay)
				}
				return
			}
			if got < 0 || got >= tt.splay {
				t.Fatalf("offset %s outside [0, %s)", got, tt.splay)
			}
		})
	}
	t.Run("spread", func(t *testing.T) {
		seen := map[time.Duration]string{}
		buckets := map[int]int{}
		for i := range 100 {
			name := fmt.Sprintf("flow-%d", i)
			off := SplayOffset(name, time.Minute)
			if prev, dup := seen[off]; dup {
				t.Fatalf("%s and %s share the offset %s", prev, name, off)
			}
			seen[off] = name
			buckets[int(off/(10*time.Second))]++
		}
		// 100 flows over six 10s slices: none should be empty or hold half.
		for b := range 6 {
			if n := buckets[b]; n == 0 || n > 50 {
				t.Errorf("slice %d of the minute holds %d of 100 flows: offsets are not spread", b, n)
			}
		}
	})
}

func TestSplayedSchedule(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		spec      string
		splay     time.Duration
		maxOffset time.Duration // the cap: min(splay, period)
	}{
		{"every minute, 1m splay", "@every 1m", time.Minute, time.Minute},
		{"every 10s is capped at 10s", "@every 10s", time.Minute, 10 * time.Second},
		{"cron spec", "*/5 * * * *", time.Minute, time.Minute},
		{"no splay", "@every 1m", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := newSplayedSchedule(tt.spec, "checkout", tt.splay, now)
			if err != nil {
				t.Fatal(err)
			}
			if want := SplayOffset("checkout", tt.maxOffset); s.offset != want {
				t.Fatalf("offset %s, want %s", s.offset, want)
			}
			first := s.Next(now)
			if first != now.Add(s.offset) {
				t.Fatalf("first run at %s, want right after the offset at %s", first, now.Add(s.offset))
			}
			second := s.Next(first)
			inner, _ := scenarios.ParseSchedule(tt.spec)
			if want := inner.Next(first.Add(-s.offset)).Add(s.offset); second != want {
				t.Fatalf("second run at %s, want %s", second, want)
			}
			if !second.After(first) {
				t.Fatalf("second run %s not after the first %s", second, first)
			}
		})
	}
	if _, err := newSplayedSchedule("every minute", "x", time.Minute, now); err == nil {
		t.Error("an invalid schedule gave no error")
	}
}

func TestParseShard(t *testing.T) {
	tests := []struct {
		in      string
		want    Shard
		wantErr bool
	}{
		{"", Shard{}, false},
		{"0/1", Shard{0, 1}, false},
		{"1/2", Shard{1, 2}, false},
		{" 2 / 3 ", Shard{2, 3}, false},
		{"2/2", Shard{}, true},
		{"-1/2", Shard{}, true},
		{"0/0", Shard{}, true},
		{"1", Shard{}, true},
		{"a/b", Shard{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseShard(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseShard(%q) error %v, want error %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("ParseShard(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestShardsPartitionFlows(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			for i := range 200 {
				name := fmt.Sprintf("flow-%d", i)
				owners := 0
				for s := range n {
					if (Shard{s, n}).Owns(name) {
						owners++
					}
				}
				if owners != 1 {
					t.Fatalf("%s is owned by %d of %d shards", name, owners, n)
				}
			}
		})
	}
}

func TestRunsHappen(t *testing.T) {
	runner := newFakeRunner(10 * time.Millisecond)
	rec := newFakeRecorder()
	a, _, _ := startAgent(t, rec.wire(Options{Runner: runner, Splay: -1, MaxConcurrency: 4}),
		fileResult("a.yaml", testFlow(t, "a", "@every 1s", "desktop", "mobile")))
	// The first run comes right after start, the next a second later.
	waitFor(t, 5*time.Second, "two recorded runs on each device", func() bool {
		got, _, _ := rec.snapshot()
		return len(got) >= 4
	})
	results := a.Results()
	if len(results) != 2 || results[0].Device != "desktop" || results[1].Device != "mobile" {
		t.Fatalf("Results() = %v, want the latest of a/desktop and a/mobile", results)
	}
	got, _, waits := rec.snapshot()
	if len(got) < 4 || waits.count < 4 {
		t.Fatalf("recorded %d results and %d queue waits, want at least 4 each", len(got), waits.count)
	}
}

func TestNoOverlap(t *testing.T) {
	// Each run takes 2.5s on a 1s schedule: the ticks in between are
	// skipped and counted, never run alongside.
	runner := newFakeRunner(2500 * time.Millisecond)
	rec := newFakeRecorder()
	startAgent(t, rec.wire(Options{Runner: runner, Splay: -1, MaxConcurrency: 4}),
		fileResult("slow.yaml", testFlow(t, "slow", "@every 1s")))
	waitFor(t, 8*time.Second, "two overlap skips", func() bool {
		_, skipped, _ := rec.snapshot()
		return skipped["slow/overlap"] >= 2
	})
	runner.mu.Lock()
	defer runner.mu.Unlock()
	if runner.overlaps != 0 {
		t.Fatalf("%d runs overlapped a run of the same flow", runner.overlaps)
	}
}

func TestConcurrencyLimit(t *testing.T) {
	const limit = 2
	runner := newFakeRunner(300 * time.Millisecond)
	rec := newFakeRecorder()
	var files []scenarios.FileResult
	for i := range 6 {
		name := fmt.Sprintf("f%d", i)
		files = append(files, fileResult(name+".yaml", testFlow(t, name, "@every 1s")))
	}
	startAgent(t, rec.wire(Options{Runner: runner, Splay: -1, MaxConcurrency: limit}), files...)
	waitFor(t, 5*time.Second, "every flow to run", func() bool {
		return len(runner.callCount()) == 6
	})
	if got := runner.max.Load(); got != limit {
		t.Fatalf("at most %d runs at the same time, want exactly the limit %d", got, limit)
	}
	_, _, waits := rec.snapshot()
	// Six runs of 300ms through two slots: someone waited two runs' time.
	if waits.over500ms == 0 {
		t.Fatalf("no queue wait over 500ms (of %d), want one with 6 runs of 300ms in %d slots", waits.count, limit)
	}
}

func TestShutdown(t *testing.T) {
	tests := []struct {
		name     string
		runTime  time.Duration
		timeout  time.Duration
		wantKind scenarios.ErrorKind // "" for success
	}{
		{"runs in progress finish within the timeout", 300 * time.Millisecond, 5 * time.Second, ""},
		{"runs past the timeout are cancelled", time.Hour, 300 * time.Millisecond, scenarios.KindCancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runner := newFakeRunner(tt.runTime)
			runner.started = make(chan string, 1)
			rec := newFakeRecorder()
			_, cancel, done := startAgent(t, rec.wire(Options{Runner: runner, Splay: -1, ShutdownTimeout: tt.timeout}),
				fileResult("a.yaml", testFlow(t, "a", "@every 1h")))
			select {
			case <-runner.started:
			case <-time.After(5 * time.Second):
				t.Fatal("the first run did not start")
			}
			stopped := time.Now()
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(tt.timeout + 5*time.Second):
				t.Fatal("Run did not return after the shutdown timeout")
			}
			if took := time.Since(stopped); took > tt.timeout+2*time.Second {
				t.Errorf("shutdown took %s, timeout %s", took, tt.timeout)
			}
			results, _, _ := rec.snapshot()
			if len(results) != 1 {
				t.Fatalf("recorded %d results, want 1", len(results))
			}
			r := results[0]
			switch {
			case tt.wantKind == "" && !r.Success:
				t.Fatalf("result %+v, want success", r.Error)
			case tt.wantKind != "" && (r.Error == nil || r.Error.Kind != tt.wantKind || r.Outcome() != result.OutcomeError):
				t.Fatalf("result %+v (outcome %s), want kind %s, outcome error", r.Error, r.Outcome(), tt.wantKind)
			}
		})
	}
}

// scrapeText renders the exporter's metrics in the text format.
func scrapeText(t *testing.T, reg *prom.Registry) string {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, mf := range fams {
		if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
			t.Fatal(err)
		}
	}
	// Round-trip through the parser, as a scrape would.
	p := expfmt.NewTextParser(model.UTF8Validation)
	if _, err := p.TextToMetricFamilies(strings.NewReader(b.String())); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestReload(t *testing.T) {
	dir := t.TempDir()
	pa, pb := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
	writeFile(t, pa, flowYAML("a", "@every 1h", "desktop", "http://127.0.0.1:1/a"))
	writeFile(t, pb, flowYAML("b", "@every 1h", "desktop", "http://127.0.0.1:1/b"))
	load := func() ([]scenarios.FileResult, error) { return scenarios.Load([]string{dir}, scenarios.LoadOptions{}) }

	store := NewStore()
	exp := promexp.NewCollector(store)
	reg := prom.NewRegistry()
	reg.MustRegister(exp)
	runner := newFakeRunner(10 * time.Millisecond)
	a, _, _ := startAgent(t, Options{Runner: runner, Exporters: []Exporter{exp}, Store: store, Registerer: reg, Load: load, Splay: -1})
	if err := a.Reload(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the first runs", func() bool {
		c := runner.callCount()
		return c["a/desktop"] == 1 && c["b/desktop"] == 1
	})
	entryOf := func(name string) *entry {
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.entries[name]
	}
	b0 := entryOf("b")

	type step struct {
		name       string
		change     func()
		wantErr    bool
		wantFlows  []string
		wantURLOfA string
		wantReload string // the value of uxprobe_config_last_reload_successful
		absent     []string
	}
	steps := []step{
		{
			name:       "valid change",
			change:     func() { writeFile(t, pa, flowYAML("a", "@every 1h", "desktop", "http://127.0.0.1:1/a2")) },
			wantFlows:  []string{"a", "b"},
			wantURLOfA: "http://127.0.0.1:1/a2",
			wantReload: "1",
		},
		{
			name:       "invalid file keeps its previous flows",
			change:     func() { writeFile(t, pa, "name: a\nschedule: every minute\nsteps: []\n") },
			wantErr:    true,
			wantFlows:  []string{"a", "b"},
			wantURLOfA: "http://127.0.0.1:1/a2",
			wantReload: "0",
		},
		{
			name: "removed file loses its flows and series",
			change: func() {
				if err := os.Remove(pb); err != nil {
					t.Fatal(err)
				}
			},
			wantErr:    true, // a.yaml is still invalid
			wantFlows:  []string{"a"},
			wantURLOfA: "http://127.0.0.1:1/a2",
			wantReload: "0",
			absent:     []string{`flow="b"`},
		},
		{
			name:       "fixed file",
			change:     func() { writeFile(t, pa, flowYAML("a", "@every 1h", "desktop", "http://127.0.0.1:1/a3")) },
			wantFlows:  []string{"a"},
			wantURLOfA: "http://127.0.0.1:1/a3",
			wantReload: "1",
		},
	}
	for i, st := range steps {
		st.change()
		err := a.Reload()
		if (err != nil) != st.wantErr {
			t.Fatalf("%s: Reload error %v, want error %v", st.name, err, st.wantErr)
		}
		var names []string
		for _, f := range a.Flows() {
			names = append(names, f.Name)
		}
		if fmt.Sprint(names) != fmt.Sprint(st.wantFlows) {
			t.Fatalf("%s: flows %v, want %v", st.name, names, st.wantFlows)
		}
		if got := entryOf("a").flow.Steps[0].Action.(scenarios.Goto).URL; got != st.wantURLOfA {
			t.Fatalf("%s: flow a opens %s, want %s", st.name, got, st.wantURLOfA)
		}
		t.Logf("%s: calls %v", st.name, runner.callCount())
		if i < 2 && entryOf("b") != b0 {
			t.Fatalf("%s: the unchanged flow b was rescheduled", st.name)
		}
		text := scrapeText(t, reg)
		if want := MetricConfigReloadSuccess + " " + st.wantReload; !strings.Contains(text, want) {
			t.Fatalf("%s: metrics lack %q", st.name, want)
		}
		if want := fmt.Sprintf("%s %d", MetricFlowsLoaded, len(st.wantFlows)); !strings.Contains(text, want) {
			t.Fatalf("%s: metrics lack %q", st.name, want)
		}
		for _, s := range st.absent {
			if strings.Contains(text, s) {
				t.Fatalf("%s: metrics still have series with %s", st.name, s)
			}
		}
		for _, r := range a.Results() {
			if r.Flow == "b" && slicesContains(st.absent, `flow="b"`) {
				t.Fatalf("%s: /api/v1/results still has flow b", st.name)
			}
		}
	}
	// The changed flow ran again soon after each change (its first run
	// comes right after it is scheduled).
	waitFor(t, 5*time.Second, "the changed flow a to run again", func() bool {
		return runner.callCount()["a/desktop"] >= 3
	})
	if got := runner.callCount()["b/desktop"]; got != 1 {
		t.Errorf("unchanged flow b ran %d times, want 1 (not rescheduled by reloads)", got)
	}
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestApplyInvalidFileAtStart(t *testing.T) {
	a, err := New(Options{Runner: newFakeRunner(0)})
	if err != nil {
		t.Fatal(err)
	}
	err = a.Apply([]scenarios.FileResult{
		fileResult("ok.yaml", testFlow(t, "ok", "@every 1m")),
		{Path: "bad.yaml", Err: fmt.Errorf("bad.yaml:1:1: broken")},
	})
	if err == nil || !strings.Contains(err.Error(), "bad.yaml") {
		t.Fatalf("Apply error %v, want the invalid file reported", err)
	}
	if fl := a.Flows(); len(fl) != 1 || fl[0].Name != "ok" {
		t.Fatalf("flows %v, want the valid file's flow", fl)
	}
	if !a.Loaded() {
		t.Fatal("Loaded() false after Apply")
	}
}

func TestRemovedFlowRunIsCancelledAndDropped(t *testing.T) {
	runner := newFakeRunner(time.Hour)
	runner.started = make(chan string, 1)
	rec := newFakeRecorder()
	a, _, _ := startAgent(t, rec.wire(Options{Runner: runner, Splay: -1}),
		fileResult("a.yaml", testFlow(t, "a", "@every 1h")))
	select {
	case <-runner.started:
	case <-time.After(5 * time.Second):
		t.Fatal("the run did not start")
	}
	if err := a.Apply(nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the removed flow's run to end", func() bool { return runner.cur.Load() == 0 })
	time.Sleep(50 * time.Millisecond)
	if results, _, _ := rec.snapshot(); len(results) != 0 {
		t.Fatalf("recorded %d results of a removed flow", len(results))
	}
}

func TestTwoShardsRunEachFlowOnce(t *testing.T) {
	var flows []*scenarios.Flow
	for i := range 12 {
		flows = append(flows, testFlow(t, fmt.Sprintf("flow-%d", i), "@every 1h"))
	}
	runners := []*fakeRunner{newFakeRunner(0), newFakeRunner(0)}
	recs := []*fakeRecorder{newFakeRecorder(), newFakeRecorder()}
	for i := range 2 {
		startAgent(t, recs[i].wire(Options{Runner: runners[i], Splay: 200 * time.Millisecond, Shard: Shard{i, 2}}),
			fileResult("flows.yaml", flows...))
	}
	waitFor(t, 5*time.Second, "every flow to run or be skipped", func() bool {
		n := 0
		for i := range 2 {
			_, skipped, _ := recs[i].snapshot()
			n += len(runners[i].callCount()) + len(skipped)
		}
		return n == 2*len(flows)
	})
	time.Sleep(100 * time.Millisecond)
	for _, f := range flows {
		runs, skips := 0, 0
		for i := range 2 {
			runs += runners[i].callCount()[f.Name+"/desktop"]
			_, skipped, _ := recs[i].snapshot()
			skips += skipped[f.Name+"/shard"]
		}
		if runs != 1 || skips != 1 {
			t.Errorf("%s: %d runs and %d shard skips over both agents, want 1 and 1", f.Name, runs, skips)
		}
	}
}

func TestSameFlowIgnoresPositions(t *testing.T) {
	a := testFlow(t, "a", "@every 1m")
	src := "# a comment moves the flow down\n" + flowYAML("a", "@every 1m", "desktop", "http://127.0.0.1:1/")
	moved, err := scenarios.Parse("a.yaml", []byte(src), scenarios.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !sameFlow(a, moved[0]) {
		t.Error("a flow that only moved counts as changed")
	}
	if sameFlow(a, testFlow(t, "a", "@every 2m")) {
		t.Error("a changed schedule counts as unchanged")
	}
	if sameFlow(a, testFlow(t, "a", "@every 1m", "mobile")) {
		t.Error("a changed device counts as unchanged")
	}
}

func TestRunnerPanicIsAnErrorRun(t *testing.T) {
	rec := newFakeRecorder()
	startAgent(t, rec.wire(Options{Runner: panicRunner{}, Splay: -1}),
		fileResult("a.yaml", testFlow(t, "a", "@every 1h")))
	waitFor(t, 5*time.Second, "a recorded result", func() bool {
		r, _, _ := rec.snapshot()
		return len(r) == 1
	})
	r, _, _ := rec.snapshot()
	if r[0].Outcome() != result.OutcomeError {
		t.Fatalf("outcome %s, want error", r[0].Outcome())
	}
}

type panicRunner struct{}

func (panicRunner) Run(context.Context, *scenarios.Flow, scenarios.Device) *result.Result {
	panic("boom")
}

func TestNewValidates(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Error("New without a Runner gave no error")
	}
	if _, err := New(Options{Runner: newFakeRunner(0), Shard: Shard{2, 2}}); err == nil {
		t.Error("New with shard 2/2 gave no error")
	}
	a, _ := New(Options{Runner: newFakeRunner(0)})
	if err := a.Reload(); err == nil {
		t.Error("Reload without Load gave no error")
	}
	_ = context.Background
}

// TestAgentUsesTheLoadersSchedule: the agent schedules with the schedule the
// loader parsed, and does not parse the text again.
func TestAgentUsesTheLoadersSchedule(t *testing.T) {
	f := testFlow(t, "a", "@every 1h")
	f.Schedule = "not a schedule, and never parsed again"
	a, err := New(Options{Runner: newFakeRunner(0)})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Apply([]scenarios.FileResult{fileResult("a.yaml", f)}); err != nil {
		t.Fatalf("Apply parsed the schedule text again: %v", err)
	}
}
