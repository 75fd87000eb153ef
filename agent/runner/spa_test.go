package runner

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/uxprobe/uxprobe/agent/demoshop"
	"github.com/uxprobe/uxprobe/scenarios"
	"github.com/uxprobe/uxprobe/scenarios/examples"
)

// TestSoftNavigationLCPEndsAtNextInput: a single-page view's LCP ends at
// the next input, as a document's does: a notification a later step
// shows and the next view, both larger than the view's heading, are not
// taken into it.
func TestSoftNavigationLCPEndsAtNextInput(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><title>spa</title>
<nav><button id="go">Log in</button> <button id="note">Notify</button> <button id="next">Next</button></nav><main id="m"><h1>Home</h1></main>
<script>
const m = document.getElementById('m');
document.getElementById('go').addEventListener('click', () => {
  history.pushState({}, '', '/view2');
  m.innerHTML = '<h1 style="font-size:32px">Logged in</h1>';
});
document.getElementById('note').addEventListener('click', () => {
  const d = document.createElement('div');
  d.id = 'toast';
  d.style.cssText = 'font-size:40px;width:900px';
  d.textContent = 'A notification that is much larger than the heading of the view, shown later';
  document.body.appendChild(d);
});
document.getElementById('next').addEventListener('click', () => {
  history.pushState({}, '', '/view3');
  m.innerHTML = '<section id="big" style="font-size:60px">The next view, larger than all before it on this page</section>';
});
</script>`)
	}))
	t.Cleanup(srv.Close)
	f := mustFlow(t, "name: spa\nsteps:\n  - goto: "+srv.URL+"/\n  - name: log in\n    click: \"#go\"\n  - sleep: 300ms\n  - name: notify\n    click: \"#note\"\n  - sleep: 300ms\n  - name: next\n    click: \"#next\"\n")
	res := (&Runner{Browser: testBrowser}).Run(context.Background(), f, desktop(t))
	if !res.Success {
		t.Fatalf("run: %+v", res.Error)
	}
	var views []string
	for _, p := range res.Pages {
		views = append(views, p.URL+" "+p.Step+" "+p.LCPElement)
		if p.URL != srv.URL+"/view2" {
			continue
		}
		if p.Step != "log in" {
			t.Errorf("view2 step %q, want log in", p.Step)
		}
		if p.LCPSeconds == nil || *p.LCPSeconds > 1 || p.LCPElement != "main#m > h1" {
			t.Errorf("view2 LCP %s of %q; want its heading, painted within a second, not a later input's paint", show(p.LCPSeconds), p.LCPElement)
		}
		return
	}
	t.Fatalf("no page for /view2 in\n%s", strings.Join(views, "\n"))
}

// TestLCPElementInShadowRoot: an image inside an open shadow root is the
// LCP, and Chrome's entry has no element for it: lcp_element still names
// it, by its URL.
func TestLCPElementInShadowRoot(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><title>shadow</title><p>small</p><div id="host"></div>
<script>document.getElementById('host').attachShadow({mode: 'open'}).innerHTML = '<img src="/hero.png" width="400" height="300">';</script>`)
	})
	mux.HandleFunc("/hero.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write(noisyPNG(400, 300))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	f := mustFlow(t, "name: shadow\nsteps:\n  - goto: "+srv.URL+"/\n")
	res := (&Runner{Browser: testBrowser}).Run(context.Background(), f, desktop(t))
	if !res.Success || len(res.Pages) != 1 {
		t.Fatalf("run: %+v", res)
	}
	p := res.Pages[0]
	if p.LCPSeconds == nil || p.LCPElement != srv.URL+"/hero.png" {
		t.Errorf("lcp %s of %q, want the shadow root's image named by its URL %s/hero.png", show(p.LCPSeconds), p.LCPElement, srv.URL)
	}
}

