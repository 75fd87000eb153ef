package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"

	"github.com/uxprobe/uxprobe/agent/browser"
	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/agent/runner/pagelog"
	"github.com/uxprobe/uxprobe/exporters/junit"
	promexp "github.com/uxprobe/uxprobe/exporters/prometheus"
	"github.com/uxprobe/uxprobe/scenarios"
)

// hostileSite serves pages that misbehave on purpose, as the pages an
// adversarial user would aim uxprobe at.
func hostileSite(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	page := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,">`+body)
		}
	}
	mux.HandleFunc("/ok", page(`<title>OK</title><h1>OK</h1>`))
	// The main thread spins from just after the load event, so the goto
	// succeeds and every later read of the page goes unanswered.
	mux.HandleFunc("/busy", page(`<title>Busy</title><h1>OK</h1>
<script>addEventListener('load', () => setTimeout(() => { for (;;) {} }, 0));</script>`))
	// The heading says OK only after a while, so an assertion on it is
	// waiting when Chrome is frozen.
	mux.HandleFunc("/late-ok", page(`<title>Late</title><h1></h1>
<script>setTimeout(() => { document.querySelector('h1').textContent = 'OK'; }, 60000);</script>`))
	// The renderer runs out of memory: the tab crashes, Chrome stays up.
	mux.HandleFunc("/oom", page(`<title>Hungry</title><h1>eating</h1>
<script>addEventListener('load', () => setTimeout(() => { const keep = []; for (;;) keep.push(new Array(1 << 20).fill(keep.length)); }, 0));</script>`))
	// Downloads: an attachment, and links to it and to a file with the
	// download attribute.
	mux.HandleFunc("/report", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/csv")
		w.Header().Set("Content-Disposition", `attachment; filename="report.csv"`)
		w.Write(bytes.Repeat([]byte("a,b\n"), 25000))
	})
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", `attachment; filename="huge.bin"`)
		// Up to 1 GiB, far past the runner's bound of a download, and
		// until the browser hangs up: only the cancel ends it early.
		chunk := make([]byte, 1<<20)
		for range 1024 {
			if _, err := w.Write(chunk); err != nil || r.Context().Err() != nil {
				return
			}
			w.(http.Flusher).Flush()
			time.Sleep(2 * time.Millisecond) // a fast network, not loopback
		}
	})
	mux.HandleFunc("/notes.txt", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(bytes.Repeat([]byte("n"), 1234))
	})
	mux.HandleFunc("/downloads", page(`<title>Downloads</title><h1>Downloads</h1>
<a id="attachment" href="/report">report</a> <a id="attribute" href="/notes.txt" download="my notes.txt">notes</a>`))
	// Redirect loops: a meta refresh and a script that never stop.
	mux.HandleFunc("/meta-loop", page(`<title>Loop</title><meta http-equiv="refresh" content="0;url=/meta-loop?again"><h1>again</h1>`))
	mux.HandleFunc("/script-loop", page(`<title>Loop</title><h1>again</h1><script>location.replace('/script-loop?' + Date.now());</script>`))
	// A chain of script redirects that stops at every 20th page.
	mux.HandleFunc("/chain", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if n%20 == 0 {
			fmt.Fprintf(w, `<!doctype html><link rel="icon" href="data:,"><title>stop</title><h1>stop %d</h1>`, n)
			return
		}
		fmt.Fprintf(w, `<!doctype html><link rel="icon" href="data:,"><title>chain</title><script>location.replace('/chain?n=%d');</script>`, n+1)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// runAfter checks that a plain flow works after a hostile one: a page
// must never break the runs that follow it.
func runAfter(t *testing.T, r *Runner, srv *httptest.Server) {
	t.Helper()
	f := mustFlow(t, "name: after\nsteps:\n  - goto: "+srv.URL+"/ok\n  - assert_text: {selector: h1, equals: OK}\n")
	if res := r.Run(context.Background(), f, desktop(t)); !res.Success {
		t.Fatalf("the run after the hostile page failed: %+v", res.Error)
	}
}

// TestBusyMainThreadIsATimeoutNotAnObservation: when the page's main
// thread never answers, an assertion has read nothing, so it must say so
// instead of reporting an empty text, title or visibility.
func TestBusyMainThreadIsATimeoutNotAnObservation(t *testing.T) {
	// Not parallel with the other tests: its pages keep renderers busy, which
	// would slow the pages whose timings other tests check.
	srv := hostileSite(t)
	tests := []struct {
		name string
		step string
	}{
		{"assert_text", `assert_text: {selector: h1, contains: OK}`},
		{"assert_title", `assert_title: OK`},
		{"assert_visible", `assert_visible: h1`},
		{"click", `click: h1`},
		{"press", `press: Enter`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := mustFlow(t, "name: busy\nsteps:\n  - goto: "+srv.URL+"/busy\n  - "+tc.step+"\n    timeout: 1500ms\n")
			r := &Runner{Browser: testBrowser, ArtifactsDir: t.TempDir()}
			res := r.Run(context.Background(), f, desktop(t))
			if res.Success {
				t.Fatal("the flow succeeded on a page that answers nothing")
			}
			if res.Error.Kind != scenarios.KindTimeout || !strings.HasPrefix(res.Error.Message, "the page's main thread did not respond for ") {
				t.Fatalf("error = %s: %q, want a timeout saying the main thread did not respond", res.Error.Kind, res.Error.Message)
			}
			if res.Outcome() != result.OutcomeFailure || res.Error.Step != "2-"+strings.SplitN(tc.step, ":", 2)[0] {
				t.Errorf("outcome %s at step %q, want a site failure at step 2", res.Outcome(), res.Error.Step)
			}
			// A picture of a page that paints nothing would only wait out
			// its own bound.
			if len(res.Screenshots) != 0 {
				t.Errorf("screenshots %v of a page that does not answer", res.Screenshots)
			}
			if res.Error.ScreenshotError != "the page stopped answering" {
				t.Errorf("screenshot_error %q, want it to say the page stopped answering", res.Error.ScreenshotError)
			}
			runAfter(t, r, srv)
		})
	}
}

