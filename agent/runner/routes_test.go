package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// routeSites are two origins on 127.0.0.1: the shop, whose page loads a
// script of its own and two from the tracker's origin, and the tracker,
// which counts what reaches it. The page shows which scripts ran. Under
// /auth/ the shop asks for basic auth and records the flow's header.
type routeSites struct {
	shop, tracker *httptest.Server

	mu   sync.Mutex
	hits map[string]int    // tracker paths
	seen map[string]string // shop paths: "x=<X-Token> auth=<yes|no>"
}

func newRouteSites(t *testing.T) *routeSites {
	t.Helper()
	s := &routeSites{hits: map[string]int{}, seen: map[string]string{}}
	s.tracker = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		s.mu.Unlock()
		w.Header().Set("Content-Type", "text/javascript")
		switch r.URL.Path {
		case "/tracker.js":
			fmt.Fprint(w, `document.getElementById('tracker').textContent = 'real';`)
		case "/deep/a/b/pixel.js":
			fmt.Fprint(w, `document.getElementById('pixel').textContent = 'real';`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.tracker.Close)
	s.shop = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := strings.TrimPrefix(r.URL.Path, "/auth")
		if path != r.URL.Path {
			u, p, ok := r.BasicAuth()
			s.mu.Lock()
			s.seen[path] = fmt.Sprintf("x=%s auth=%v", r.Header.Get("X-Token"), ok)
			s.mu.Unlock()
			if !ok || u != "ada" || p != "pw-secret" {
				w.Header().Set("WWW-Authenticate", `Basic realm="shop"`)
				http.Error(w, "who are you", http.StatusUnauthorized)
				return
			}
		}
		switch path {
		case "/page":
			fmt.Fprintf(w, `<!doctype html><link rel="icon" href="data:,"><title>shop</title>
<p id="tracker">none</p><p id="pixel">none</p><p id="app">none</p>
<script src="%[1]s/tracker.js"></script>
<script src="%[1]s/deep/a/b/pixel.js"></script>
<script src="app.js"></script>`, s.tracker.URL)
		case "/app.js":
			w.Header().Set("Content-Type", "text/javascript")
			fmt.Fprint(w, `document.getElementById('app').textContent = 'own';`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.shop.Close)
	return s
}

func (s *routeSites) trackerHits(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

func (s *routeSites) shopSaw(path string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen[path]
}

// TestBlockAndMock: blocked requests never leave and count as blocked,
// not failed; mocked ones are answered from the flow (a body, a file
// beside the flow file); the flow's headers and credentials still reach
// the flow's own origin on the same run.
func TestBlockAndMock(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		keys string
		path string // of the page on the shop
		// what the page shows: tracker, pixel, own script
		want        string
		blocked     int
		trackerHits map[string]int
		shopSaw     string // what /auth/app.js saw, for the headers case
	}{
		{name: "nothing blocked", path: "/page", want: "real real own",
			trackerHits: map[string]int{"/tracker.js": 1, "/deep/a/b/pixel.js": 1}},
		{name: "an origin blocked", keys: "block: ['${other}/*']\n", path: "/page", want: "none none own", blocked: 2,
			trackerHits: map[string]int{"/tracker.js": 0, "/deep/a/b/pixel.js": 0}},
		{name: "a star spans slashes", keys: "block: ['*://127.0.0.1:*/*pixel.js']\n", path: "/page", want: "real none own", blocked: 1,
			trackerHits: map[string]int{"/tracker.js": 1, "/deep/a/b/pixel.js": 0}},
		{name: "third-party blocks the other origin, not the own", keys: "block: third-party\n", path: "/page", want: "none none own", blocked: 2,
			trackerHits: map[string]int{"/tracker.js": 0, "/deep/a/b/pixel.js": 0}},
		{name: "a mocked script's body", keys: "mock:\n  - url: '${other}/tracker.js'\n    body: \"document.getElementById('tracker').textContent = 'mocked'\"\n    content_type: text/javascript\n",
			path: "/page", want: "mocked real own", trackerHits: map[string]int{"/tracker.js": 0, "/deep/a/b/pixel.js": 1}},
		{name: "a mocked script from a file", keys: "mock:\n  - url: '*/tracker.js'\n    file: mocks/tracker.js\n",
			path: "/page", want: "from-file real own", trackerHits: map[string]int{"/tracker.js": 0}},
		{name: "block wins over mock", keys: "block: ['*/tracker.js']\nmock:\n  - url: '*/tracker.js'\n    file: mocks/tracker.js\n",
			path: "/page", want: "none real own", blocked: 1, trackerHits: map[string]int{"/tracker.js": 0}},
		{name: "mock, block, headers and credentials together",
			keys: "headers: {X-Token: tok-1}\nhttp_credentials: {username: ada, password: pw-secret}\nblock: ['*pixel.js']\nmock:\n  - url: '${other}/tracker.js'\n    file: mocks/tracker.js\n",
			path: "/auth/page", want: "from-file none own", blocked: 1, trackerHits: map[string]int{"/tracker.js": 0, "/deep/a/b/pixel.js": 0},
			shopSaw: "x=tok-1 auth=true"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newRouteSites(t)
			dir := t.TempDir()
			if err := os.MkdirAll(filepath.Join(dir, "mocks"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "mocks", "tracker.js"), []byte(`document.getElementById('tracker').textContent = 'from-file';`), 0o644); err != nil {
				t.Fatal(err)
			}
			flow := "name: routes\ntimeout: 20s\n" + tc.keys + "steps:\n" + indent(
				"- goto: ${u}"+tc.path+"\n"+
					"- assert_text: {selector: '#app', equals: own}\n"+
					"- eval: \"[...document.querySelectorAll('p')].map(p => p.textContent).join(' ')\"")
			flow = strings.NewReplacer("${u}", s.shop.URL, "${other}", s.tracker.URL).Replace(flow)
			path := filepath.Join(dir, "flow.yaml")
			if err := os.WriteFile(path, []byte(flow), 0o644); err != nil {
				t.Fatal(err)
			}
			files, err := scenarios.Load([]string{path}, scenarios.LoadOptions{LookupEnv: func(string) (string, bool) { return "", false }})
			if err != nil || files[0].Err != nil {
				t.Fatalf("flow does not load: %v %v", err, files[0].Err)
			}
			artifacts := t.TempDir()
			res := (&Runner{Browser: testBrowser, ArtifactsDir: artifacts, HAR: HARAlways}).Run(context.Background(), files[0].Flows[0], desktop(t))
			checkOutcome(t, res, "", "")
			if got := res.Steps[2].Value; got != `"`+tc.want+`"` {
				t.Errorf("the page shows %s, want %q", got, tc.want)
			}
			if res.BlockedRequests != tc.blocked {
				t.Errorf("blocked_requests = %d, want %d", res.BlockedRequests, tc.blocked)
			}
			if len(res.FailedRequests) != 0 {
				t.Errorf("failed_requests = %+v, want none: a blocked request is no failure", res.FailedRequests)
			}
			for p, n := range tc.trackerHits {
				if got := s.trackerHits(p); got != n {
					t.Errorf("the tracker got %s %d times, want %d", p, got, n)
				}
			}
			if tc.shopSaw != "" {
				if got := s.shopSaw("/app.js"); got != tc.shopSaw {
					t.Errorf("the shop's own script request had %q, want %q", got, tc.shopSaw)
				}
			}
			checkBlockedHAR(t, res, tc.blocked)
		})
	}
}

// checkBlockedHAR: the HAR lists a blocked request with status 0,
// Chrome's net::ERR_BLOCKED_BY_CLIENT(.Inspector) and _blocked_by_flow, and no other
// entry has a status of 0.
func checkBlockedHAR(t *testing.T, res *result.Result, want int) {
	t.Helper()
	data, err := os.ReadFile(res.HAR)
	if err != nil {
		t.Fatalf("no HAR: %v", err)
	}
	var doc struct {
		Log struct {
			Entries []struct {
				Request struct {
					URL string `json:"url"`
				} `json:"request"`
				Response struct {
					Status     int    `json:"status"`
					StatusText string `json:"statusText"`
				} `json:"response"`
				Blocked bool `json:"_blocked_by_flow"`
			} `json:"entries"`
		} `json:"log"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range doc.Log.Entries {
		switch {
		case e.Blocked:
			n++
			if e.Response.Status != 0 || !strings.HasPrefix(e.Response.StatusText, "net::ERR_BLOCKED_BY_CLIENT") {
				t.Errorf("blocked HAR entry %s: status %d %q", e.Request.URL, e.Response.Status, e.Response.StatusText)
			}
		case e.Response.Status == 0:
			t.Errorf("HAR entry %s failed: %q", e.Request.URL, e.Response.StatusText)
		}
	}
	if n != want {
		t.Errorf("HAR has %d blocked entries, want %d", n, want)
	}
}

// TestBlockedPageFails: a flow that blocks its own page fails its goto as
// navigation, since the user sees no page; the block is still counted.
func TestBlockedPageFails(t *testing.T) {
	t.Parallel()
	s := newRouteSites(t)
	res := runSteps(t, s.shop.URL, "block: ['*/page']\n", "- goto: ${u}/page")
	checkOutcome(t, res, scenarios.KindNavigation, "ERR_BLOCKED_BY_CLIENT")
	if res.BlockedRequests != 1 {
		t.Errorf("blocked_requests = %d, want 1", res.BlockedRequests)
	}
}