// TestScreenshotIsNotTaskTime: a screenshot step is uxprobe's work, not
// the user's wait: the task time is the other steps', and the shot's time
// is in setup_seconds (the whole run minus the task time). The phone's
// device scale makes the picture large, as a real one is.
func TestScreenshotIsNotTaskTime(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><title>shot</title><h1>Shot</h1>`+
			strings.Repeat(`<p style="box-shadow:0 0 40px 10px rgba(0,0,0,.3);filter:blur(1px)">A paragraph with a shadow and a blur to paint</p>`, 60))
	}))
	t.Cleanup(srv.Close)
	d, ok := scenarios.LookupDevice("mobile")
	if !ok {
		t.Fatal("no mobile device")
	}
	f := mustFlow(t, "name: shot\nsteps:\n  - goto: "+srv.URL+"/\n  - screenshot: home\n  - screenshot: again\n")
	res := (&Runner{Browser: testBrowser, ArtifactsDir: t.TempDir()}).Run(context.Background(), f, d)
	if !res.Success || len(res.Steps) != 3 {
		t.Fatalf("run: %+v", res)
	}
	var user, shots float64
	for _, st := range res.Steps {
		if st.Action == "screenshot" {
			shots += st.DurationSeconds
		} else {
			user += st.DurationSeconds
		}
	}
	if shots <= 0 {
		t.Fatalf("screenshot steps took %.3fs", shots)
	}
	if res.DurationSeconds > user+0.02 {
		t.Errorf("task time %.3fs, user's steps %.3fs, screenshots %.3fs: the screenshots counted as task time", res.DurationSeconds, user, shots)
	}
	if res.SetupSeconds < shots {
		t.Errorf("setup_seconds %.3f, want it to hold the screenshots' %.3fs", res.SetupSeconds, shots)
	}
}

// TestHashGotoSoftNavigationStep: a hash-only goto that changes a
// single-page app's view is that goto's page, not the previous click's;
// and the same flow gives the same pages every run.
func TestHashGotoSoftNavigationStep(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><title>spa</title><button id="go">List</button><main id="m"><h1>Home</h1></main>
<script>
const m = document.getElementById('m');
const show = () => { m.innerHTML = '<h1 style="font-size:40px">View ' + (location.hash || location.pathname) + '</h1>'; };
document.getElementById('go').addEventListener('click', () => { history.pushState({}, '', '/list'); show(); });
addEventListener('hashchange', show);
</script>`)
	}))
	t.Cleanup(srv.Close)
	f := mustFlow(t, "name: spa\nsteps:\n  - goto: "+srv.URL+"/\n  - name: open list\n    click: \"#go\"\n  - name: item\n    goto: "+srv.URL+"/list#item-7\n")
	var counts []int
	for range 2 {
		res := (&Runner{Browser: testBrowser}).Run(context.Background(), f, desktop(t))
		if !res.Success {
			t.Fatalf("run: %+v", res.Error)
		}
		var got []string
		for _, p := range res.Pages {
			got = append(got, strings.TrimPrefix(p.URL, srv.URL)+" "+p.Step)
			if p.URL == srv.URL+"/list#item-7" && p.Step != "item" {
				t.Errorf("the hash goto's view is step %q's, want item's", p.Step)
			}
		}
		t.Logf("pages: %q", got)
		counts = append(counts, len(res.Pages))
	}
	if counts[0] != counts[1] {
		t.Errorf("pages per run %v, want the same every run", counts)
	}
}

// TestExampleHelpTopicsViews: the shipped single-page-app example on the
// demo shop: each help topic opened by a click is a page of its click's
// step, and the returns view's LCP is its own (drawn within a second of
// the click, in the view), not the contact view a later click drew.
func TestExampleHelpTopicsViews(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(demoshop.New())
	t.Cleanup(srv.Close)
	flows, err := scenarios.LoadFS(examples.FS, scenarios.LoadOptions{Vars: map[string]string{"base_url": srv.URL}, LookupEnv: demoshop.DemoEnv(noEnv)})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(flows, func(f *scenarios.Flow) bool { return f.Name == "help-topics" })
	if i < 0 {
		t.Fatal("no help-topics example")
	}
	res := (&Runner{Browser: testBrowser}).Run(context.Background(), flows[i], desktop(t))
	if !res.Success {
		t.Fatalf("run: %+v", res.Error)
	}
	want := map[string]string{"/help?topic=returns": "open returns", "/help?topic=contact": "open contact"}
	seen := 0
	for _, p := range res.Pages {
		step, ok := want[strings.TrimPrefix(p.URL, srv.URL)]
		if !ok {
			continue
		}
		seen++
		if p.Step != step {
			t.Errorf("%s: step %q, want %q", p.URL, p.Step, step)
		}
		if p.LCPSeconds == nil || *p.LCPSeconds > 1 || !strings.HasPrefix(p.LCPElement, "div#help-view") {
			t.Errorf("%s: LCP %s of %q, want the view's own, in #help-view, within a second", p.URL, show(p.LCPSeconds), p.LCPElement)
		}
	}
	if seen != 2 {
		t.Errorf("pages %+v, want one per help topic view", res.Pages)
	}
}

// noEnv is an empty environment: loading the shipped examples, the demo
// account's password and seed come from demoshop.DemoEnv's fallback.
func noEnv(string) (string, bool) { return "", false }
