package agent

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

func TestSelectJobs(t *testing.T) {
	flows := []*scenarios.Flow{
		testFlow(t, "checkout", "@every 1m", "desktop", "mobile"),
		testFlow(t, "search", "@every 1m", "desktop", "iPad Mini"),
	}
	tests := []struct {
		name             string
		flowNames, names []string
		want             string // flow/device jobs in order, or the error
	}{
		{"everything in load order", nil, nil, "checkout/desktop checkout/mobile search/desktop search/iPad Mini"},
		{"a flow", []string{"search"}, nil, "search/desktop search/iPad Mini"},
		{"a device class", nil, []string{"tablet"}, "search/iPad Mini"},
		{"a device name in another case", nil, []string{"MOBILE"}, "checkout/mobile"},
		{"unknown flow", []string{"nosuch"}, nil, `--flow "nosuch" matches no loaded flow`},
		{"device not in the selected flows", []string{"checkout"}, []string{"tablet"}, `--device "tablet" matches no device of the selected flows`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jobs, err := SelectJobs(flows, tt.flowNames, tt.names)
			var got []string
			for _, j := range jobs {
				got = append(got, j.Flow.Name+"/"+j.Device.Name)
			}
			s := strings.Join(got, " ")
			if err != nil {
				s = err.Error()
			}
			if s != tt.want {
				t.Errorf("got %q, want %q", s, tt.want)
			}
		})
	}
}

// orderExporter records the order of the results it is given.
type orderExporter struct {
	mu   sync.Mutex
	seen []string
	fail bool
}

func (e *orderExporter) Export(_ context.Context, r *result.Result) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.seen = append(e.seen, r.Flow+"/"+r.Device)
	if e.fail {
		return fmt.Errorf("cannot write %s", r.Flow)
	}
	return nil
}

func TestRunOnce(t *testing.T) {
	var flows []*scenarios.Flow
	for i := range 4 {
		flows = append(flows, testFlow(t, fmt.Sprintf("f%d", i), "@every 1h", "desktop", "mobile"))
	}
	jobs, err := SelectJobs(flows, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	const parallel = 3
	runner := newFakeRunner(50 * time.Millisecond)
	runner.fail = func(f *scenarios.Flow, d scenarios.Device) bool { return f.Name == "f2" && d.Name == "mobile" }
	good, bad := &orderExporter{}, &orderExporter{fail: true}
	var doneMu sync.Mutex
	done := 0
	// Started hears each start with the jobs left to start, down to 0;
	// when none is left, at most parallel-1 runs have ended (the last one
	// took a free slot).
	var left []int
	doneAtLast := -1
	results, err := RunOnce(context.Background(), runner, jobs, OnceOptions{
		Parallel:  parallel,
		Exporters: []Exporter{bad, good},
		Done: func(*result.Result) {
			doneMu.Lock()
			done++
			doneMu.Unlock()
		},
		Started: func(n int) {
			doneMu.Lock()
			left = append(left, n)
			if n == 0 {
				doneAtLast = done
			}
			doneMu.Unlock()
		},
	})
	slices.Sort(left)
	if len(left) != len(jobs) || left[0] != 0 || left[len(left)-1] != len(jobs)-1 || doneAtLast < len(jobs)-parallel || doneAtLast > len(jobs)-1 {
		t.Errorf("Started heard %v, %d runs done at the last; want each of 0..%d once, with %d to %d done at 0", left, doneAtLast, len(jobs)-1, len(jobs)-parallel, len(jobs)-1)
	}
	var want []string
	for _, j := range jobs {
		want = append(want, j.Flow.Name+"/"+j.Device.Name)
	}
	var got []string
	for _, r := range results {
		got = append(got, r.Flow+"/"+r.Device)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("results %v, want the jobs' order %v", got, want)
	}
	if fmt.Sprint(good.seen) != fmt.Sprint(want) {
		t.Errorf("exported %v, want the jobs' order %v", good.seen, want)
	}
	if len(bad.seen) != len(jobs) {
		t.Errorf("the failing exporter got %d results, want all %d", len(bad.seen), len(jobs))
	}
	// One error per failing exporter, its first.
	if err == nil || !strings.Contains(err.Error(), "cannot write f0") || strings.Contains(err.Error(), "f1") {
		t.Errorf("error %v, want only the failing exporter's first error", err)
	}
	if m := runner.max.Load(); m != parallel {
		t.Errorf("at most %d runs at once, want the limit %d", m, parallel)
	}
	if done != len(jobs) {
		t.Errorf("Done heard %d runs, want %d", done, len(jobs))
	}
	if results[5].Success || results[5].Error == nil {
		t.Errorf("f2/mobile should have failed: %+v", results[5])
	}
}

// TestRunOnceCancelled: a cancelled check still gives every job a result
// (cancelled), and the reports still get them.
func TestRunOnceCancelled(t *testing.T) {
	jobs, err := SelectJobs([]*scenarios.Flow{testFlow(t, "slow", "@every 1h", "desktop", "mobile")}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	runner := newFakeRunner(time.Hour)
	runner.started = make(chan string, 2)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-runner.started
		cancel()
	}()
	exp := &orderExporter{}
	results, err := RunOnce(ctx, runner, jobs, OnceOptions{Parallel: 1, Exporters: []Exporter{exp}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Outcome() != result.OutcomeError || r.Error.Kind != scenarios.KindCancelled {
			t.Errorf("%s/%s: outcome %s, want a cancelled error run", r.Flow, r.Device, r.Outcome())
		}
	}
	if len(exp.seen) != 2 {
		t.Errorf("exported %d results, want 2", len(exp.seen))
	}
}
