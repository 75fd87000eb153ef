package runner

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/uxprobe/uxprobe/scenarios"
)

// inputPages are pages that take input as apps do that this package did not
// write: a form that validates on keyup, two code editors that build their
// text from key events only, a page that acts on shortcuts, a node that
// opens on a double click and a button with touch handlers.
var inputPages = map[string]string{
	// The button is enabled by a keyup handler only, as apps that validate
	// on keyup do; every event a keyboard sends is counted.
	"/signup": `<!doctype html><title>Sign up</title>
<input id="user" autocomplete="off"><button id="go" disabled onclick="document.getElementById('out').textContent='sent '+document.getElementById('user').value">Send</button>
<p id="out"></p><p id="events"></p>
<script>
const user = document.getElementById('user'), n = {keydown: 0, keypress: 0, input: 0, keyup: 0};
for (const t of Object.keys(n)) user.addEventListener(t, () => { n[t]++; document.getElementById('events').textContent = Object.entries(n).map(([k, v]) => k + '=' + v).join(' '); });
user.addEventListener('keyup', () => { document.getElementById('go').disabled = user.value.length < 3; });
</script>`,
	// A textarea-based editor (as CodeMirror 5 is): it takes over every
	// key and keeps the text itself; the textarea stays empty, and so
	// neither insertText nor a value setter reaches the editor.
	"/editor": `<!doctype html><title>Editor</title>
<div id="editor" style="border:1px solid #999;min-height:40px"><textarea id="input" style="width:300px;height:20px"></textarea><pre id="code"></pre></div>
<p id="shortcut"></p>
<div id="rich" contenteditable="true" style="border:1px solid #999;min-height:40px"></div>
<p id="rich-keys"></p>
<script>
let text = '';
const input = document.getElementById('input');
input.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && e.shiftKey) { document.getElementById('shortcut').textContent = 'run ' + text; e.preventDefault(); return; }
  if (e.key === 'a' && e.ctrlKey) { document.getElementById('shortcut').textContent = 'select all'; e.preventDefault(); return; }
  if (e.key === 'Backspace') text = text.slice(0, -1);
  else if (e.key === 'Enter') text += '\n';
  else if (e.key.length === 1 && !e.ctrlKey && !e.metaKey) text += e.key;
  e.preventDefault();
  document.getElementById('code').textContent = text;
});
input.addEventListener('input', () => { input.value = ''; });
const rich = document.getElementById('rich'); let keys = 0;
rich.addEventListener('keyup', () => { document.getElementById('rich-keys').textContent = 'keyups ' + (++keys); });
document.addEventListener('keydown', (e) => {
  if (e.key === 'k' && e.metaKey) document.getElementById('shortcut').textContent = 'palette';
});
</script>`,
	"/node": `<!doctype html><title>Node</title>
<div id="node" style="width:120px;height:40px;background:#a6bbcf">function</div><p id="opened"></p>
<script>
let clicks = 0, dbl = 0;
const node = document.getElementById('node'), show = () => { document.getElementById('opened').textContent = 'clicks ' + clicks + ' dblclicks ' + dbl; };
node.addEventListener('click', () => { clicks++; show(); });
node.addEventListener('dblclick', () => { dbl++; show(); });
</script>`,
	"/search": `<!doctype html><title>Search</title><form action="/found"><input id="q" name="q"></form>`,
	"/touch": `<!doctype html><title>Touch</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<button id="b" style="width:160px;height:60px">Tap</button><p id="log">none</p>
<script>
const n = {touchstart: 0, touchend: 0, mousedown: 0, click: 0}, b = document.getElementById('b');
for (const t of Object.keys(n)) b.addEventListener(t, () => { n[t]++; document.getElementById('log').textContent = Object.entries(n).map(([k, v]) => k + '=' + v).join(' '); }, {passive: true});
</script>`,
}

