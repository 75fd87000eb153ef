package runner

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/uxprobe/uxprobe/scenarios"
)

// TestRedirectLoopAfterTheLastStepFailsTheRun: a page that keeps
// navigating after the flow's last step went through is bounded like one
// that loops within a step: the final read of the last page counts
// against the last step's cap, and the run fails instead of succeeding
// after a hundred navigations.
func TestRedirectLoopAfterTheLastStepFailsTheRun(t *testing.T) {
	// Not parallel with the other tests: its loop keeps a renderer busy,
	// which would slow the pages whose timings other tests check.
	mux := http.NewServeMux()
	page := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,">`+body)
		}
	}
	// The first load completes the goto; the refresh comes after it.
	mux.HandleFunc("/meta-loop", page(`<title>Loop</title><meta http-equiv="refresh" content="0;url=/meta-loop?again"><h1>again</h1>`))
	// A dashboard that refreshes itself every second is no loop.
	mux.HandleFunc("/dashboard", page(`<title>Dashboard</title><meta http-equiv="refresh" content="1"><h1>status</h1>`))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Run("dashboard", func(t *testing.T) {
		t.Parallel()
		f := mustFlow(t, "name: dash\ntimeout: 1m\nsteps:\n  - goto: "+srv.URL+"/dashboard\n")
		res := (&Runner{Browser: testBrowser}).Run(context.Background(), f, desktop(t))
		if !res.Success {
			t.Fatalf("a page refreshing every second failed the run: %+v", res.Error)
		}
	})
	for _, path := range []string{"/meta-loop"} {
		t.Run(strings.TrimPrefix(path, "/"), func(t *testing.T) {
			t.Parallel()
			f := mustFlow(t, "name: loop\ntimeout: 1m\nsteps:\n  - goto: "+srv.URL+"/\n    optional: true\n  - goto: "+srv.URL+path+"\n")
			res := (&Runner{Browser: testBrowser}).Run(context.Background(), f, desktop(t))
			if res.Success || res.Error == nil || res.Error.Kind != scenarios.KindNavigation {
				t.Fatalf("success %v, error %+v after %d pages (+%d omitted); want a redirect loop", res.Success, res.Error, len(res.Pages), res.PagesOmitted)
			}
			want := fmt.Sprintf("redirect loop: %d navigations in step 2-goto and the final read of its page", maxNavsPerStep)
			if res.Error.Message != want || res.Error.Step != "2-goto" {
				t.Errorf("error %q at %q, want %q at 2-goto", res.Error.Message, res.Error.Step, want)
			}
			last := res.Steps[len(res.Steps)-1]
			if last.Success || last.Error != res.Error.Message {
				t.Errorf("the last step %+v does not carry the failure", last)
			}
			if n := len(res.Pages) + res.PagesOmitted; n > 2*maxNavsPerStep || len(res.Pages) > maxPages {
				t.Errorf("%d pages: the loop was not cut at its bound", n)
			}
		})
	}
}
