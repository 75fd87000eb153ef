package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestCheckSessions: `uxprobe check` of three flows that share a login
// flow's session, two devices each, three at a time, logs in once per
// device (the login flow itself is not among the flows checked: it runs
// because they need it), and each result says which session it started
// with; a flow in another file than its login flow finds it.
func TestCheckSessions(t *testing.T) {
	var mu sync.Mutex
	logins := map[string]int{}
	valid := map[string]bool{}
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		mu.Lock()
		defer mu.Unlock()
		switch r.URL.Path {
		case "/login":
			id := fmt.Sprintf("s%d", len(valid)+1)
			valid[id] = true
			dev := "desktop"
			if strings.Contains(r.UserAgent(), "Mobile") {
				dev = "mobile"
			}
			logins[dev]++
			http.SetCookie(w, &http.Cookie{Name: "sid", Value: id, Path: "/", HttpOnly: true})
			fmt.Fprint(w, `<!doctype html><title>in</title><h1>Welcome</h1>`)
		case "/account":
			if c, err := r.Cookie("sid"); err != nil || !valid[c.Value] {
				http.Redirect(w, r, "/login", http.StatusFound)
				return
			}
			fmt.Fprint(w, `<!doctype html><title>account</title><h1>Your account</h1>`)
		}
	}))
	defer site.Close()

	dir := t.TempDir()
	writeFlowFile(t, filepath.Join(dir, "login.yaml"), `name: login
provides_session: true
devices: [desktop, mobile]
steps:
  - goto: ${base_url}/login
  - assert_text: {selector: h1, equals: Welcome}
`)
	var flows []string
	for _, name := range []string{"account-a", "account-b", "account-c"} {
		flows = append(flows, name)
		writeFlowFile(t, filepath.Join(dir, name+".yaml"), `name: `+name+`
session: login
step_timeout: 3s
devices: [desktop, mobile]
steps:
  - goto: ${base_url}/account
  - assert_text: {selector: h1, equals: Your account}
`)
	}
	jsonFile := filepath.Join(t.TempDir(), "results.json")
	code, stdout, stderr := runCheckWithChrome(t, "--parallel", "3", "--var", "base_url="+site.URL,
		"--flow", strings.Join(flows, ","), "--json", jsonFile, dir)
	if code != exitOK {
		t.Fatalf("exit code %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	results := readCheckJSON(t, jsonFile)
	if len(results) != 6 {
		t.Fatalf("%d results, want 6", len(results))
	}
	for _, r := range results {
		if !r.Success || r.Session == nil || r.Session.Flow != "login" {
			t.Errorf("%s/%s: success %v, session %+v", r.Flow, r.Device, r.Success, r.Session)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if logins["desktop"] != 1 || logins["mobile"] != 1 {
		t.Errorf("logins = %v, want one per device", logins)
	}
}
