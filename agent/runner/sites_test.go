package runner

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/uxprobe/uxprobe/agent/browser"
	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// sitesPages are the pages of real sites' habits: dialogs, forms without
// ids, shadow DOM, repeated labels.
var sitesPages = map[string]string{
	"/dialogs": `<!doctype html><title>Dialogs</title>
<button id="alert" onclick="alert('Saved!'); document.getElementById('out').textContent = 'after alert'">Alert</button>
<button id="confirm" onclick="document.getElementById('out').textContent = confirm('Delete it?') ? 'confirmed' : 'cancelled'">Confirm</button>
<button id="prompt" onclick="document.getElementById('out').textContent = 'name: ' + prompt('Your name?', 'Ada')">Prompt</button>
<button id="dirty" onclick="window.onbeforeunload = (e) => { e.preventDefault(); return 'unsaved'; }; document.getElementById('out').textContent = 'dirty'">Edit</button>
<a id="leave" href="/plain">Leave</a>
<p id="out"></p>`,
	"/plain": `<!doctype html><title>Plain</title><h1>Plain page</h1>`,
	"/form": `<!doctype html><title>Form</title>
<form onsubmit="event.preventDefault(); document.getElementById('out').textContent = [...new FormData(this)].map(([k, v]) => k + '=' + v).join('&')">
<label>Email <input name="email"></label>
<label>Email me offers <input type="checkbox" name="offers"></label>
<label for="pw">Password</label><input id="pw" name="pw" type="password">
<input name="q" aria-label="Search the site">
<span id="cityl">City</span><input name="city" aria-labelledby="cityl">
<input name="coupon" placeholder="Coupon code">
<button type="button" data-testid="help">Help</button>
<button>Place order</button>
<button style="display:none">Place order</button>
</form>
<p id="out"></p>
<nav><a href="#graph">Graph</a></nav><div><button onclick="document.getElementById('out').textContent = 'tab'">Graph</button></div>
<ul><li>one</li><li>two</li><li>three</li></ul>`,
	"/shadow": `<!doctype html><title>Shadow</title>
<div id="host"></div>
<script>
const root = document.getElementById('host').attachShadow({ mode: 'open' });
root.innerHTML = '<button class="inner" onclick="this.textContent = \'pressed\'">Shadow button</button><label>Name <input class="name"></label>';
</script>`,
	"/tabs": `<!doctype html><title>Tabs</title>
<a id="blank" href="/plain" target="_blank">Open plain</a>
<button id="open" onclick="window.open('/popup', 'pop', 'width=400,height=300')">Popup</button>
<button id="noop" onclick="this.textContent = 'still here'">Stay</button>`,
	"/popup": `<!doctype html><title>Popup</title><h1>Popup</h1>
<button id="close" onclick="window.close()">Close me</button>`,
	"/frame": `<!doctype html><title>Frame</title><h1>Shop</h1>
<iframe id="pay" src="/frame-form" style="margin:80px 0 0 50px;border:5px solid #888;padding:3px;width:400px;height:300px"></iframe>`,
	"/frame-form": `<!doctype html><title>Inner</title><style>body{margin:20px}</style>
<div style="height:150px"></div>
<label>Card number <input name="card"></label>
<button onclick="document.getElementById('paid').textContent = 'paid with ' + document.querySelector('[name=card]').value">Pay</button>
<p id="paid"></p>
<script>setTimeout(() => { const p = document.createElement('p'); p.id = 'late'; p.textContent = 'late in the frame'; document.body.appendChild(p); }, 300);</script>`,
	"/modal": `<!doctype html><title>Modal</title>
<style>#modal{position:fixed;inset:0;background:#fff;opacity:0;transition:opacity .4s linear;display:none} #modal.open{opacity:1}</style>
<button id="open" onclick="const m = document.getElementById('modal'); m.style.display = 'block'; requestAnimationFrame(() => requestAnimationFrame(() => m.classList.add('open')))">Open</button>
<div id="modal"><button id="ok" onclick="if (getComputedStyle(document.getElementById('modal')).opacity === '1') this.textContent = 'clicked'; else this.textContent = 'swallowed'">OK</button></div>`,
	"/wrapped": `<!doctype html><title>Wrapped</title>
<p id="para" style="width:220px;font:16px/40px monospace;margin:0">xxxxxxxxxx <a id="wrapped" href="#done">wrapped link text</a> tail</p>`,
	"/animated": `<!doctype html><title>Animated</title>
<style>body{margin:0} #panel{position:fixed;inset:0;background:rgb(255,0,0);opacity:0;transition:opacity .6s linear} #panel.in{opacity:1}</style>
<div id="panel"></div>
<script>requestAnimationFrame(() => requestAnimationFrame(() => document.getElementById('panel').classList.add('in')));</script>`,
	"/record": `<!doctype html><title>Record</title>
<p id="created">Created record ID rec-4711 at noon</p>
<script>window.recordId = 'rec-4711';</script>`,
}

