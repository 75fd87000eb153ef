package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/uxprobe/uxprobe/agent/pgtest"
	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// TestMain stops the package's PostgreSQL (agent/pgtest), if a
// test started one.
func TestMain(m *testing.M) { pgtest.Main(m) }

// gatedRunner runs a flow when the test lets it: one token of gate per run.
type gatedRunner struct{ gate chan struct{} }

func (r *gatedRunner) Run(ctx context.Context, f *scenarios.Flow, d scenarios.Device) *result.Result {
	res := &result.Result{Flow: f.Name, Device: d.Name, DeviceClass: string(d.Class), StartedAt: time.Now().UTC(), Attempts: 1,
		Steps: []result.Step{{Name: "1-goto", Action: "goto", Success: true}}, Pages: []result.Page{}, ConsoleErrors: []string{},
		FailedRequests: []result.FailedRequest{}, Screenshots: []string{}}
	select {
	case <-r.gate:
		res.Success = true
	case <-ctx.Done():
		res.Error = &result.Error{Kind: scenarios.KindCancelled, Message: "the run was cancelled"}
	}
	return res
}

type runsJSON []struct {
	ID     string         `json:"id"`
	Result *result.Result `json:"result"`
}

func TestRunHistoryAndRunNow(t *testing.T) {
	r := &gatedRunner{gate: make(chan struct{}, 10)}
	dir, store := t.TempDir(), t.TempDir()
	agentTestWrite(t, filepath.Join(dir, "a.yaml"), agentTestFlow("a", "@every 1h", "http://127.0.0.1:1/"))
	r.gate <- struct{}{} // the run at start
	p := startAgentCmd(t, fakeStarter(r), "run", "--schedule.splay=0", "--storage.path="+store, dir)

	runs := func() runsJSON {
		_, body := p.get(t, http.MethodGet, "/api/v1/runs?flow=a")
		var rs runsJSON
		if err := json.Unmarshal([]byte(body), &rs); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		return rs
	}
	waitUntil(t, "the first run in the history", func() bool { return len(runs()) == 1 })
	first := runs()[0]
	if first.ID == "" || first.Result.ID != first.ID || !first.Result.Success {
		t.Fatalf("first run %+v", first)
	}
	// /api/v1/results and the history agree on the run's id.
	_, latest := p.get(t, http.MethodGet, "/api/v1/results")
	if !strings.Contains(latest, `"id": "`+first.ID+`"`) {
		t.Errorf("/api/v1/results lacks the run's id %s:\n%s", first.ID, latest)
	}

	code, body := p.get(t, http.MethodPost, "/api/v1/flows/a/run")
	if code != http.StatusAccepted {
		t.Fatalf("run-now: HTTP %d %s", code, body)
	}
	var accepted struct{ IDs []string }
	if err := json.Unmarshal([]byte(body), &accepted); err != nil || len(accepted.IDs) != 1 {
		t.Fatalf("run-now answer %s: %v", body, err)
	}
	// The run waits at the gate: the flow is running.
	if code, body := p.get(t, http.MethodPost, "/api/v1/flows/a/run"); code != http.StatusConflict {
		t.Errorf("run-now while running: HTTP %d %s, want 409", code, body)
	}
	if code, _ := p.get(t, http.MethodPost, "/api/v1/flows/nope/run"); code != http.StatusNotFound {
		t.Errorf("run-now of an unknown flow: HTTP %d, want 404", code)
	}
	r.gate <- struct{}{}
	waitUntil(t, "the run-now run in the history", func() bool {
		code, _ := p.get(t, http.MethodGet, "/api/v1/runs/"+accepted.IDs[0])
		return code == http.StatusOK
	})
	for _, path := range []string{"/", "/flows/a", "/runs/" + accepted.IDs[0]} {
		if code, body := p.get(t, http.MethodGet, path); code != http.StatusOK || !strings.Contains(body, "<!doctype html>") {
			t.Errorf("GET %s: HTTP %d\n%s", path, code, body)
		}
	}
	if _, err := os.Stat(filepath.Join(store, "uxprobe.db")); err != nil {
		t.Errorf("no database under --storage.path: %v", err)
	}

	// A restart on the same store has the history.
	p.cancel()
	if code := <-p.code; code != exitOK {
		t.Fatalf("exit %d", code)
	}
	r.gate <- struct{}{}
	p = startAgentCmd(t, fakeStarter(r), "run", "--schedule.splay=0", "--storage.path="+store, dir)
	waitUntil(t, "the old runs and the new one", func() bool { return len(runs()) == 3 })
	ids := map[string]bool{}
	for _, r := range runs() {
		ids[r.ID] = true
	}
	if !ids[first.ID] || !ids[accepted.IDs[0]] {
		t.Errorf("after a restart the history lacks earlier runs: %v", ids)
	}
}