// TestPageCrashIsTheSitesFailure: a page that exhausts its renderer's
// memory crashes its tab while Chrome stays up; the user saw a crashed
// page, so it is the site's failure, of its own kind.
func TestPageCrashIsTheSitesFailure(t *testing.T) {
	// Not parallel with the other tests: its pages keep renderers busy, which
	// would slow the pages whose timings other tests check.
	srv := hostileSite(t)
	f := mustFlow(t, "name: oom\ntimeout: 2m\nsteps:\n  - goto: "+srv.URL+"/oom\n  - wait_for: {selector: h2}\n    timeout: 90s\n")
	r := &Runner{Browser: testBrowser}
	pid := testBrowser.PID()
	res := r.Run(context.Background(), f, desktop(t))
	if res.Success || res.Error.Kind != scenarios.KindPageCrash || res.Outcome() != result.OutcomeFailure {
		t.Fatalf("got %+v, want a page_crash failure", res.Error)
	}
	if !strings.Contains(res.Error.Message, "the page crashed during step 2-wait_for") {
		t.Errorf("message %q does not say the page crashed in step 2", res.Error.Message)
	}
	if testBrowser.PID() != pid {
		t.Error("Chrome was restarted for a crash of one page")
	}
	runAfter(t, r, srv)
}

// TestFrozenChromeDuringAnAssertion freezes Chrome (SIGSTOP) while an
// assertion waits: the health probe must end the run as our failure, not
// report the text it could not read, and Chrome must be replaced before
// the step's long timeout.
func TestFrozenChromeDuringAnAssertion(t *testing.T) {
	// Not parallel with the other tests: it starts Chrome twice (the second time after the freeze), which would
	// slow the pages whose timings other tests check.
	srv := hostileSite(t)
	b, err := browser.Start(browser.Options{NoSandbox: os.Geteuid() == 0})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	inAssert := make(chan struct{})
	var once sync.Once
	r := &Runner{Browser: b, Progress: func(flow, _, step string) {
		if flow == "frozen" && step == "2-assert_text" {
			once.Do(func() { close(inAssert) })
		}
	}}
	f := mustFlow(t, "name: frozen\ntimeout: 5m\nsteps:\n  - goto: "+srv.URL+"/late-ok\n  - assert_text: {selector: h1, contains: OK}\n    timeout: 2m\n")
	done := make(chan *result.Result, 1)
	go func() { done <- r.Run(context.Background(), f, desktop(t)) }()
	<-inAssert
	pid := b.PID()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGCONT) })
	res := <-done
	if res.Success || res.Outcome() != result.OutcomeError || res.Error.Kind != scenarios.KindBrowser {
		t.Fatalf("got %+v, want a browser error", res.Error)
	}
	if want := "Chrome did not answer a health check within 5s during step 2-assert_text"; res.Error.Message != want {
		t.Errorf("message %q, want %q", res.Error.Message, want)
	}
	if b.PID() == pid {
		t.Fatal("the frozen Chrome was not replaced")
	}
	runAfter(t, r, srv)
}