type sitesServer struct {
	*httptest.Server
	mu      sync.Mutex
	deleted []string
}

func sitesSite(t *testing.T) *sitesServer {
	t.Helper()
	s := &sitesServer{}
	mux := http.NewServeMux()
	for path, body := range sitesPages {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<link rel="icon" href="data:,">`+body)
		})
	}
	mux.HandleFunc("/delete", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.deleted = append(s.deleted, r.URL.Query().Get("id"))
		s.mu.Unlock()
		fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><title>Deleted</title><h1>Deleted</h1>`)
	})
	// A second server is another origin (another port) for cross-origin
	// frames, and under the name localhost another site too, whose frames
	// Chrome runs in a process of their own.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if r.URL.Path == "/form" {
			fmt.Fprint(w, `<link rel="icon" href="data:,">`+sitesPages["/frame-form"]+`<a id="next" href="/">Next</a>`)
			return
		}
		fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><title>Other</title><button id="x">Other origin</button>`)
	}))
	t.Cleanup(other.Close)
	mux.HandleFunc("/frame-other", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><link rel="icon" href="data:,"><title>Frame</title><iframe id="other" src="%s/"></iframe>`, other.URL)
	})
	mux.HandleFunc("/frame-site", func(w http.ResponseWriter, r *http.Request) {
		site := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)
		banner := ""
		if r.URL.Query().Has("banner") { // a cookie banner of the page over the whole viewport
			banner = `<div id="banner" style="position:fixed;inset:0;background:rgba(0,0,0,.4)"></div>`
		}
		fmt.Fprintf(w, `<!doctype html><link rel="icon" href="data:,"><title>Frame</title><h1>Shop</h1>
<div style="height:900px"></div>
<iframe id="payment" src="%s/form" style="margin:0 0 0 50px;border:5px solid #888;padding:3px;width:400px;height:300px"></iframe>%s`, site, banner)
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func (s *sitesServer) deletedIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.deleted...)
}

// runSteps runs a flow of the given keys and steps (${u} is the server) on
// the desktop device.
func runSteps(t *testing.T, u, keys, steps string) *result.Result {
	t.Helper()
	steps = strings.ReplaceAll(steps, "${u}", u)
	keys = strings.ReplaceAll(keys, "${u}", u)
	f := mustFlow(t, "name: t\ntimeout: 20s\n"+keys+"steps:\n"+indent(steps))
	return (&Runner{Browser: testBrowser}).Run(context.Background(), f, desktop(t))
}

func checkOutcome(t *testing.T, res *result.Result, wantKind scenarios.ErrorKind, wantMsg string) {
	t.Helper()
	if wantKind == "" {
		if !res.Success {
			t.Fatalf("flow failed: %+v", res.Error)
		}
		return
	}
	if res.Success {
		t.Fatalf("flow succeeded, want a %s failure", wantKind)
	}
	if res.Error.Kind != wantKind || !strings.Contains(res.Error.Message, wantMsg) {
		t.Fatalf("error = %s: %q\nwant %s containing %q", res.Error.Kind, res.Error.Message, wantKind, wantMsg)
	}
}

