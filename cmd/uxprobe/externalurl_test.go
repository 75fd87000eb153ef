package main

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRunExternalURL runs the agent behind --web.external-url with a path:
// every endpoint answers under the path and nowhere else, the root
// redirects there, and uxprobe_agent_info carries the URL alerts link to.
// Without the flag the URL is the listener's.
func TestRunExternalURL(t *testing.T) {
	dir := t.TempDir()
	agentTestWrite(t, filepath.Join(dir, "a.yaml"), agentTestFlow("a", "@every 1h", "http://127.0.0.1:1/"))
	p := startAgentCmd(t, fakeStarter(&agentTestRunner{delay: time.Millisecond, started: make(chan string, 10)}),
		"run", "--schedule.splay=0", "--web.external-url=https://uxprobe.example.com/probe/", dir)
	if !strings.HasSuffix(p.url, "/probe") {
		t.Fatalf("agent URL %s lacks the prefix", p.url)
	}
	root := strings.TrimSuffix(p.url, "/probe")
	waitUntil(t, "the first result", func() bool {
		_, body := p.get(t, http.MethodGet, "/api/v1/results")
		return strings.Contains(body, `"flow": "a"`)
	})
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	tests := []struct {
		method, url string
		code        int
		want        string // in the body, or the Location of a redirect
	}{
		{"GET", p.url + "/metrics", 200, `uxprobe_agent_info{external_url="https://uxprobe.example.com/probe"} 1`},
		{"GET", p.url + "/-/healthy", 200, "OK"},
		{"GET", p.url + "/-/ready", 200, "OK"},
		{"POST", p.url + "/-/reload", 200, "OK"},
		{"GET", p.url + "/api/v1/runs?flow=a", 200, `"flow": "a"`},
		// The API's URLs lead under the prefix.
		{"POST", p.url + "/api/v1/flows/a/run", 202, `"/probe/api/v1/runs/`},
		{"GET", p.url + "/", 200, `href="./flows/a"`},
		// The route is there: the 404 is the page's own word on the flow.
		{"GET", p.url + "/flows/a/failure.png?device=desktop", 404, "succeeded"},
		{"GET", p.url, 302, "/probe/"},
		{"GET", root + "/", 302, "/probe/"},
		{"GET", root + "/metrics", 404, ""},
		{"GET", root + "/-/ready", 404, ""},
		{"GET", root + "/probex/metrics", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+strings.TrimPrefix(tt.url, root), func(t *testing.T) {
			req, err := http.NewRequest(tt.method, tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.code {
				t.Fatalf("HTTP %d, want %d: %s", resp.StatusCode, tt.code, body)
			}
			got := string(body)
			if tt.code == 302 {
				got = resp.Header.Get("Location")
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want %q in it", got, tt.want)
			}
		})
	}

	t.Run("default: the listener's URL", func(t *testing.T) {
		q := startAgentCmd(t, fakeStarter(&agentTestRunner{delay: time.Millisecond, started: make(chan string, 10)}), "run", dir)
		_, metrics := q.get(t, http.MethodGet, "/metrics")
		if want := `uxprobe_agent_info{external_url="` + q.url + `"} 1`; !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	})
}