// hostileSecret has every special character of URLs, JSON, Go quoting and
// HTML, and alphanumeric runs that survive every encoding: if "Xk7" or
// "Qz9" shows anywhere, some form of the secret leaked.
const hostileSecret = `Xk7"Qz9 W&m4/öR2`

var secretFragments = []string{"Xk7", "Qz9"}

// secretSite echoes the secret back in every way a page can: in the
// title and heading (HTML-escaped), in a broken image's URL (path
// encoded), in a console error and an uncaught exception long enough to
// be clipped through the secret.
func secretSite(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/echo/", func(w http.ResponseWriter, r *http.Request) {
		// The path holds the whole secret; the query is cut at its "&".
		q := strings.TrimPrefix(r.URL.Path, "/echo/")
		lit, _ := json.Marshal(q)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><link rel="icon" href="data:,"><title>%s</title><h1>%s</h1>
<img src="/missing/%s.png">
<script>console.error('x'.repeat(280) + %s); setTimeout(() => { throw new Error('y'.repeat(280) + %s); });</script>`,
			html.EscapeString(q), html.EscapeString(q), url.PathEscape(q), lit, lit)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestSecretsNeverLeak runs a flow whose secret goes through URLs, page
// text, console errors, exceptions, failed requests, assertion and eval
// messages (clipped through the secret), step names and screenshot file
// names, and checks that no part of it is in the result, the logs or the
// file names.
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	srv := secretSite(t)
	dir := t.TempDir()
	pad := strings.Repeat("a", 185)
	f := mustFlow(t, `name: t
vars: {token: '`+hostileSecret+`'}
secrets: [token]
steps:
  - goto: `+srv.URL+`/echo/${token}?q=${token}
  - sleep: 200ms
  - eval: "'`+pad+`${token}' === 'no'"
    optional: true
  - assert_text: {selector: h1, contains: "${token} nope"}
    timeout: 300ms
    optional: true
  - eval: "(() => { throw new Error('`+pad+`${token}') })()"
    optional: true
  - name: check ${token}
    assert_title: {equals: "nope ${token}"}
    timeout: 300ms
`)
	var logs bytes.Buffer
	r := &Runner{Browser: testBrowser, ArtifactsDir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	res := r.Run(context.Background(), f, desktop(t))
	if res.Success {
		t.Fatal("flow succeeded, want an assertion failure")
	}
	out, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		names = append(names, path)
		return nil
	})
	// The ways results leave the agent: JUnit and metrics.
	var report bytes.Buffer
	if err := junit.Write(&report, []*result.Result{res}); err != nil {
		t.Fatal(err)
	}
	col := promexp.NewCollector(latestOf{res})
	if err := col.Export(context.Background(), res); err != nil {
		t.Fatal(err)
	}
	reg := prom.NewRegistry()
	reg.MustRegister(col)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var metrics strings.Builder
	for _, mf := range fams {
		fmt.Fprintln(&metrics, mf.String())
	}
	for what, s := range map[string]string{"result": string(out), "logs": logs.String(), "file names": strings.Join(names, "\n"),
		"JUnit": report.String(), "metrics": metrics.String()} {
		for _, frag := range secretFragments {
			if strings.Contains(s, frag) {
				t.Errorf("%s leak the secret (%q): %s", what, frag, s)
			}
		}
	}
	// The places the secret went through show that it was there.
	if len(res.Pages) != 1 || !strings.Contains(res.Pages[0].URL, "***") {
		t.Errorf("pages = %+v, want the page's URL with the secret masked", res.Pages)
	}
	if len(res.FailedRequests) == 0 || !strings.Contains(res.FailedRequests[0].URL, "***") {
		t.Errorf("failed requests = %+v, want the broken image with the secret masked", res.FailedRequests)
	}
	for i, want := range map[int]string{2: "***", 3: `expected it to contains "*** nope"`, 4: "***"} {
		if !strings.Contains(res.Steps[i].Error, want) {
			t.Errorf("step %s error %q, want it to show %q", res.Steps[i].Name, res.Steps[i].Error, want)
		}
	}
	// Clipped before masking, both would have kept the secret's start.
	// The script's source, " (url:line)", follows the clipped message.
	msgOf := func(i int) string { m, _, _ := strings.Cut(res.ConsoleErrors[i], " (http://"); return m }
	if len(res.ConsoleErrors) != 2 || !strings.HasSuffix(msgOf(0), "x***") || !strings.HasSuffix(msgOf(1), "y***") {
		t.Errorf("console errors = %q, want both to end in the masked secret", res.ConsoleErrors)
	}
	if res.Error.Step != "check ***" || len(res.Screenshots) != 1 {
		t.Errorf("error at %q with screenshots %v, want the masked step and its failure screenshot", res.Error.Step, res.Screenshots)
	}
}

// TestRedirectLoopsFailTheStep: a page that navigates without end fails
// the step it loops in, with a bounded result.
func TestRedirectLoopsFailTheStep(t *testing.T) {
	// Not parallel with the other tests: its pages keep renderers busy, which
	// would slow the pages whose timings other tests check.
	srv := hostileSite(t)
	tests := []struct{ name, path string }{
		{"meta refresh", "/meta-loop"},
		{"script", "/script-loop"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := mustFlow(t, "name: loop\ntimeout: 2m\nsteps:\n  - goto: "+srv.URL+tc.path+"\n  - wait_for: h2\n    timeout: 1m\n")
			r := &Runner{Browser: testBrowser}
			res := r.Run(context.Background(), f, desktop(t))
			if res.Success || res.Error.Kind != scenarios.KindNavigation {
				t.Fatalf("got %+v, want a navigation failure", res.Error)
			}
			want := fmt.Sprintf("redirect loop: %d navigations in step %s", maxNavsPerStep, res.Error.Step)
			if res.Error.Message != want {
				t.Errorf("message %q, want %q", res.Error.Message, want)
			}
			if len(res.Pages)+res.PagesOmitted > 2*maxNavsPerStep || len(res.Pages) > maxPages {
				t.Errorf("%d pages kept and %d omitted: the loop was not cut at its bound", len(res.Pages), res.PagesOmitted)
			}
			runAfter(t, r, srv)
		})
	}
}

// TestPagesAreCapped: a flow that legitimately loads many pages keeps the
// first 50 in its result and counts the rest.
func TestPagesAreCapped(t *testing.T) {
	// Not parallel with the other tests: sixty navigations in a row keep a renderer busy, which would slow the
	// pages whose timings other tests check.
	srv := hostileSite(t)
	var steps strings.Builder
	for _, start := range []int{1, 21, 41} {
		fmt.Fprintf(&steps, "  - goto: %s/chain?n=%d\n  - wait_for: \"text=stop %d\"\n", srv.URL, start, start+19)
	}
	f := mustFlow(t, "name: chain\ntimeout: 2m\nsteps:\n"+steps.String())
	res := (&Runner{Browser: testBrowser}).Run(context.Background(), f, desktop(t))
	if !res.Success {
		t.Fatalf("flow failed: %+v", res.Error)
	}
	if len(res.Pages) != maxPages || res.PagesOmitted != 60-maxPages {
		t.Fatalf("%d pages and %d omitted, want %d and %d", len(res.Pages), res.PagesOmitted, maxPages, 60-maxPages)
	}
	if first := res.Pages[0].URL; first != srv.URL+"/chain?n=1" {
		t.Errorf("first page %q, want the first of the chain", first)
	}
}

// TestDownloadsCompleteTheStep: a download is a completed action, on
// goto and on click, recorded with its name and size; the file is not
// kept, and the page stays where it was.
func TestDownloadsCompleteTheStep(t *testing.T) {
	// Not parallel: it points the temporary directory, process-wide, at
	// its own to see that no downloaded file is left behind.
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	srv := hostileSite(t)
	tests := []struct {
		name, steps string
		want        result.Download
	}{
		{"goto an attachment", "  - goto: ${u}/report\n",
			result.Download{Step: "1-goto", URL: "${u}/report", FileName: "report.csv", SizeBytes: 100000, Complete: true}},
		{"click an attachment link", "  - goto: ${u}/downloads\n  - click: \"#attachment\"\n  - assert_title: Downloads\n",
			result.Download{Step: "2-click", URL: "${u}/report", FileName: "report.csv", SizeBytes: 100000, Complete: true}},
		{"click a download attribute link", "  - goto: ${u}/downloads\n  - click: \"#attribute\"\n  - assert_title: Downloads\n",
			result.Download{Step: "2-click", URL: "${u}/notes.txt", FileName: "my notes.txt", SizeBytes: 1234, Complete: true}},
		{"kept when asked", "keep_downloads: true\nsteps:\n  - goto: ${u}/report\n",
			result.Download{Step: "1-goto", URL: "${u}/report", FileName: "report.csv", SizeBytes: 100000, Complete: true, Path: "${a}/dl/desktop/downloads/report.csv"}},
		{"stopped past the size bound", "  - goto: ${u}/huge\n",
			result.Download{Step: "1-goto", URL: "${u}/huge", FileName: "huge.bin", Complete: false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			steps := strings.ReplaceAll(tc.steps, "${u}", srv.URL)
			if !strings.HasPrefix(steps, "keep_downloads") {
				steps = "steps:\n" + steps
			}
			f := mustFlow(t, "name: dl\ntimeout: 2m\nstep_timeout: 1m\n"+steps)
			artifacts := t.TempDir()
			r := &Runner{Browser: testBrowser, ArtifactsDir: artifacts}
			res := r.Run(context.Background(), f, desktop(t))
			if !res.Success {
				t.Fatalf("flow failed: %+v", res.Error)
			}
			tc.want.URL = strings.ReplaceAll(tc.want.URL, "${u}", srv.URL)
			tc.want.Path = strings.ReplaceAll(tc.want.Path, "${a}", artifacts)
			if len(res.Downloads) == 1 && !tc.want.Complete {
				// Cut off somewhere past the bound, short of the whole file.
				if got := res.Downloads[0].SizeBytes; got <= pagelog.MaxDownloadBytes || got >= 1<<30 {
					t.Errorf("the download stopped at %d bytes, want past %d and short of the whole", got, pagelog.MaxDownloadBytes)
				}
				tc.want.SizeBytes = res.Downloads[0].SizeBytes
			}
			if len(res.Downloads) != 1 || res.Downloads[0] != tc.want {
				t.Errorf("downloads = %+v, want [%+v]", res.Downloads, tc.want)
			}
			if tc.want.Path != "" {
				if st, err := os.Stat(tc.want.Path); err != nil || st.Size() != tc.want.SizeBytes {
					t.Errorf("kept file: %v, %v; want %d bytes", st, err, tc.want.SizeBytes)
				}
			}
			for _, p := range res.Pages {
				if strings.Contains(p.URL, "/report") || strings.Contains(p.URL, "/notes") {
					t.Errorf("the download is listed as a page: %+v", p)
				}
			}
			runAfter(t, r, srv)
		})
	}
	testBrowser.Settle()
	left, _ := filepath.Glob(filepath.Join(tmp, "uxprobe-downloads-*"))
	if len(left) > 0 {
		t.Errorf("downloaded files left behind: %v", left)
	}
}

// TestUnwritableArtifactsDoNotStopTheFlow: an artifacts path that is a
// file makes every screenshot unwritable; that is logged and counted, and
// the flow goes on to find the site's real failure.
func TestUnwritableArtifactsDoNotStopTheFlow(t *testing.T) {
	t.Parallel()
	srv := hostileSite(t)
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	var errs atomic.Int32
	r := &Runner{Browser: testBrowser, ArtifactsDir: file, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		OnArtifactError: func() { errs.Add(1) }}
	f := mustFlow(t, "name: shots\nsteps:\n  - goto: "+srv.URL+"/ok\n  - screenshot: home\n  - assert_text: {selector: h1, equals: Nope}\n    timeout: 300ms\n")
	res := r.Run(context.Background(), f, desktop(t))
	if res.Success || res.Error.Kind != scenarios.KindAssertion || res.Error.Step != "3-assert_text" {
		t.Fatalf("got %+v, want the site's assertion failure at step 3", res.Error)
	}
	if !res.Steps[1].Success {
		t.Errorf("the screenshot step failed: %+v", res.Steps[1])
	}
	if len(res.Screenshots) != 0 {
		t.Errorf("screenshots = %v, want none: none could be written", res.Screenshots)
	}
	if n := errs.Load(); n != 2 {
		t.Errorf("%d artifact errors counted, want 2 (the step's and the failure's)", n)
	}
	if !strings.Contains(logs.String(), "could not write an artifact") {
		t.Errorf("logs do not tell of the artifact errors:\n%s", logs.String())
	}
	runAfter(t, r, srv)
}

// headerRecorder is a server that records, by path, the X-Token header and
// the cookie of each request it gets.
type headerRecorder struct {
	srv  *httptest.Server
	mu   sync.Mutex
	seen map[string]string // path → "token=... cookie=..."
}

func newHeaderRecorder(t *testing.T, handler func(w http.ResponseWriter, r *http.Request)) *headerRecorder {
	t.Helper()
	h := &headerRecorder{seen: map[string]string{}}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.seen[r.URL.Path] = "token=" + r.Header.Get("X-Token") + " cookie=" + r.Header.Get("Cookie")
		h.mu.Unlock()
		handler(w, r)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *headerRecorder) got() map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return maps.Clone(h.seen)
}

// TestHeadersOnlyToTheFlowsOrigins: the flow's headers reach its own
// origin (with the site's cookies intact), never a third-party host its
// pages load from or redirect to, unless headers_origins widens them.
func TestHeadersOnlyToTheFlowsOrigins(t *testing.T) {
	t.Parallel()
	third := newHeaderRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Access-Control-Allow-Headers", "X-Token")
		fmt.Fprint(w, `<!doctype html><title>third</title>`)
	})
	// Another host name for the same address: cookies are per host, not
	// per port, and a third party is another host.
	thirdURL := strings.Replace(third.srv.URL, "127.0.0.1", "localhost", 1)
	own := newHeaderRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/page":
			http.SetCookie(w, &http.Cookie{Name: "session", Value: "s1", Path: "/"})
			fmt.Fprintf(w, `<!doctype html><link rel="icon" href="data:,"><title>own</title><img src="/own.png"><img src="%[1]s/pixel.png"><script src="%[1]s/x.js"></script>
<script>fetch('%[1]s/api').then(() => { document.title = 'fetched' })</script>`, thirdURL)
		case "/away":
			http.Redirect(w, r, thirdURL+"/redirected", http.StatusFound)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	tests := []struct {
		name, origins string
		ownWant       map[string]string
		thirdWant     map[string]string
	}{
		{"own origin only", "",
			map[string]string{"/page": "token=t0k cookie=", "/own.png": "token=t0k cookie=session=s1", "/away": "token=t0k cookie=session=s1"},
			map[string]string{"/pixel.png": "token= cookie=", "/x.js": "token= cookie=", "/api": "token= cookie=", "/redirected": "token= cookie="}},
		{"widened to the third party", "headers_origins: " + thirdURL + "\n",
			map[string]string{"/page": "token=t0k cookie=", "/own.png": "token=t0k cookie=session=s1", "/away": "token=t0k cookie=session=s1"},
			map[string]string{"/pixel.png": "token=t0k cookie=", "/x.js": "token=t0k cookie=", "/api": "token=t0k cookie=", "/redirected": "token=t0k cookie="}},
		{"every origin", "headers_origins: \"*\"\n",
			map[string]string{"/page": "token=t0k cookie=", "/own.png": "token=t0k cookie=session=s1", "/away": "token=t0k cookie=session=s1"},
			map[string]string{"/pixel.png": "token=t0k cookie=", "/x.js": "token=t0k cookie=", "/api": "token=t0k cookie=", "/redirected": "token=t0k cookie="}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := mustFlow(t, "name: headers\nheaders: {X-Token: t0k}\n"+tc.origins+"steps:\n  - goto: "+own.srv.URL+"/page\n  - assert_title: fetched\n  - goto: "+own.srv.URL+"/away\n")
			res := (&Runner{Browser: testBrowser}).Run(context.Background(), f, desktop(t))
			if !res.Success {
				t.Fatalf("flow failed: %+v", res.Error)
			}
			for name, c := range map[string]struct{ got, want map[string]string }{"own": {own.got(), tc.ownWant}, "third-party": {third.got(), tc.thirdWant}} {
				for path, want := range c.want {
					if got := c.got[path]; got != want {
						t.Errorf("%s server, %s: %q, want %q", name, path, got, want)
					}
				}
			}
		})
	}
}

// latestOf is a store of one result, for the metrics collector.
type latestOf struct{ r *result.Result }

func (l latestOf) Latest() []result.Latest {
	return []result.Latest{{Flow: l.r.Flow, Device: l.r.Device, Last: l.r, Verdict: l.r}}
}
