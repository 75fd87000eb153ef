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

// TestNextRunStartsDuringTheFinalRead: with one run at a time, the next
// run starts while the last one's final read waits for its page (an image
// that comes 1.5 s after the load), not after it; a run with finally
// steps, which work after the read, holds its slot to the end.
func TestNextRunStartsDuringTheFinalRead(t *testing.T) {
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
		t.Run(tt.name, func(t *testing.T) {
			var jobs []Job
			for _, name := range []string{"a", "b"} {
				fs, err := scenarios.Parse(name+".yaml", []byte("name: "+tt.name+"-"+name+"\nsteps:\n  - goto: "+srv.URL+"/?f="+tt.name+"-"+name+"\n"+tt.finally), scenarios.LoadOptions{})
				if err != nil {
					t.Fatal(err)
				}
				jobs = append(jobs, Job{Flow: fs[0], Device: d})
			}
			ended := map[string]time.Time{}
			results, err := RunOnce(context.Background(), r, jobs, OnceOptions{Parallel: 1, Done: func(res *result.Result) {
				mu.Lock()
				ended[res.Flow] = time.Now()
				mu.Unlock()
			}})
			if err != nil {
				t.Fatal(err)
			}
			for _, res := range results {
				if !res.Success {
					t.Fatalf("%s failed: %+v", res.Flow, res.Error)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			first, second := tt.name+"-a", tt.name+"-b"
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
