package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/version"
	"golang.org/x/crypto/bcrypt"

	"github.com/uxprobe/uxprobe/agent"
	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
	"github.com/uxprobe/uxprobe/scenarios/examples"
)

// agentTestBuffer is an io.Writer that the command's goroutines and the test
// share.
type agentTestBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *agentTestBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *agentTestBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// agentTestRunner stands in for Chrome: runs take delay, or end as
// cancelled when their context does, like the real runner.
type agentTestRunner struct {
	delay   time.Duration
	started chan string
}

func (r *agentTestRunner) Run(ctx context.Context, f *scenarios.Flow, d scenarios.Device) *result.Result {
	select {
	case r.started <- f.Name + "/" + d.Name:
	default:
	}
	res := &result.Result{Flow: f.Name, Device: d.Name, DeviceClass: string(d.Class), StartedAt: time.Now().UTC(), Attempts: 1,
		Steps: []result.Step{}, Pages: []result.Page{}, ConsoleErrors: []string{}, FailedRequests: []result.FailedRequest{}, Screenshots: []string{}}
	t := time.NewTimer(r.delay)
	defer t.Stop()
	select {
	case <-t.C:
		res.Success = true
	case <-ctx.Done():
		res.Error = &result.Error{Kind: scenarios.KindCancelled, Message: "the run was cancelled"}
	}
	return res
}

// fakeStarter makes an agent command run flows with a fake runner instead
// of Chrome, through the command's environment.
func fakeStarter(r agent.Runner) runnerStarter {
	return func(*agentFlags, runnerHooks, *slog.Logger) (agent.Runner, func() error, error) {
		return r, func() error { return nil }, nil
	}
}

func agentTestFreeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func agentTestFlow(name, schedule, url string) string {
	return fmt.Sprintf("name: %s\nschedule: %q\ndevices: [desktop]\nsteps:\n  - goto: %s\n", name, schedule, url)
}

func agentTestWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// agentProc is a `run` or `demo` command running in-process.
type agentProc struct {
	url            string
	stdout, stderr *agentTestBuffer
	hup            chan os.Signal
	cancel         context.CancelFunc
	code           chan int
}

