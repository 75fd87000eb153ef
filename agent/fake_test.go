package agent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// fakeRunner stands in for Chrome in the scheduling tests: each run takes
// delay, or ends as cancelled when its context does, like the real runner.
type fakeRunner struct {
	delay time.Duration
	// fail, when set, decides which runs fail.
	fail func(f *scenarios.Flow, d scenarios.Device) bool

	cur, max atomic.Int32
	mu       sync.Mutex
	calls    map[string]int // by "flow/device"
	inFlight map[string]int // by "flow/device", to catch overlaps
	overlaps int
	started  chan string // receives "flow/device" as runs start, if not nil
}

func newFakeRunner(delay time.Duration) *fakeRunner {
	return &fakeRunner{delay: delay, calls: map[string]int{}, inFlight: map[string]int{}}
}

func (r *fakeRunner) Run(ctx context.Context, f *scenarios.Flow, d scenarios.Device) *result.Result {
	key := f.Name + "/" + d.Name
	n := r.cur.Add(1)
	defer r.cur.Add(-1)
	for {
		m := r.max.Load()
		if n <= m || r.max.CompareAndSwap(m, n) {
			break
		}
	}
	r.mu.Lock()
	r.calls[key]++
	r.inFlight[key]++
	if r.inFlight[key] > 1 {
		r.overlaps++
	}
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.inFlight[key]--
		r.mu.Unlock()
	}()
	if r.started != nil {
		select {
		case r.started <- key:
		default:
		}
	}
	start := time.Now()
	res := &result.Result{Flow: f.Name, Device: d.Name, DeviceClass: string(d.Class), StartedAt: start, Attempts: 1,
		Steps: []result.Step{}, Pages: []result.Page{}, ConsoleErrors: []string{}, FailedRequests: []result.FailedRequest{}, Screenshots: []string{}}
	t := time.NewTimer(r.delay)
	defer t.Stop()
	select {
	case <-t.C:
		res.Success = r.fail == nil || !r.fail(f, d)
		if !res.Success {
			res.Error = &result.Error{Step: "1-goto", Kind: scenarios.KindAssertion, Message: "fake failure"}
		}
	case <-ctx.Done():
		res.Error = &result.Error{Step: "1-goto", Kind: scenarios.KindCancelled, Message: "the run was cancelled"}
	}
	res.DurationSeconds = time.Since(start).Seconds()
	return res
}

func (r *fakeRunner) callCount() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for k, v := range r.calls {
		out[k] = v
	}
	return out
}

// fakeRecorder is an exporter that remembers every result it was given, and
// the registry the agent's own metrics are registered on.
type fakeRecorder struct {
	reg     *prom.Registry
	mu      sync.Mutex
	results []*result.Result
}

func newFakeRecorder() *fakeRecorder { return &fakeRecorder{reg: prom.NewRegistry()} }

// wire gives the agent the recorder as its exporter and registry.
func (r *fakeRecorder) wire(o Options) Options {
	o.Exporters = append(o.Exporters, r)
	o.Registerer = r.reg
	return o
}

func (r *fakeRecorder) Export(_ context.Context, res *result.Result) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.results = append(r.results, res)
	return nil
}

// queueWaits is what uxprobe_run_queue_wait_seconds says.
type queueWaits struct {
	count uint64
	// over500ms is how many waits took longer than 500ms.
	over500ms uint64
}

// snapshot returns the results so far, the skip counters by "flow/reason"
// and the queue waits, from the agent's metrics.
func (r *fakeRecorder) snapshot() (results []*result.Result, skipped map[string]int, waits queueWaits) {
	r.mu.Lock()
	results = append([]*result.Result(nil), r.results...)
	r.mu.Unlock()
	skipped = map[string]int{}
	fams, err := r.reg.Gather()
	if err != nil {
		panic(err)
	}
	for _, mf := range fams {
		switch mf.GetName() {
		case MetricRunsSkipped:
			for _, m := range mf.GetMetric() {
				l := map[string]string{}
				for _, lp := range m.GetLabel() {
					l[lp.GetName()] = lp.GetValue()
				}
				if v := int(m.GetCounter().GetValue()); v > 0 {
					skipped[l["flow"]+"/"+l["reason"]] = v
				}
			}
		case MetricRunQueueWait:
			h := mf.GetMetric()[0].GetHistogram()
			waits.count = h.GetSampleCount()
			for _, b := range h.GetBucket() {
				if b.GetUpperBound() == 0.5 {
					waits.over500ms = waits.count - b.GetCumulativeCount()
				}
			}
		}
	}
	return results, skipped, waits
}

// flowYAML is a minimal valid flow file.
func flowYAML(name, schedule string, devices string, url string) string {
	return fmt.Sprintf("name: %s\nschedule: %q\ndevices: [%s]\nsteps:\n  - goto: %s\n", name, schedule, devices, url)
}

// testFlow builds a flow through the real loader, so that tests run what
// users write.
func testFlow(t testing.TB, name, schedule string, devices ...string) *scenarios.Flow {
	t.Helper()
	if len(devices) == 0 {
		devices = []string{"desktop"}
	}
	ds := ""
	for i, d := range devices {
		if i > 0 {
			ds += ", "
		}
		ds += d
	}
	flows, err := scenarios.Parse(name+".yaml", []byte(flowYAML(name, schedule, ds, "http://127.0.0.1:1/")), scenarios.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return flows[0]
}

func fileResult(path string, flows ...*scenarios.Flow) scenarios.FileResult {
	return scenarios.FileResult{Path: path, Flows: flows}
}

// startAgent runs an agent until the test ends.
func startAgent(t testing.TB, opts Options, files ...scenarios.FileResult) (*Agent, context.CancelFunc, <-chan error) {
	t.Helper()
	a, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) > 0 {
		if err := a.Apply(files); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	stopped := make(chan struct{})
	go func() {
		done <- a.Run(ctx)
		close(stopped)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-stopped:
		case <-time.After(15 * time.Second):
			t.Error("agent did not stop within 15s")
		}
	})
	return a, cancel, done
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
