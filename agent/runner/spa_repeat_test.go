package runner

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestSoftNavigationsEveryRun: the same flow of views records the same
// soft-navigation pages every run, the last view (after the last step)
// and a view whose content arrives after a fetch included.
func TestSoftNavigationsEveryRun(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><title>spa</title><nav><a href="/a" id="a">A</a> <a href="/b" id="b">B</a> <a href="/c" id="c">C</a></nav><main id="m"><h1>Home</h1></main>
<script>
const m = document.getElementById('m');
for (const a of document.querySelectorAll('nav a')) a.addEventListener('click', async (e) => {
  e.preventDefault();
  const url = a.getAttribute('href');
  const body = await (await fetch('/data' + url)).text();
  history.pushState({}, '', url);
  m.innerHTML = '<h1 style="font-size:36px">' + body + '</h1>';
});
</script>`)
	})
	mux.HandleFunc("/data/", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(250 * time.Millisecond) // the view comes after the click step ended
		fmt.Fprintf(w, "View %s with its data", r.URL.Path[len("/data/"):])
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	f := mustFlow(t, "name: views\nsteps:\n  - goto: "+srv.URL+"/\n"+
		"  - click: \"#a\"\n  - assert_text: {selector: h1, contains: View a}\n"+
		"  - click: \"#b\"\n  - assert_text: {selector: h1, contains: View b}\n"+
		"  - click: \"#c\"\n  - assert_text: {selector: h1, contains: View c}\n")
	for run := range 3 {
		res := (&Runner{Browser: testBrowser}).Run(context.Background(), f, desktop(t))
		if !res.Success {
			t.Fatalf("run %d: %+v", run, res.Error)
		}
		var got []string
		for _, p := range res.Pages {
			got = append(got, p.URL[len(srv.URL):]+" "+p.Step)
		}
		want := []string{"/ 1-goto", "/a 2-click", "/b 4-click", "/c 6-click"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("run %d: pages %q, want %q", run, got, want)
		}
	}
}

// TestSoftNavigationWithoutChromeEntry: a click that changes the URL
// without a new document, where Chrome's heuristics report no soft
// navigation (the view's change paints nothing new),
// is still that click's page, without an LCP of its own: what counts as a
// view does not depend on Chrome's heuristics, which vary with load.
func TestSoftNavigationWithoutChromeEntry(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><title>spa</title><button id="dark">Dark</button><main><h1>Home</h1></main>
<script>document.getElementById('dark').addEventListener('click', () => { history.pushState({}, '', '/?theme=dark'); document.body.dataset.theme = 'dark'; });</script>`)
	}))
	t.Cleanup(srv.Close)
	f := mustFlow(t, "name: theme\nsteps:\n  - goto: "+srv.URL+"/\n  - name: dark\n    click: \"#dark\"\n  - sleep: 200ms\n")
	res := (&Runner{Browser: testBrowser}).Run(context.Background(), f, desktop(t))
	if !res.Success {
		t.Fatalf("run: %+v", res.Error)
	}
	if len(res.Pages) != 2 || res.Pages[1].URL != srv.URL+"/?theme=dark" || res.Pages[1].Step != "dark" {
		t.Fatalf("pages %+v, want the document and the dark view of step dark", res.Pages)
	}
	if p := res.Pages[1]; p.LCPSeconds != nil && p.LCPElement == "" {
		t.Errorf("view LCP %s without an element", show(p.LCPSeconds))
	}
}