func TestDialogs(t *testing.T) {
	t.Parallel()
	srv := sitesSite(t)
	tests := []struct {
		name     string
		policy   string
		steps    string
		wantKind scenarios.ErrorKind
		wantMsg  string
		dialogs  []result.Dialog
	}{
		{"alert is accepted by default", "", "- goto: ${u}/dialogs\n- click: \"#alert\"\n- assert_text: {selector: \"#out\", equals: after alert}", "", "",
			[]result.Dialog{{Step: "2-click", Type: "alert", Message: "Saved!"}}},
		{"confirm accepted", "accept", "- goto: ${u}/dialogs\n- click: \"#confirm\"\n- assert_text: {selector: \"#out\", equals: confirmed}", "", "",
			[]result.Dialog{{Step: "2-click", Type: "confirm", Message: "Delete it?"}}},
		{"confirm dismissed", "dismiss", "- goto: ${u}/dialogs\n- click: \"#confirm\"\n- assert_text: {selector: \"#out\", equals: cancelled}", "", "",
			[]result.Dialog{{Step: "2-click", Type: "confirm", Message: "Delete it?"}}},
		{"prompt accepted with its default", "accept", "- goto: ${u}/dialogs\n- click: \"#prompt\"\n- assert_text: {selector: \"#out\", equals: 'name: Ada'}", "", "",
			[]result.Dialog{{Step: "2-click", Type: "prompt", Message: "Your name?"}}},
		{"prompt dismissed", "dismiss", "- goto: ${u}/dialogs\n- click: \"#prompt\"\n- assert_text: {selector: \"#out\", equals: 'name: null'}", "", "",
			[]result.Dialog{{Step: "2-click", Type: "prompt", Message: "Your name?"}}},
		{"beforeunload accepted lets the page go", "accept", "- goto: ${u}/dialogs\n- click: \"#dirty\"\n- click: \"#leave\"\n- assert_title: Plain", "", "",
			[]result.Dialog{{Step: "3-click", Type: "beforeunload", Message: ""}}},
		{"alert fails the step under fail", "fail", "- goto: ${u}/dialogs\n- click: \"#alert\"\n- assert_title: Dialogs", scenarios.KindDialog, `the page opened a alert dialog: "Saved!"`,
			[]result.Dialog{{Step: "2-click", Type: "alert", Message: "Saved!"}}},
		{"confirm fails the step under fail", "fail", "- goto: ${u}/dialogs\n- click: \"#confirm\"", scenarios.KindDialog, `confirm dialog: "Delete it?"`,
			[]result.Dialog{{Step: "2-click", Type: "confirm", Message: "Delete it?"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			keys := ""
			if tc.policy != "" {
				keys = "dialogs: " + tc.policy + "\n"
			}
			res := runSteps(t, srv.URL, keys, tc.steps)
			checkOutcome(t, res, tc.wantKind, tc.wantMsg)
			if fmt.Sprint(res.Dialogs) != fmt.Sprint(tc.dialogs) {
				t.Errorf("dialogs = %+v, want %+v", res.Dialogs, tc.dialogs)
			}
		})
	}
}

func TestSelectorsPeopleUse(t *testing.T) {
	t.Parallel()
	srv := sitesSite(t)
	tests := []struct {
		name     string
		steps    string
		wantKind scenarios.ErrorKind
		wantMsg  string
		warning  string // of the step that acts, "" for none
	}{
		{"label wrapping its input", "- fill: {selector: label=Email, value: a@b.c}\n- click: role=button[name=\"Place order\"]\n- assert_text: {selector: \"#out\", contains: email=a@b.c}", "", "", ""},
		{"label for=", "- fill: {selector: label=password, value: pw1}\n- eval: document.getElementById('pw').value === 'pw1'", "", "", ""},
		{"aria-label", "- fill: {selector: label=Search the site, value: lamp}\n- eval: document.querySelector('[name=q]').value === 'lamp'", "", "", ""},
		{"aria-labelledby", "- fill: {selector: label=City, value: Oslo}\n- eval: document.querySelector('[name=city]').value === 'Oslo'", "", "", ""},
		{"label contains when nothing is exact", "- click: label=offers\n- eval: document.querySelector('[name=offers]').checked", "", "", ""},
		{"placeholder", "- fill: {selector: placeholder=coupon, value: SAVE}\n- eval: document.querySelector('[name=coupon]').value === 'SAVE'", "", "", ""},
		{"testid", "- assert_text: {selector: testid=help, equals: Help}", "", "", ""},
		{"role without a name finds several", "- click: role=listitem\n- assert_visible: role=heading\n  optional: true\n  timeout: 200ms", "", "", "role=listitem matches 3 elements (li, li); the step used the first"},
		{"role name leaves hidden elements out", "- click: role=button[name=\"Place order\"]", "", "", ""},
		{"role name missing", "- click: role=button[name=\"Cancel order\"]\n  timeout: 300ms", scenarios.KindElementNotFound, `no element matches role=button[name="Cancel order"] after 300ms`, ""},
		{"nth picks one", "- assert_text: {selector: li >> nth=1, equals: two}\n- assert_text: {selector: li >> nth=-1, equals: three}", "", "", ""},
		{"chain scopes", "- click: nav >> text=Graph\n- assert_url: '#graph'", "", "", ""},
		{"text matching two elements warns", "- click: text=Graph\n- assert_url: '#graph'", "", "", "text=Graph matches 2 elements (a, button); the step used the first"},
		{"css pierces open shadow roots", "- goto: ${u}/shadow\n- click: button.inner\n- assert_text: {selector: \"#host >> .inner\", equals: pressed}\n- fill: {selector: label=Name, value: Ada}", "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			steps := "- goto: ${u}/form\n" + tc.steps
			if strings.HasPrefix(tc.steps, "- goto:") {
				steps = tc.steps
			}
			res := runSteps(t, srv.URL, "", steps)
			checkOutcome(t, res, tc.wantKind, tc.wantMsg)
			var warnings []string
			for _, s := range res.Steps {
				warnings = append(warnings, s.Warnings...)
			}
			got := strings.Join(warnings, "\n")
			if got != tc.warning {
				t.Errorf("warnings = %q, want %q", got, tc.warning)
			}
		})
	}
}

