package agent

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/uxprobe/uxprobe/agent/browser"
	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/agent/runner"
	"github.com/uxprobe/uxprobe/scenarios"
)

// TestShutdownTimeoutBoundsFinallySteps stops the agent while a run hangs
// in a finally step, on a server that never answers: the shutdown timeout
// holds for the clean-up too, so the agent stops within it, and the run is
// recorded, as cancelled.
func TestShutdownTimeoutBoundsFinallySteps(t *testing.T) {
	cleanupHit := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/cleanup" {
			select {
			case cleanupHit <- struct{}{}:
			default:
			}
			select {
			case <-r.Context().Done():
			case <-time.After(time.Minute):
			}
			return
		}
		fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><title>ok</title><h1>ok</h1>`)
	}))
	defer srv.Close()
	b, err := browser.Start(browser.Options{NoSandbox: os.Geteuid() == 0, WarmTabs: 1})
	if err != nil {
		t.Fatalf("this test needs Chrome: %v", err)
	}
	src := fmt.Sprintf("name: cleanup\nschedule: \"@every 1h\"\ntimeout: 1m\nsteps:\n  - goto: %[1]s/\nfinally:\n  - goto: %[1]s/cleanup\n    timeout: 2m\n", srv.URL)
	flows, err := scenarios.Parse("cleanup.yaml", []byte(src), scenarios.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recordingExporter{results: make(chan *result.Result, 1)}
	const timeout = 2 * time.Second
	r := &runner.Runner{Browser: b}
	_, cancel, done := startAgent(t, Options{Runner: r, Exporters: []Exporter{rec}, Splay: -1, ShutdownTimeout: timeout},
		fileResult("cleanup.yaml", flows...))
	select {
	case <-cleanupHit:
	case <-time.After(30 * time.Second):
		t.Fatal("the run never reached its finally step")
	}
	stopped := time.Now()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err) // before the fix: the run did not stop within 10s of being cancelled
	}
	took := time.Since(stopped)
	if err := b.Close(); err != nil {
		t.Errorf("closing Chrome: %v", err)
	}
	// The slack is for a loaded machine; the bug overran by minutes.
	if took > timeout+time.Second {
		t.Errorf("shutdown took %s, --shutdown.timeout is %s", took.Round(time.Millisecond), timeout)
	}
	res := next(t, rec.results)
	if res.Error == nil || res.Error.Kind != scenarios.KindCancelled || res.Outcome() != result.OutcomeError {
		t.Fatalf("run recorded as %+v (outcome %s), want kind cancelled", res.Error, res.Outcome())
	}
	if len(res.Steps) != 2 || !res.Steps[0].Success || !res.Steps[1].Cleanup || res.Steps[1].Success || res.Error.Step != res.Steps[1].Name {
		t.Errorf("steps %+v, error %+v: want the task's step done and the cleanup step cancelled", res.Steps, res.Error)
	}
}
