package agent

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"

	"github.com/uxprobe/uxprobe/agent/browser"
	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/agent/runner"
	promexp "github.com/uxprobe/uxprobe/exporters/prometheus"
	"github.com/uxprobe/uxprobe/scenarios"
)

// userDataDir returns the --user-data-dir of a process, which Chrome passes
// to all its children and which is unique per Chrome started by chromedp.
func userDataDir(pid int) string {
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return ""
	}
	for arg := range bytes.SplitSeq(cmdline, []byte{0}) {
		if dir, ok := strings.CutPrefix(string(arg), "--user-data-dir="); ok {
			return dir
		}
	}
	return ""
}

// processesUsing counts the live processes started with the user data dir.
func processesUsing(dir string) int {
	entries, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if stat, err := os.ReadFile("/proc/" + e.Name() + "/stat"); err == nil {
			// A zombie has exited; only its parent's wait is missing.
			if i := bytes.LastIndexByte(stat, ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
				continue
			}
		}
		if userDataDir(pid) == dir {
			n++
		}
	}
	return n
}

// TestChromeCrashDoesNotStopTheAgent kills Chrome in the middle of a run:
// that run is an error of kind browser, the browser is restarted once, the
// next run succeeds, and no Chrome process outlives Close.
func TestChromeCrashDoesNotStopTheAgent(t *testing.T) {
	pageHit := make(chan struct{}, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/page" {
			select {
			case pageHit <- struct{}{}:
			default:
			}
		}
		fmt.Fprint(w, `<!doctype html><title>ok</title><h1 id="done">Done</h1>`)
	}))
	defer srv.Close()

	store := NewStore()
	exp := promexp.NewCollector(store)
	reg := prom.NewRegistry()
	reg.MustRegister(exp)
	// Chrome starts before the agent that counts its restarts; a restart
	// comes only after the crash below, when the agent exists.
	var agentRef atomic.Pointer[Agent]
	b, err := browser.Start(browser.Options{NoSandbox: os.Geteuid() == 0, OnRestart: func() { agentRef.Load().BrowserRestarted() }})
	if err != nil {
		t.Fatalf("this test needs Chrome: %v", err)
	}
	closed := false
	defer func() {
		if !closed {
			b.Close()
		}
	}()
	dirs := []string{userDataDir(b.PID())}
	if dirs[0] == "" {
		t.Fatal("cannot read Chrome's --user-data-dir")
	}

	// Chrome is killed during the sleep step, after the page loaded: killed
	// during the navigation itself, the runner currently reports a timeout
	// (see the report of this change).
	src := fmt.Sprintf("name: crash\nschedule: \"@every 1s\"\ntimeout: 20s\ndevices: [desktop]\nsteps:\n"+
		"  - goto: %s/page\n  - wait_for: \"#done\"\n  - sleep: 3s\n", srv.URL)
	flows, err := scenarios.Parse("crash.yaml", []byte(src), scenarios.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recordingExporter{results: make(chan *result.Result, 10)}
	r := &runner.Runner{Browser: b}
	a, cancel, done := startAgent(t, Options{Runner: r, Exporters: []Exporter{exp, rec}, Store: store, Registerer: reg,
		Splay: -1, MaxConcurrency: 1, ShutdownTimeout: 5 * time.Second},
		fileResult("crash.yaml", flows...))
	agentRef.Store(a)

	select {
	case <-pageHit:
	case <-time.After(30 * time.Second):
		t.Fatal("the first run never opened the page")
	}
	time.Sleep(time.Second) // into the 3s sleep step
	pid := b.PID()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("killing Chrome %d: %v", pid, err)
	}

	first := next(t, rec.results)
	if first.Outcome() != result.OutcomeError || first.Error == nil || first.Error.Kind != scenarios.KindBrowser {
		t.Fatalf("the run during the crash: outcome %s, error %+v; want error of kind browser", first.Outcome(), first.Error)
	}
	second := next(t, rec.results)
	if !second.Success {
		t.Fatalf("the run after the restart failed: %+v", second.Error)
	}
	if d := userDataDir(b.PID()); d != "" {
		dirs = append(dirs, d)
	}

	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	restarts := -1.0
	for _, mf := range fams {
		if mf.GetName() == MetricBrowserRestarts {
			restarts = mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	if restarts != 1 {
		t.Errorf("%s = %v, want 1", MetricBrowserRestarts, restarts)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	closed = true
	if err := b.Close(); err != nil {
		t.Errorf("closing Chrome: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, dir := range dirs {
		for processesUsing(dir) > 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%d Chrome processes of %s still alive after Close", processesUsing(dir), dir)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// recordingExporter passes results to the test.
type recordingExporter struct {
	results chan *result.Result
}

func (r *recordingExporter) Export(_ context.Context, res *result.Result) error {
	select {
	case r.results <- res:
	default:
	}
	return nil
}

func next(t *testing.T, ch <-chan *result.Result) *result.Result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(60 * time.Second):
		t.Fatal("no run was recorded within 60s")
		return nil
	}
}