func TestRunBrokenStorage(t *testing.T) {
	r := &gatedRunner{gate: make(chan struct{}, 10)}
	r.gate <- struct{}{}
	dir := t.TempDir()
	agentTestWrite(t, filepath.Join(dir, "a.yaml"), agentTestFlow("a", "@every 1h", "http://127.0.0.1:1/"))
	// A file where the directory should be: the store cannot open.
	notDir := filepath.Join(t.TempDir(), "file")
	agentTestWrite(t, notDir, "")
	p := startAgentCmd(t, fakeStarter(r), "run", "--schedule.splay=0", "--storage.path="+notDir, dir)

	// Runs and metrics go on.
	waitUntil(t, "a run", func() bool {
		_, body := p.get(t, http.MethodGet, "/metrics")
		return strings.Contains(body, `uxprobe_flow_success{device="desktop",flow="a",location=""} 1`)
	})
	_, metrics := p.get(t, http.MethodGet, "/metrics")
	if !strings.Contains(metrics, `uxprobe_storage_errors_total{operation="open"} 1`) {
		t.Errorf("the open failure is not counted:\n%s", metrics)
	}
	code, body := p.get(t, http.MethodGet, "/-/ready")
	if code != http.StatusOK || !strings.Contains(body, "Run history failing since") || !strings.Contains(body, "not a directory") {
		t.Errorf("/-/ready: HTTP %d %q, want 200 saying why the history fails", code, body)
	}
	code, body = p.get(t, http.MethodGet, "/")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "run history is not kept") {
		t.Errorf("/: HTTP %d, want 503 saying why:\n%s", code, body)
	}
}

func TestStorageFlags(t *testing.T) {
	tests := []struct {
		in   string
		want byteSize
		ok   bool
	}{
		{"1GB", 1 << 30, true}, {"512MB", 512 << 20, true}, {"1.5KB", 1536, true}, {"0", 0, true}, {"10b", 10, true},
		{"", 0, false}, {"1GiB", 0, false}, {"-1GB", 0, false}, {"GB", 0, false}, {"1 PB", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var b byteSize
			err := b.Set(tt.in)
			if (err == nil) != tt.ok || tt.ok && b != tt.want {
				t.Errorf("Set(%q) = %d, %v; want %d, ok %v", tt.in, b, err, tt.want, tt.ok)
			}
		})
	}
	if s := (func() string { b := byteSize(1 << 30); return b.String() })(); s != "1GB" {
		t.Errorf("String of 1 GiB = %q", s)
	}
}

