package runner

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// stateSite shows what a page sees of its starting state: the Cookie
// header the server got, document.cookie and local storage as its script
// reads them on the first page. /login sets a session as a real login
// does: an HttpOnly cookie and a local storage token. Every request to /
// is counted: filling or reading local storage must never reach the site.
type stateSite struct {
	roots atomic.Int32
}

func (s *stateSite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	switch r.URL.Path {
	case "/":
		s.roots.Add(1)
		fmt.Fprint(w, "<!doctype html><title>root</title>")
	case "/login":
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "session-42", Path: "/", HttpOnly: true})
		fmt.Fprint(w, `<!doctype html><title>login</title><script>localStorage.setItem("token", "tok-42")</script><p id="done">in</p>`)
	case "/page":
		fmt.Fprintf(w, `<!doctype html><title>page</title>
<p id="server">%s</p><p id="js"></p><p id="ls"></p>
<script>
document.getElementById("js").textContent = "js:" + document.cookie.split("; ").sort().join(" ");
const o = []; for (let i = 0; i < localStorage.length; i++) { const k = localStorage.key(i); o.push(k + "=" + localStorage.getItem(k)); }
document.getElementById("ls").textContent = "ls:" + o.sort().join(" ");
</script>`, html.EscapeString("server:"+cookieHeader(r)))
	default:
		http.NotFound(w, r)
	}
}

// cookieHeader is the request's cookies sorted, name=value.
func cookieHeader(r *http.Request) string {
	var out []string
	for _, c := range r.Cookies() {
		out = append(out, c.Name+"="+c.Value)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// TestStateCookiesAndLocalStorage: the flow's cookies and local_storage,
// and a session's state, are there on the first page, for the server and
// the page's script alike; an http_only cookie reaches the server but not
// document.cookie; a login flow's run exports its cookies and local
// storage; the site never sees the loads that fill or read storage.
func TestStateCookiesAndLocalStorage(t *testing.T) {
	// Not parallel: it counts the shared Chrome's page targets.
	site := &stateSite{}
	srv := httptest.NewServer(site)
	defer srv.Close()
	origin := srv.URL
	d := desktop(t)
	r := &Runner{Browser: testBrowser}
	ctx := context.Background()

	cases := []struct {
		name    string
		flow    string
		state   *State
		export  bool
		wantErr string
	}{{
		name: "flow cookies and local storage",
		flow: `name: preset
cookies:
  - {name: consent, value: "yes", url: "` + origin + `/"}
  - {name: hidden, value: h1, domain: 127.0.0.1, http_only: true}
  - {name: lax, value: l1, url: "` + origin + `/", same_site: Lax}
local_storage:
  "` + origin + `": {flag: "on", bucket: b}
steps:
  - goto: ` + origin + `/page
  - assert_text: {selector: "#server", equals: "server:consent=yes hidden=h1 lax=l1"}
  - assert_text: {selector: "#js", equals: "js:consent=yes lax=l1"}
  - assert_text: {selector: "#ls", equals: "ls:bucket=b flag=on"}
`,
	}, {
		name:   "login exports",
		export: true,
		flow: `name: login
provides_session: true
steps:
  - goto: ` + origin + `/login
  - assert_text: {selector: "#done", equals: "in"}
`,
	}, {
		name: "nothing without state",
		flow: `name: bare
steps:
  - goto: ` + origin + `/page
  - assert_text: {selector: "#server", equals: "server:"}
  - assert_text: {selector: "#ls", equals: "ls:"}
`,
	}}
	pages := func() int {
		testBrowser.Settle()
		infos, err := chromedp.Targets(testBrowser.Context())
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, i := range infos {
			if i.Type == "page" {
				n++
			}
		}
		return n
	}
	r.Run(ctx, mustFlow(t, "name: warm\nsteps:\n  - goto: "+origin+"/page\n"), d) // starts the warm-tab cycle
	before := pages()
	var exported *State
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := mustFlow(t, c.flow)
			var opts RunOptions
			if c.export {
				opts.Export = func(st *State) { exported = st }
			}
			res := r.RunWith(ctx, f, d, opts)
			if !res.Success {
				t.Fatalf("run failed: %+v", res.Error)
			}
		})
	}
	if exported == nil {
		t.Fatal("the login flow's run exported no state")
	}
	if got := exported.LocalStorage[origin]["token"]; got != "tok-42" {
		t.Errorf("exported local storage = %v, want token=tok-42 for %s", exported.LocalStorage, origin)
	}
	var sid bool
	for _, c := range exported.Cookies {
		sid = sid || (c.Name == "sid" && c.Value == "session-42" && c.HTTPOnly)
	}
	if !sid {
		t.Errorf("exported cookies lack the HttpOnly sid=session-42: %+v", exported.Cookies)
	}

	// A run that starts with the exported state is logged in on its
	// first page, and the flow's own values win over the session's.
	f := mustFlow(t, `name: consumer
local_storage:
  "`+origin+`": {flag: "mine"}
steps:
  - goto: `+origin+`/page
  - assert_text: {selector: "#server", equals: "server:sid=session-42"}
  - assert_text: {selector: "#js", equals: "js:"}
  - assert_text: {selector: "#ls", equals: "ls:flag=mine token=tok-42"}
`)
	exported.LocalStorage[origin]["flag"] = "session's"
	if res := r.RunWith(ctx, f, d, RunOptions{State: exported}); !res.Success {
		t.Fatalf("the run with the session's state failed: %+v", res.Error)
	}
	// The helper tabs that filled and read local storage are gone: they
	// belong to the run's browser context, closed at the latest with it.
	after := pages()
	for i := 0; i < 40 && after != before; i++ {
		time.Sleep(50 * time.Millisecond)
		after = pages()
	}
	if after != before {
		t.Errorf("%d page targets after the runs, %d before: a helper tab was left open", after, before)
	}
	if n := site.roots.Load(); n != 0 {
		t.Errorf("the site got %d requests for / : filling or reading local storage must not load the site", n)
	}
}
