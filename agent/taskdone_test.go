package agent

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/uxprobe/uxprobe/agent/browser"
	"github.com/uxprobe/uxprobe/agent/internal/testpages"
	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/agent/runner"
	"github.com/uxprobe/uxprobe/scenarios"
)

// TestNextRunStartsDuringTheFinalRead: with one run at a time, in check
// and in the agent, the next run starts while the last one's final read waits for its page (an image
// that comes 1.5 s after the load), not after it; a run with finally
// steps, which work after the read, holds its slot to the end.
func TestNextRunStartsDuringTheFinalRead(t *testing.T) {
	t.Parallel()
	// Long enough that a second run slowed by a loaded machine still
	// begins well within the first's read.
	const late = 1500 * time.Millisecond
	var mu sync.Mutex
	opened := map[string]time.Time{} // flow -> when its page was asked for
	// The page, counting when each run asked for it (its query names the run).
	site := testpages.LateImage(late)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if f := r.URL.Query().Get("f"); r.URL.Path == "/" && opened[f].IsZero() {
			opened[f] = time.Now()
		}
		mu.Unlock()
		site.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	b, err := browser.Start(browser.Options{NoSandbox: os.Geteuid() == 0, WarmTabs: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	r := &runner.Runner{Browser: b}
	d, _ := scenarios.LookupDevice("desktop")

	for _, tt := range []struct {
		name, finally string
		overlap       bool
	}{
		{"plain", "", true},
		{"finally", "finally:\n  - sleep: 10ms\n", false},
	} {
		// One run at a time in check (RunOnce) and in the agent (its
		// --browser.max-concurrency).
		for _, via := range []string{"check", "agent"} {
			t.Run(via+"/"+tt.name, func(t *testing.T) {
				name := func(n string) string { return via + "-" + tt.name + "-" + n }
				var flows []*scenarios.Flow
				for _, n := range []string{"a", "b"} {
					fs, err := scenarios.Parse(n+".yaml", []byte("name: "+name(n)+"\nschedule: \"@every 1h\"\nsteps:\n  - goto: "+srv.URL+"/?f="+name(n)+"\n"+tt.finally), scenarios.LoadOptions{})
					if err != nil {
						t.Fatal(err)
					}
					flows = append(flows, fs[0])
				}
				// When each run returned, before its slot is given back.
				ended := map[string]time.Time{}
				timed := runnerFunc(func(ctx context.Context, f *scenarios.Flow, d scenarios.Device) *result.Result {
					res := r.Run(ctx, f, d)
					mu.Lock()
					ended[f.Name] = time.Now()
					mu.Unlock()
					if !res.Success {
						t.Errorf("%s failed: %+v", f.Name, res.Error)
					}
					return res
				})
				if via == "check" {
					if _, err := RunOnce(context.Background(), timed, []Job{{flows[0], d}, {flows[1], d}}, OnceOptions{Parallel: 1}); err != nil {
						t.Fatal(err)
					}
				} else {
					// Each flow runs once as the agent starts, both due at once.
					startAgent(t, Options{Runner: timed, Splay: -1, MaxConcurrency: 1}, fileResult("f.yaml", flows...))
					waitFor(t, 30*time.Second, "both runs", func() bool {
						mu.Lock()
						defer mu.Unlock()
						return !ended[name("a")].IsZero() && !ended[name("b")].IsZero()
					})
				}
				mu.Lock()
				defer mu.Unlock()
				first, second := name("a"), name("b")
				if opened[second].Before(opened[first]) {
					first, second = second, first
				}
				// The second page was asked for while the first run's read
				// waited out most of the late image, or only after it ended.
				gap := ended[first].Sub(opened[second])
				switch {
				case tt.overlap && gap < late/3:
					t.Errorf("the second run began %v before the first ended, want it to begin during the first's final read (%v)", gap, late)
				case !tt.overlap && gap > 0:
					t.Errorf("the second run began %v before the first ended, want after: its finally steps hold the slot", gap)
				}
			})
		}
	}
}

// runnerFunc is a Runner of a func.
type runnerFunc func(ctx context.Context, f *scenarios.Flow, d scenarios.Device) *result.Result

func (fn runnerFunc) Run(ctx context.Context, f *scenarios.Flow, d scenarios.Device) *result.Result {
	return fn(ctx, f, d)
}