func TestExtractAndBuiltins(t *testing.T) {
	t.Parallel()
	srv := sitesSite(t)
	tests := []struct {
		name     string
		keys     string
		steps    string
		wantKind scenarios.ErrorKind
		wantMsg  string
	}{
		{"pattern group from text", "", "- goto: ${u}/record\n- extract: {var: id, selector: \"#created\", pattern: 'ID (\\S+)'}\n- goto: ${u}/plain?rec=${id}\n- assert_url: {matches: 'rec=rec-4711$'}", "", ""},
		{"eval value", "", "- goto: ${u}/record\n- extract: {var: id, eval: window.recordId}\n- eval: \"'${id}' === 'rec-4711'\"", "", ""},
		{"var in a selector and an assertion", "", "- goto: ${u}/record\n- extract: {var: word, selector: \"#created\", pattern: '(noon)'}\n- assert_text: {selector: 'text=${word}', contains: '${word}'}", "", ""},
		{"built-ins", "", "- goto: ${u}/plain?f=${flow}&d=${device}&r=${run_id}&t=${timestamp}\n- assert_url: {matches: 'f=t&d=desktop&r=[0-9a-f]{16}&t=[0-9]{10}$'}", "", ""},
		{"pattern never matches", "", "- goto: ${u}/record\n- extract: {var: id, selector: \"#created\", pattern: 'ORDER (\\d+)'}\n  timeout: 300ms", scenarios.KindAssertion, `extract id: the text of #created is "Created record ID rec-4711 at noon", which does not match "ORDER (\\d+)"`},
		{"eval throws", "", "- goto: ${u}/record\n- extract: {var: id, eval: nothing.here}", scenarios.KindScript, "ReferenceError: nothing is not defined"},
		{"a var whose extract failed", "", "- goto: ${u}/record\n- extract: {var: id, selector: \"#nope\"}\n  timeout: 200ms\n  optional: true\n- goto: ${u}/plain?id=${id}", scenarios.KindScript, "variable ${id} has no value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := runSteps(t, srv.URL, tc.keys, tc.steps)
			checkOutcome(t, res, tc.wantKind, tc.wantMsg)
		})
	}
}

