package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/uxprobe/uxprobe/agent/pgtest"
)

// TestRunFleetLocations: two agents over one PostgreSQL, in eu and us.
// Every run says where it ran and on which agent, both agents' histories
// show both, and run-now with ?location= on the eu agent runs in us.
func TestRunFleetLocations(t *testing.T) {
	url := pgtest.URL(t)
	dir := t.TempDir()
	agentTestWrite(t, filepath.Join(dir, "a.yaml"), agentTestFlow("a", "@every 1h", "http://127.0.0.1:1/"))
	start := func(loc, name string) *agentProc {
		return startAgentCmd(t, fakeStarter(&agentTestRunner{delay: time.Millisecond}), "run", "--schedule.splay=0",
			"--storage.url="+url, "--location="+loc, "--agent.name="+name, dir)
	}
	eu, us := start("eu", "eu-1"), start("us", "us-1")
	runs := func(p *agentProc) map[string][2]string { // id → location, agent
		code, body := p.get(t, http.MethodGet, "/api/v1/runs?flow=a")
		out := map[string][2]string{}
		if code != http.StatusOK {
			return out
		}
		var rs runsJSON
		if err := json.Unmarshal([]byte(body), &rs); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		for _, r := range rs {
			out[r.ID] = [2]string{r.Result.Location, r.Result.Agent}
		}
		return out
	}
	// The first run of each, in its own location; both histories show both.
	waitUntil(t, "a run in each location", func() bool {
		got := runs(eu)
		seen := map[[2]string]bool{}
		for _, v := range got {
			seen[v] = true
		}
		return len(got) == 2 && seen[[2]string{"eu", "eu-1"}] && seen[[2]string{"us", "us-1"}] && len(runs(us)) == 2
	})

	tests := []struct {
		name, query string
		status      int
		where       [2]string // where the run goes, if accepted
	}{
		{"another location", "?location=us", http.StatusAccepted, [2]string{"us", "us-1"}},
		{"its own location", "?location=eu", http.StatusAccepted, [2]string{"eu", "eu-1"}},
		{"no location: its own", "", http.StatusAccepted, [2]string{"eu", "eu-1"}},
		{"a location with no agent", "?location=mars", http.StatusNotFound, [2]string{}},
		{"not a location", "?location=Mars!", http.StatusNotFound, [2]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var code int
			var body string
			// The previous run may still be finishing: 409 until then.
			waitUntil(t, "run-now answered", func() bool {
				code, body = eu.get(t, http.MethodPost, "/api/v1/flows/a/run"+tt.query)
				return code != http.StatusConflict
			})
			if code != tt.status {
				t.Fatalf("HTTP %d %s, want %d", code, body, tt.status)
			}
			if code != http.StatusAccepted {
				return
			}
			var answer struct{ IDs []string }
			if err := json.Unmarshal([]byte(body), &answer); err != nil || len(answer.IDs) != 1 {
				t.Fatalf("answer %s: %v", body, err)
			}
			waitUntil(t, "the requested run in the history", func() bool {
				_, ok := runs(eu)[answer.IDs[0]]
				return ok
			})
			if got := runs(us)[answer.IDs[0]]; got != tt.where {
				t.Errorf("the run went to %q, want %q", got, tt.where)
			}
		})
	}
}

func TestRunLocationFlag(t *testing.T) {
	dir := t.TempDir()
	for _, loc := range []string{"EU", "eu west", "eu_west", strings.Repeat("x", 64)} {
		var stderr agentTestBuffer
		env := &environment{stdout: io.Discard, stderr: &stderr, lookupEnv: func(string) (string, bool) { return "", false },
			startRunner: fakeStarter(&agentTestRunner{delay: time.Millisecond})}
		if code := run(context.Background(), env, []string{"run", "--location=" + loc, dir}); code != exitUsage {
			t.Errorf("--location=%q: exit code %d, want %d", loc, code, exitUsage)
		}
		if !strings.Contains(stderr.String(), "--location") {
			t.Errorf("--location=%q: stderr lacks the flag:\n%s", loc, stderr.String())
		}
	}
}