func inputSite(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	for path, body := range inputPages {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<link rel="icon" href="data:,">`+body)
		})
	}
	mux.HandleFunc("/found", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(200 * time.Millisecond) // a step that did not wait for it reads the form's page
		fmt.Fprintf(w, `<!doctype html><link rel="icon" href="data:,"><title>Found</title><h1>Found %s</h1>`, html.EscapeString(r.URL.Query().Get("q")))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestInputAsAPersonGivesIt runs each kind of input against the page it
// is for, in Chrome: fill with key events and with insert, type into code
// editors, press with modifiers, dblclick, and click as a tap on a phone.
func TestInputAsAPersonGivesIt(t *testing.T) {
	t.Parallel()
	srv := inputSite(t)
	tests := []struct {
		name, device, steps string
		wantErr             string // a part of the failure's message; "" for success
	}{
		{"fill types key by key", "desktop", `
- goto: ${u}/signup
- fill: {selector: '#user', value: alice}
- assert_text: {selector: '#events', equals: keydown=5 keypress=5 input=6 keyup=5}
- click: '#go'
- assert_text: {selector: '#out', equals: sent alice}`, ""},
		{"fill replaces what the field held", "desktop", `
- goto: ${u}/signup
- fill: {selector: '#user', value: bob}
- fill: {selector: '#user', value: carol}
- assert_text: {selector: '#user', equals: carol}`, ""},
		{"fill with insert sends no key events", "desktop", `
- goto: ${u}/signup
- fill: {selector: '#user', value: alice, insert: true}
- assert_text: {selector: '#user', equals: alice}
- assert_text: {selector: '#events', equals: keydown=0 keypress=0 input=2 keyup=0}`, ""},
		{"fill with insert leaves a keyup-validated button disabled", "desktop", `
- goto: ${u}/signup
- fill: {selector: '#user', value: alice, insert: true}
- {click: '#go', timeout: 1s}`, "disabled"},
		{"fill's line break submits, and the new page is waited for", "desktop", `
- goto: ${u}/search
- fill: {selector: '#q', value: "lamp\n"}
- eval: document.title === 'Found'`, ""},
		{"fill types what no key types", "desktop", `
- goto: ${u}/signup
- fill: {selector: '#user', value: 'crème 中文 ok'}
- assert_text: {selector: '#user', equals: 'crème 中文 ok'}`, ""},
		{"type into a textarea editor that listens to keys only", "desktop", `
- goto: ${u}/editor
- click: '#input'
- type: print(6*7)
- assert_text: {selector: '#code', equals: print(6*7)}`, ""},
		{"type into a selector, with a line break", "desktop", `
- goto: ${u}/editor
- type: {selector: '#input', text: "a = 1\nprint(a)"}
- eval: document.getElementById('code').textContent === 'a = 1\nprint(a)'`, ""},
		{"type into a contenteditable", "desktop", `
- goto: ${u}/editor
- type: {selector: '#rich', text: 'Hello, world'}
- assert_text: {selector: '#rich', equals: 'Hello, world'}
- assert_text: {selector: '#rich-keys', equals: keyups 12}`, ""},
		{"press Shift+Enter", "desktop", `
- goto: ${u}/editor
- type: {selector: '#input', text: x}
- press: Shift+Enter
- assert_text: {selector: '#shortcut', equals: run x}
- assert_text: {selector: '#code', equals: x}`, ""},
		{"press Control+A selects all in a field", "desktop", `
- goto: ${u}/signup
- fill: {selector: '#user', value: alice, insert: true}
- press: {selector: '#user', key: Control+A}
- type: bob
- assert_text: {selector: '#user', equals: bob}`, ""},
		{"press Control+A reaches the page's handler", "desktop", `
- goto: ${u}/editor
- press: {selector: '#input', key: Control+A}
- assert_text: {selector: '#shortcut', equals: select all}
- assert_text: {selector: '#code', equals: ''}`, ""},
		{"press Meta+K", "desktop", `
- goto: ${u}/editor
- press: Meta+K
- assert_text: {selector: '#shortcut', equals: palette}`, ""},
		{"dblclick", "desktop", `
- goto: ${u}/node
- dblclick: '#node'
- assert_text: {selector: '#opened', equals: clicks 2 dblclicks 1}`, ""},
		{"two clicks are no double click", "desktop", `
- goto: ${u}/node
- click: '#node'
- click: '#node'
- sleep: 50ms
- assert_text: {selector: '#opened', equals: clicks 2 dblclicks 0}`, ""},
		{"click on a phone is a tap", "mobile", `
- goto: ${u}/touch
- click: '#b'
- assert_text: {selector: '#log', equals: touchstart=1 touchend=1 mousedown=1 click=1}`, ""},
		{"click on a desktop is the mouse's", "desktop", `
- goto: ${u}/touch
- click: '#b'
- assert_text: {selector: '#log', equals: touchstart=0 touchend=0 mousedown=1 click=1}`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			yaml := "name: input\ntimeout: 10s\nsteps:\n" + indent(strings.ReplaceAll(strings.TrimPrefix(tc.steps, "\n"), "${u}", srv.URL))
			f := mustFlow(t, yaml)
			res := (&Runner{Browser: testBrowser}).Run(context.Background(), f, lookup(t, tc.device))
			switch {
			case tc.wantErr == "" && !res.Success:
				t.Fatalf("failed: %+v", res.Error)
			case tc.wantErr != "" && res.Success:
				t.Fatalf("passed, want a failure with %q", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(res.Error.Message, tc.wantErr):
				t.Fatalf("failed with %q, want %q", res.Error.Message, tc.wantErr)
			}
		})
	}
}

// BenchmarkFill is what typing key by key costs against insert: the fill
// step's time for a 25-character value, each way (make bench).
func BenchmarkFill(b *testing.B) {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><title>Form</title><h1>Sign in</h1><input id="f">`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	const value = "guest.user@example.com 42" // 25 characters
	for _, way := range []struct{ name, opt string }{{"keys", ""}, {"insert", ", insert: true"}} {
		b.Run(way.name, func(b *testing.B) {
			flows, err := scenarios.Parse("b.yaml", []byte(fmt.Sprintf("name: fill\nsteps:\n  - goto: %s/\n  - fill: {selector: '#f', value: %q%s}\n", srv.URL, value, way.opt)), scenarios.LoadOptions{})
			if err != nil {
				b.Fatal(err)
			}
			r := &Runner{Browser: testBrowser}
			var total float64
			for b.Loop() {
				res := r.Run(context.Background(), flows[0], lookup(b, "desktop"))
				if !res.Success {
					b.Fatalf("failed: %+v", res.Error)
				}
				total += res.Steps[1].DurationSeconds
			}
			b.ReportMetric(total/float64(b.N)*1000, "fill-ms")
		})
	}
}

// TestFillClearsInTheWait: fill clears its field in the call that waited
// for it; the field's old text is gone, and a field that is not one fails
// as an assertion that says so, as when the clear was a call of its own.
func TestFillClearsInTheWait(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`<!doctype html><link rel="icon" href="data:,"><title>f</title><input id="q" value="old"><div id="d">not a field</div>`))
	}))
	t.Cleanup(srv.Close)
	open := "steps:\n  - goto: " + srv.URL + "/\n"
	res := (&Runner{Browser: testBrowser}).Run(context.Background(), mustFlow(t, "name: ok\n"+open+"  - fill: {selector: \"#q\", value: new}\n  - assert_text: {selector: \"#q\", equals: new}\n"), desktop(t))
	if !res.Success {
		t.Errorf("fill into a field with text: %+v", res.Error)
	}
	res = (&Runner{Browser: testBrowser}).Run(context.Background(), mustFlow(t, "name: bad\n"+open+"  - fill: {selector: \"#d\", value: new}\n"), desktop(t))
	if res.Success || res.Error.Kind != scenarios.KindAssertion || !strings.Contains(res.Error.Message, "is not a text field") {
		t.Errorf("fill into a div: %+v, want an assertion that it is not a text field", res.Error)
	}
}