// TestRunPostgresStorage: --storage.url (here from UXPROBE_STORAGE_URL)
// keeps the history in PostgreSQL; its password is in no log, /-/ready or
// error; PostgreSQL stopped for a while loses no run: /-/ready stays 200
// and says why, the runs wait and are written when it is back.
func TestRunPostgresStorage(t *testing.T) {
	srv := pgtest.Shared(t)
	u, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	const password = "s3cret-pw" // the test server trusts every password
	u.User = url.UserPassword("postgres", password)
	t.Setenv(envStorageURL, u.String())
	redacted := strings.Replace(u.String(), "postgres:"+password+"@", "postgres@", 1)

	r := &gatedRunner{gate: make(chan struct{}, 10)}
	dir := t.TempDir()
	agentTestWrite(t, filepath.Join(dir, "a.yaml"), agentTestFlow("a", "@every 1h", "http://127.0.0.1:1/"))
	r.gate <- struct{}{}
	p := startAgentCmd(t, fakeStarter(r), "run", "--schedule.splay=0", dir)
	runs := func() runsJSON {
		code, body := p.get(t, http.MethodGet, "/api/v1/runs?flow=a")
		var rs runsJSON
		if code == http.StatusOK {
			if err := json.Unmarshal([]byte(body), &rs); err != nil {
				t.Fatalf("%v: %s", err, body)
			}
		}
		return rs
	}
	waitUntil(t, "the first run in PostgreSQL", func() bool { return len(runs()) == 1 })
	if !strings.Contains(p.stderr.String(), redacted) {
		t.Errorf("the log does not name the store %s:\n%s", redacted, p.stderr)
	}

	if err := srv.Pause(); err != nil {
		t.Fatal(err)
	}
	resumed := false
	defer func() {
		if !resumed {
			_ = srv.Resume()
		}
	}()
	for i := 1; i <= 2; i++ {
		r.gate <- struct{}{}
		// The agent may still be finishing the last run: 409 until then.
		waitUntil(t, "run-now accepted", func() bool {
			code, _ := p.get(t, http.MethodPost, "/api/v1/flows/a/run")
			return code == http.StatusAccepted
		})
		waitUntil(t, "the run in the queue", func() bool {
			_, body := p.get(t, http.MethodGet, "/metrics")
			return strings.Contains(body, fmt.Sprintf("uxprobe_storage_queued_runs %d", i))
		})
	}
	code, ready := p.get(t, http.MethodGet, "/-/ready")
	if code != http.StatusOK || !strings.Contains(ready, "Run history failing since") || !strings.Contains(ready, redacted) {
		t.Errorf("/-/ready while PostgreSQL is down: HTTP %d %q, want 200 saying why and naming %s", code, ready, redacted)
	}
	_, metrics := p.get(t, http.MethodGet, "/metrics")
	_, apiErr := p.get(t, http.MethodGet, "/api/v1/runs")
	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	resumed = true
	waitUntil(t, "the queued runs in PostgreSQL", func() bool { return len(runs()) == 3 })
	_, ready = p.get(t, http.MethodGet, "/-/ready")
	for what, text := range map[string]string{"the log": p.stderr.String(), "/-/ready": ready, "/metrics": metrics, "the API's error": apiErr} {
		if strings.Contains(text, password) {
			t.Errorf("%s shows the password:\n%s", what, text)
		}
	}
}

// TestRunDamagedStorage: garbage over the SQLite file and its WAL, then a
// restart: the damaged file is moved aside, the pages and the API answer
// 200 and list the new runs, the recovery is counted and said.
func TestRunDamagedStorage(t *testing.T) {
	r := &gatedRunner{gate: make(chan struct{}, 10)}
	dir, store := t.TempDir(), t.TempDir()
	agentTestWrite(t, filepath.Join(dir, "a.yaml"), agentTestFlow("a", "@every 1h", "http://127.0.0.1:1/"))
	r.gate <- struct{}{}
	p := startAgentCmd(t, fakeStarter(r), "run", "--schedule.splay=0", "--storage.path="+store, dir)
	runs := func() runsJSON {
		_, body := p.get(t, http.MethodGet, "/api/v1/runs")
		var rs runsJSON
		_ = json.Unmarshal([]byte(body), &rs)
		return rs
	}
	waitUntil(t, "the first run in the history", func() bool { return len(runs()) == 1 })
	p.cancel()
	if code := <-p.code; code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, f := range []string{"uxprobe.db", "uxprobe.db-wal"} {
		junk := make([]byte, 64<<10)
		_, _ = rand.Read(junk)
		agentTestWrite(t, filepath.Join(store, f), string(junk))
	}

	r.gate <- struct{}{}
	p = startAgentCmd(t, fakeStarter(r), "run", "--schedule.splay=0", "--storage.path="+store, dir)
	waitUntil(t, "the run after the restart", func() bool { return len(runs()) == 1 })
	for _, path := range []string{"/", "/flows/a", "/api/v1/runs", "/api/v1/flows"} {
		if code, body := p.get(t, http.MethodGet, path); code != http.StatusOK {
			t.Errorf("GET %s: HTTP %d\n%s", path, code, body)
		}
	}
	moved, _ := filepath.Glob(filepath.Join(store, "uxprobe.db.damaged-*"))
	if len(moved) != 2 {
		t.Errorf("moved aside: %q, want the file and its WAL", moved)
	}
	_, metrics := p.get(t, http.MethodGet, "/metrics")
	if !strings.Contains(metrics, `uxprobe_storage_errors_total{operation="recover"} 1`) {
		t.Errorf("the recovery is not counted:\n%s", metrics)
	}
	if code, ready := p.get(t, http.MethodGet, "/-/ready"); code != http.StatusOK || !strings.Contains(ready, "damaged") {
		t.Errorf("/-/ready: HTTP %d %q, want 200 saying the history was damaged", code, ready)
	}
	if !strings.Contains(p.stderr.String(), "moved it aside") {
		t.Errorf("the recovery is not logged:\n%s", p.stderr)
	}
}
