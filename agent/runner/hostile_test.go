package runner

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/uxprobe/uxprobe/agent/browser"
	"github.com/uxprobe/uxprobe/agent/result"
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
	t.Parallel()
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
			r := &Runner{Browser: testBrowser}
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
			runAfter(t, r, srv)
		})
	}
}

// TestPageCrashIsTheSitesFailure: a page that exhausts its renderer's
// memory crashes its tab while Chrome stays up; the user saw a crashed
// page, so it is the site's failure, of its own kind.
func TestPageCrashIsTheSitesFailure(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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