// startAgentCmd runs the command until the test ends, and waits until its
// /-/ready says 200.
func startAgentCmd(t *testing.T, starter runnerStarter, args ...string) *agentProc {
	t.Helper()
	addr := agentTestFreeAddr(t)
	p := &agentProc{url: "http://" + addr, stdout: &agentTestBuffer{}, stderr: &agentTestBuffer{}, hup: make(chan os.Signal, 1), code: make(chan int, 1)}
	env := &environment{stdout: p.stdout, stderr: p.stderr, lookupEnv: func(string) (string, bool) { return "", false }, sighup: p.hup, startRunner: starter}
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	// The history goes to the test's directory, not the package's (a
	// test's own --storage.path comes later and wins).
	args = append([]string{args[0], "--web.listen-address=" + addr, "--log.level=debug", "--storage.path=" + t.TempDir()}, args[1:]...)
	// Under --web.external-url's path, every endpoint is.
	for _, a := range args {
		if ext, ok := strings.CutPrefix(a, "--web.external-url="); ok {
			if _, prefix, err := parseExternalURL(ext); err == nil {
				p.url += prefix
			}
		}
	}
	done := make(chan struct{})
	go func() {
		p.code <- run(ctx, env, args)
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("the command did not stop within 15s")
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(p.url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready within 10s: %v\nstderr:\n%s", err, p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *agentProc) get(t *testing.T, method, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, p.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRunEndpoints(t *testing.T) {
	starter := fakeStarter(&agentTestRunner{delay: 10 * time.Millisecond, started: make(chan string, 10)})
	dir := t.TempDir()
	agentTestWrite(t, filepath.Join(dir, "a.yaml"), agentTestFlow("a", "@every 1h", "http://127.0.0.1:1/"))
	p := startAgentCmd(t, starter, "run", "--schedule.splay=0", dir)

	waitUntil(t, "the first result", func() bool {
		_, body := p.get(t, http.MethodGet, "/api/v1/results")
		return strings.Contains(body, `"flow": "a"`)
	})
	tests := []struct {
		method, path string
		wantCode     int
		wantBody     []string
	}{
		{"GET", "/-/healthy", 200, []string{"OK"}},
		{"GET", "/-/ready", 200, []string{"OK"}},
		{"GET", "/", 200, []string{"/metrics", "/api/v1/results", "/-/reload"}},
		{"GET", "/metrics", 200, []string{
			`uxprobe_flow_success{device="desktop",flow="a",location=""} 1`,
			`uxprobe_flows_loaded 1`,
			`uxprobe_config_last_reload_successful 1`,
			`uxprobe_build_info{`,
			`,version="` + version.Version + `"} 1`, // from prometheus/common/version
			`go_goroutines`,
			`process_`,
		}},
		{"GET", "/-/reload", 405, nil},
		{"POST", "/-/reload", 200, []string{"OK"}},
		{"GET", "/nope", 404, nil},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			code, body := p.get(t, tt.method, tt.path)
			if code != tt.wantCode {
				t.Fatalf("HTTP %d, want %d: %s", code, tt.wantCode, body)
			}
			for _, w := range tt.wantBody {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %q:\n%s", w, body)
				}
			}
		})
	}
	t.Run("results are result.Result JSON", func(t *testing.T) {
		_, body := p.get(t, http.MethodGet, "/api/v1/results")
		var results []result.Result
		if err := json.Unmarshal([]byte(body), &results); err != nil {
			t.Fatal(err)
		}
		if len(results) != 1 || results[0].Flow != "a" || results[0].Device != "desktop" || !results[0].Success {
			t.Fatalf("results %+v", results)
		}
	})
	t.Run("invalid file reload is 500 and keeps the flow", func(t *testing.T) {
		agentTestWrite(t, filepath.Join(dir, "a.yaml"), "name: a\nsteps: nope\n")
		code, body := p.get(t, http.MethodPost, "/-/reload")
		if code != http.StatusInternalServerError || !strings.Contains(body, "a.yaml") {
			t.Fatalf("HTTP %d, want 500 naming the file: %s", code, body)
		}
		_, metrics := p.get(t, http.MethodGet, "/metrics")
		for _, w := range []string{"uxprobe_config_last_reload_successful 0", "uxprobe_flows_loaded 1"} {
			if !strings.Contains(metrics, w) {
				t.Errorf("metrics lack %q", w)
			}
		}
	})
	t.Run("SIGHUP reloads", func(t *testing.T) {
		agentTestWrite(t, filepath.Join(dir, "a.yaml"), agentTestFlow("a", "@every 1h", "http://127.0.0.1:1/"))
		agentTestWrite(t, filepath.Join(dir, "b.yaml"), agentTestFlow("b", "@every 1h", "http://127.0.0.1:1/"))
		p.hup <- syscall.SIGHUP
		waitUntil(t, "two flows after SIGHUP", func() bool {
			_, metrics := p.get(t, http.MethodGet, "/metrics")
			return strings.Contains(metrics, "uxprobe_flows_loaded 2") && strings.Contains(metrics, "uxprobe_config_last_reload_successful 1")
		})
	})
}

func TestRunInvalidFileAtStart(t *testing.T) {
	starter := fakeStarter(&agentTestRunner{delay: time.Millisecond, started: make(chan string, 10)})
	dir := t.TempDir()
	agentTestWrite(t, filepath.Join(dir, "good.yaml"), agentTestFlow("good", "@every 1h", "http://127.0.0.1:1/"))
	agentTestWrite(t, filepath.Join(dir, "bad.yaml"), "name: bad\nschedule: whenever\n")
	p := startAgentCmd(t, starter, "run", dir)
	_, metrics := p.get(t, http.MethodGet, "/metrics")
	for _, w := range []string{"uxprobe_config_last_reload_successful 0", "uxprobe_flows_loaded 1"} {
		if !strings.Contains(metrics, w) {
			t.Errorf("metrics lack %q", w)
		}
	}
	if !strings.Contains(p.stderr.String(), "bad.yaml") {
		t.Errorf("the invalid file is not reported:\n%s", p.stderr)
	}
}

func TestRunZeroFlows(t *testing.T) {
	starter := fakeStarter(&agentTestRunner{delay: time.Millisecond})
	p := startAgentCmd(t, starter, "run", t.TempDir())
	if code, body := p.get(t, http.MethodGet, "/api/v1/results"); code != 200 || strings.TrimSpace(body) != "[]" {
		t.Fatalf("results with no flows: HTTP %d %q, want 200 []", code, body)
	}
}