// TestExtractedSecretIsMasked: a value read from the page into a var named
// in secrets never appears in the result.
func TestExtractedSecretIsMasked(t *testing.T) {
	t.Parallel()
	srv := sitesSite(t)
	res := runSteps(t, srv.URL, "secrets: [id]\n", "- goto: ${u}/record\n- extract: {var: id, eval: window.recordId}\n- goto: ${u}/plain?id=${id}\n- assert_title: {equals: 'x ${id}'}\n  timeout: 300ms")
	checkOutcome(t, res, scenarios.KindAssertion, `expected it to equals "x ***"`)
	if s := fmt.Sprintf("%+v %+v", *res, res.Pages); strings.Contains(s, "rec-4711") {
		t.Errorf("the extracted secret leaks into the result: %s", s)
	}
}

func TestFinally(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		steps       string
		finally     string
		wantKind    scenarios.ErrorKind
		wantMsg     string
		wantDeleted []string
		cleanupOK   []bool
	}{
		{"runs after success", "- goto: ${u}/record\n- extract: {var: id, eval: window.recordId}", "- goto: ${u}/delete?id=${id}", "", "", []string{"rec-4711"}, []bool{true}},
		{"runs after a failure", "- goto: ${u}/record\n- extract: {var: id, eval: window.recordId}\n- click: \"#nope\"\n  timeout: 200ms", "- goto: ${u}/delete?id=${id}", scenarios.KindElementNotFound, "#nope", []string{"rec-4711"}, []bool{true}},
		{"a failed cleanup keeps a success", "- goto: ${u}/record", "- click: \"#nope\"\n  timeout: 200ms\n- goto: ${u}/delete?id=after", "", "", []string{"after"}, []bool{false, true}},
		{"runs after the flow's timeout", "- goto: ${u}/record\n- sleep: 30s", "- goto: ${u}/delete?id=late", scenarios.KindTimeout, "flow's timeout", []string{"late"}, []bool{true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := sitesSite(t)
			src := "name: t\ntimeout: 2s\nsteps:\n" + indent(tc.steps) + "finally:\n" + indent(tc.finally)
			f := mustFlow(t, strings.ReplaceAll(src, "${u}", srv.URL))
			res := (&Runner{Browser: testBrowser}).Run(context.Background(), f, desktop(t))
			checkOutcome(t, res, tc.wantKind, tc.wantMsg)
			if got := srv.deletedIDs(); fmt.Sprint(got) != fmt.Sprint(tc.wantDeleted) {
				t.Errorf("deleted %v, want %v", got, tc.wantDeleted)
			}
			var ok []bool
			for _, s := range res.Steps {
				if s.Cleanup {
					ok = append(ok, s.Success)
					if !strings.HasPrefix(s.Name, "finally-") {
						t.Errorf("cleanup step named %q, want the finally- prefix", s.Name)
					}
				}
			}
			if fmt.Sprint(ok) != fmt.Sprint(tc.cleanupOK) {
				t.Errorf("cleanup steps succeeded %v, want %v", ok, tc.cleanupOK)
			}
			if n := len(res.CleanupFailures()); n != strings.Count(fmt.Sprint(tc.cleanupOK), "false") {
				t.Errorf("CleanupFailures() = %d", n)
			}
		})
	}
}