func TestRunSIGTERMCancelsRunsAfterTimeout(t *testing.T) {
	fr := &agentTestRunner{delay: time.Hour, started: make(chan string, 1)}
	starter := fakeStarter(fr)
	dir := t.TempDir()
	agentTestWrite(t, filepath.Join(dir, "a.yaml"), agentTestFlow("a", "@every 1h", "http://127.0.0.1:1/"))
	const timeout = 500 * time.Millisecond
	p := startAgentCmd(t, starter, "run", "--schedule.splay=0", "--shutdown.timeout="+timeout.String(), dir)
	select {
	case <-fr.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the run did not start")
	}
	start := time.Now()
	p.cancel() // what SIGTERM does through signal.NotifyContext in main
	select {
	case code := <-p.code:
		if code != exitOK {
			t.Fatalf("exit code %d, want 0\n%s", code, p.stderr)
		}
	case <-time.After(timeout + 5*time.Second):
		t.Fatal("the command did not exit after the shutdown timeout")
	}
	// The timeout bounds the whole shutdown: the run is cancelled when a
	// fifth of it is left for cancelling and closing.
	if took := time.Since(start); took < timeout*4/5 || took > timeout+time.Second {
		t.Errorf("exit after %s, want the run cancelled at 4/5 of the shutdown timeout %s and the exit within it", took, timeout)
	}
	if log := p.stderr.String(); !strings.Contains(log, "kind=cancelled") {
		t.Errorf("the cancelled run was not recorded:\n%s", log)
	}
}

func TestRunTwoShards(t *testing.T) {
	dir := t.TempDir()
	var names []string
	for i := range 8 {
		name := fmt.Sprintf("flow-%d", i)
		names = append(names, name)
		agentTestWrite(t, filepath.Join(dir, name+".yaml"), agentTestFlow(name, "@every 1h", "http://127.0.0.1:1/"))
	}
	fr := &agentTestRunner{delay: time.Millisecond}
	starter := fakeStarter(fr)
	var procs []*agentProc
	for i := range 2 {
		procs = append(procs, startAgentCmd(t, starter, "run", "--schedule.splay=100ms", fmt.Sprintf("--shard=%d/2", i), dir))
	}
	runs := map[string]int{}
	waitUntil(t, "every flow to run on one of the agents", func() bool {
		clear(runs)
		total := 0
		for _, p := range procs {
			_, body := p.get(t, http.MethodGet, "/api/v1/results")
			var results []result.Result
			_ = json.Unmarshal([]byte(body), &results)
			for _, r := range results {
				runs[r.Flow]++
				total++
			}
		}
		return total == len(names)
	})
	for _, n := range names {
		if runs[n] != 1 {
			t.Errorf("%s ran on %d agents, want 1", n, runs[n])
		}
	}
}