func TestTabs(t *testing.T) {
	t.Parallel()
	srv := sitesSite(t)
	tests := []struct {
		name     string
		steps    string
		wantKind scenarios.ErrorKind
		wantMsg  string
		tabs     []int // of the result's pages
	}{
		{"target=_blank continues in the new tab and close_tab returns", "- goto: ${u}/tabs\n- click: \"#blank\"\n- assert_title: Plain\n- close_tab:\n- assert_title: Tabs\n- click: \"#noop\"\n- assert_text: {selector: \"#noop\", equals: still here}", "", "", []int{0, 1}},
		{"window.open, and window.close returns", "- goto: ${u}/tabs\n- click: \"#open\"\n- assert_title: Popup\n- click: \"#close\"\n- assert_title: Tabs", "", "", []int{0, 1}},
		{"the new tab is followed for navigations", "- goto: ${u}/tabs\n- click: \"#blank\"\n- goto: ${u}/record\n- assert_text: {selector: \"#created\", contains: rec-4711}", "", "", []int{0, 1, 1}},
		{"close_tab in the first tab fails", "- goto: ${u}/tabs\n- close_tab:", scenarios.KindAssertion, "the flow is in its first tab", []int{0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := runSteps(t, srv.URL, "", tc.steps)
			checkOutcome(t, res, tc.wantKind, tc.wantMsg)
			var tabs []int
			for _, p := range res.Pages {
				tabs = append(tabs, p.Tab)
			}
			if fmt.Sprint(tabs) != fmt.Sprint(tc.tabs) {
				t.Errorf("pages %+v in tabs %v, want %v", res.Pages, tabs, tc.tabs)
			}
		})
	}
}

func TestFramesAndActionability(t *testing.T) {
	t.Parallel()
	srv := sitesSite(t)
	tests := []struct {
		name     string
		steps    string
		wantKind scenarios.ErrorKind
		wantMsg  string
	}{
		{"fill and click inside a same-origin iframe", "- goto: ${u}/frame\n- fill: {selector: iframe#pay >> label=Card number, value: '4242'}\n- click: iframe#pay >> role=button[name=Pay]\n- assert_text: {selector: 'iframe#pay >> #paid', equals: paid with 4242}", "", ""},
		{"waits inside a frame", "- goto: ${u}/frame\n- wait_for: 'iframe#pay >> #late'\n- assert_visible: iframe#pay >> text=late in the frame", "", ""},
		{"click inside a cross-origin frame of the same site", "- goto: ${u}/frame-other\n- click: 'iframe#other >> #x'\n- assert_text: {selector: 'iframe#other >> role=button', equals: Other origin}", "", ""},
		{"a missing element inside a cross-origin frame", "- goto: ${u}/frame-other\n- click: 'iframe#other >> #nope'\n  timeout: 300ms", scenarios.KindElementNotFound, "no element matches iframe#other >> #nope after 300ms"},
		{"a missing element inside a frame of another site", "- goto: ${u}/frame-site\n- fill: {selector: iframe#payment >> label=Card numbr, value: '4242'}\n  timeout: 500ms", scenarios.KindElementNotFound, "no element matches iframe#payment >> label=Card numbr after 500ms"},
		// 2s: on a busy machine the frame of another site (a process of
		// its own) may still be laying out at 500 ms, and the step then
		// ends on "kept moving" before it saw the cover.
		{"the page covers a frame of another site", "- goto: ${u}/frame-site?banner\n- click: iframe#payment >> role=button[name=Pay]\n  timeout: 2s", scenarios.KindTimeout, `iframe#payment >> role=button[name="Pay"] is covered by div#banner after 2s, so a user could not click it`},
		{"text inside a frame of another site", "- goto: ${u}/frame-site\n- assert_text: {selector: 'iframe#payment >> #late', equals: late in the frame}\n- assert_visible: iframe#payment >> text=late in the frame", "", ""},
		{"missing element inside a frame", "- goto: ${u}/frame\n- click: 'iframe#pay >> #nope'\n  timeout: 300ms", scenarios.KindElementNotFound, "no element matches iframe#pay >> #nope after 300ms"},
		{"a click waits for the modal's fade-in", "- goto: ${u}/modal\n- click: \"#open\"\n- click: \"#ok\"\n- assert_text: {selector: \"#ok\", equals: clicked}", "", ""},
		{"a wrapped link is clicked on its first line", "- goto: ${u}/wrapped\n- eval: \"(() => { const r = document.getElementById('wrapped').getBoundingClientRect(); return document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2).id === 'para'; })()\"\n- click: \"#wrapped\"\n- assert_url: '#done'", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := runSteps(t, srv.URL, "", tc.steps)
			checkOutcome(t, res, tc.wantKind, tc.wantMsg)
		})
	}
}

// TestCrossSiteFrame: a labelled form in an iframe of another site (which
// Chrome runs out of process) is filled and submitted, and its text
// asserted, on desktop and mobile, with the frame scrolled into view first.
//
// The shared test browser (chrome-headless-shell) keeps the frame in the
// page's process; a browser with site-per-process, as desktop Chrome runs,
// gives it a process and a target of its own. Both must work.
func TestCrossSiteFrame(t *testing.T) {
	t.Parallel()
	srv := sitesSite(t)
	isolated, err := browser.Start(browser.Options{NoSandbox: os.Geteuid() == 0, SitePerProcess: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := isolated.Close(); err != nil {
			t.Error(err)
		}
	})
	for _, tc := range []struct {
		name, device string
		b            *browser.Browser
	}{
		{"in process desktop", "desktop", testBrowser},
		{"in process mobile", "mobile", testBrowser},
		{"out of process desktop", "desktop", isolated},
		{"out of process mobile", "mobile", isolated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, ok := scenarios.LookupDevice(tc.device)
			if !ok {
				t.Fatal("no device " + tc.device)
			}
			f := mustFlow(t, "name: t\ntimeout: 20s\nsteps:\n"+indent(strings.ReplaceAll("- goto: ${u}/frame-site\n"+
				"- fill: {selector: iframe#payment >> label=Card number, value: '4242'}\n"+
				"- click: iframe#payment >> role=button[name=Pay]\n"+
				"- assert_text: {selector: 'iframe#payment >> #paid', equals: paid with 4242}\n"+
				// The frame goes to another document: the chain follows it.
				"- click: iframe#payment >> text=Next\n"+
				"- click: iframe#payment >> role=button[name=Other origin]\n"+
				"- eval: \"document.title === 'Frame'\"", "${u}", srv.URL)))
			res := (&Runner{Browser: tc.b}).Run(context.Background(), f, d)
			checkOutcome(t, res, "", "")
		})
	}
}

// TestScreenshotWaitsForAnimations: the panel fades from transparent to
// red over 600 ms from the first frames; a screenshot right after the page
// loads must show the end state, not a pink in-between.
func TestScreenshotWaitsForAnimations(t *testing.T) {
	t.Parallel()
	srv := sitesSite(t)
	dir := t.TempDir()
	f := mustFlow(t, "name: anim\nsteps:\n  - goto: "+srv.URL+"/animated\n  - screenshot: panel\n")
	res := (&Runner{Browser: testBrowser, ArtifactsDir: dir}).Run(context.Background(), f, desktop(t))
	checkOutcome(t, res, "", "")
	data, err := os.ReadFile(res.Screenshots[0])
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	r, g, b, _ := img.At(10, 10).RGBA()
	if r>>8 < 250 || g>>8 > 5 || b>>8 > 5 {
		t.Errorf("pixel = %d,%d,%d; want the panel's red after its fade", r>>8, g>>8, b>>8)
	}
}