func TestRunBasicAuth(t *testing.T) {
	starter := fakeStarter(&agentTestRunner{delay: time.Millisecond})
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "web.yml")
	agentTestWrite(t, cfg, "basic_auth_users:\n  alice: "+string(hash)+"\n")
	addr := agentTestFreeAddr(t)
	env := &environment{stdout: io.Discard, stderr: &agentTestBuffer{}, lookupEnv: func(string) (string, bool) { return "", false }, startRunner: starter}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	flows := t.TempDir()
	go func() {
		done <- run(ctx, env, []string{"run", "--web.listen-address=" + addr, "--web.config.file=" + cfg, "--storage.path=" + t.TempDir(), flows})
	}()
	defer func() {
		cancel()
		<-done
	}()
	get := func(user, pass string) int {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/metrics", nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	waitUntil(t, "the server", func() bool { return get("", "") != 0 })
	tests := []struct {
		name       string
		user, pass string
		want       int
	}{
		{"no credentials", "", "", http.StatusUnauthorized},
		{"wrong password", "alice", "nope", http.StatusUnauthorized},
		{"right password", "alice", "s3cret", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := get(tt.user, tt.pass); got != tt.want {
				t.Fatalf("HTTP %d, want %d", got, tt.want)
			}
		})
	}

	// The status page, the history API and run-now sit behind the same
	// auth.
	do := func(method, path, user, pass string) int {
		req, _ := http.NewRequest(method, "http://"+addr+path, nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, c := range []struct {
		method, path, user, pass string
		want                     int
	}{
		{"GET", "/", "", "", http.StatusUnauthorized},
		{"GET", "/api/v1/runs", "", "", http.StatusUnauthorized},
		{"POST", "/api/v1/flows/nope/run", "", "", http.StatusUnauthorized},
		{"POST", "/api/v1/flows/nope/run", "alice", "nope", http.StatusUnauthorized},
		{"POST", "/api/v1/flows/nope/run", "alice", "s3cret", http.StatusNotFound},
		// Accepting a baseline: behind the same auth, and reaching the
		// agent's --baselines (an agent without one answers 404), which
		// wants the step named.
		{"POST", "/api/v1/runs/nope/baselines", "", "", http.StatusUnauthorized},
		{"POST", "/api/v1/runs/nope/baselines", "alice", "s3cret", http.StatusBadRequest},
		{"POST", "/api/v1/runs/nope/baselines?step=x", "alice", "s3cret", http.StatusNotFound},
		{"GET", "/", "alice", "s3cret", http.StatusOK},
	} {
		if got := do(c.method, c.path, c.user, c.pass); got != c.want {
			t.Errorf("%s %s as %q: HTTP %d, want %d", c.method, c.path, c.user, got, c.want)
		}
	}
}

func TestAgentFlagErrors(t *testing.T) {
	starter := fakeStarter(&agentTestRunner{delay: time.Millisecond})
	dir := t.TempDir()
	badWeb := filepath.Join(dir, "web.yml")
	agentTestWrite(t, badWeb, "basic_auth_users: [nope]\n")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no paths", []string{"run"}, "give the flow files"},
		{"missing path", []string{"run", filepath.Join(dir, "missing")}, "cannot read flows"},
		{"shard out of range", []string{"run", "--shard=2/2", dir}, "--shard"},
		{"shard syntax", []string{"run", "--shard=1", dir}, "--shard"},
		{"zero concurrency", []string{"run", "--browser.max-concurrency=0", dir}, "--browser.max-concurrency"},
		{"bad log level", []string{"run", "--log.level=loud", dir}, "--log.level"},
		{"bad web config", []string{"run", "--web.config.file=" + badWeb, dir}, "--web.config.file"},
		{"bad var", []string{"run", "--var=x", dir}, "name=value"},
		{"demo with paths", []string{"demo", dir}, "takes no flow files"},
		{"demo bad faults", []string{"demo", "--demo.faults=explode"}, "--demo.faults"},
		{"demo bad schedule", []string{"demo", "--demo.schedule=sometimes"}, "--demo.schedule"},
		{"relative external URL", []string{"run", "--web.external-url=/probe", dir}, "--web.external-url"},
		{"external URL with a query", []string{"run", "--web.external-url=http://h/probe?x=1", dir}, "--web.external-url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr agentTestBuffer
			env := &environment{stdout: io.Discard, stderr: &stderr, lookupEnv: func(string) (string, bool) { return "", false }, startRunner: starter}
			if code := run(context.Background(), env, tt.args); code != exitUsage {
				t.Fatalf("exit code %d, want %d\n%s", code, exitUsage, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Fatalf("stderr lacks %q:\n%s", tt.want, stderr.String())
			}
		})
	}
}

func TestAgentHelp(t *testing.T) {
	for _, cmd := range []string{"run", "demo"} {
		t.Run(cmd, func(t *testing.T) {
			var stderr agentTestBuffer
			env := &environment{stdout: io.Discard, stderr: &stderr, lookupEnv: func(string) (string, bool) { return "", false }}
			if code := run(context.Background(), env, []string{cmd, "--help"}); code != exitOK {
				t.Fatalf("exit code %d", code)
			}
			for _, f := range []string{"--web.listen-address", "--web.config.file", "--browser.path", "--browser.no-sandbox",
				"--browser.max-concurrency", "--schedule.splay", "--shutdown.timeout", "--shard", "--artifacts", "--log.level", "--log.format",
				"--storage.path", "--storage.retention", "--storage.retention.size", "--web.refresh", "--artifacts.har", "--artifacts.filmstrip"} {
				if !strings.Contains(stderr.String(), f) {
					t.Errorf("help lacks %s", f)
				}
			}
		})
	}
}

// TestAgentDefaults checks the defaults a newcomer gets: the demo, meant for
// one person at their machine, listens on loopback only, and screenshots go
// to a folder of the working directory, never to a /tmp folder that every
// user of the machine shares.
func TestAgentDefaults(t *testing.T) {
	tests := []struct {
		cmd, listen string
	}{
		{"run", ":9747"},
		{"demo", "127.0.0.1:9747"},
	}
	for _, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			var stderr agentTestBuffer
			env := &environment{stdout: io.Discard, stderr: &stderr, lookupEnv: func(string) (string, bool) { return "", false }}
			if code := run(context.Background(), env, []string{tt.cmd, "--help"}); code != exitOK {
				t.Fatalf("exit code %d", code)
			}
			help := stderr.String()
			if got := flagDefault(t, help, "web.listen-address"); got != tt.listen {
				t.Errorf("--web.listen-address defaults to %q, want %q", got, tt.listen)
			}
			if got := flagDefault(t, help, "artifacts"); got != "uxprobe-artifacts" {
				t.Errorf("--artifacts defaults to %q, want uxprobe-artifacts (in the working directory)", got)
			}
		})
	}
}

// flagDefault reads the default value that the help text gives a flag.
func flagDefault(t *testing.T, help, name string) string {
	t.Helper()
	re := regexp.MustCompile(`(?s)--` + regexp.QuoteMeta(name) + `\b.*?\(default "?([^")]*)"?\)`)
	m := re.FindStringSubmatch(help)
	if m == nil {
		t.Fatalf("help gives no default for --%s:\n%s", name, help)
	}
	return m[1]
}

func TestDemo(t *testing.T) {
	fr := &agentTestRunner{delay: time.Millisecond, started: make(chan string, 20)}
	starter := fakeStarter(fr)
	p := startAgentCmd(t, starter, "demo", "--demo.listen-address=127.0.0.1:0", "--demo.schedule=@every 1h", "--schedule.splay=0", "--demo.faults=checkout")
	out := p.stdout.String()
	for _, w := range []string{"/admin/faults", p.url + "/metrics", p.url + "/api/v1/results", "curl -d faults=checkout", "status page:     " + p.url + "/"} {
		if !strings.Contains(out, w) {
			t.Errorf("banner lacks %q:\n%s", w, out)
		}
	}
	// The banner's shop URL serves the shop, with the initial fault on.
	var shopURL string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "demo" && f[1] == "shop:" {
			shopURL = f[2]
		}
	}
	if shopURL == "" {
		t.Fatalf("no shop URL in the banner:\n%s", out)
	}
	resp, err := http.Get(shopURL + "admin/faults?format=text")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "checkout") {
		t.Errorf("faults %q, want checkout on", body)
	}
	// Every embedded example is loaded, however many there are.
	examplesLoaded, err := fs.Glob(examples.FS, "*.yaml")
	if err != nil || len(examplesLoaded) == 0 {
		t.Fatalf("embedded examples: %v, %v", examplesLoaded, err)
	}
	waitUntil(t, "the example flows to run", func() bool {
		_, metrics := p.get(t, http.MethodGet, "/metrics")
		return strings.Contains(metrics, fmt.Sprintf("uxprobe_flows_loaded %d", len(examplesLoaded))) &&
			strings.Contains(metrics, `uxprobe_flow_success{device="desktop",flow="checkout",location=""} 1`)
	})
}

func TestReadyWaitsForChrome(t *testing.T) {
	release := make(chan struct{})
	starter := func(*agentFlags, runnerHooks, *slog.Logger) (agent.Runner, func() error, error) {
		<-release // Chrome takes its time to start
		return &agentTestRunner{delay: time.Millisecond}, func() error { return nil }, nil
	}
	addr := agentTestFreeAddr(t)
	env := &environment{stdout: io.Discard, stderr: &agentTestBuffer{}, lookupEnv: func(string) (string, bool) { return "", false }, startRunner: starter}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	flows := t.TempDir()
	go func() {
		done <- run(ctx, env, []string{"run", "--web.listen-address=" + addr, "--storage.path=" + t.TempDir(), flows})
	}()
	defer func() {
		cancel()
		<-done
	}()
	status := func(path string) int {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	waitUntil(t, "the server", func() bool { return status("/-/healthy") == http.StatusOK })
	if got := status("/-/ready"); got != http.StatusServiceUnavailable {
		t.Fatalf("/-/ready while Chrome starts: HTTP %d, want 503", got)
	}
	close(release)
	waitUntil(t, "ready once Chrome is up", func() bool { return status("/-/ready") == http.StatusOK })
}
