package redact_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/uxprobe/uxprobe/agent/browser"
	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/agent/runner"
	"github.com/uxprobe/uxprobe/exporters/junit"
	"github.com/uxprobe/uxprobe/scenarios"
)

// leakShort has a character of every kind an encoder changes (quotes,
// space, &, /, +, <, >, a non-ASCII letter), each between letters and
// digits that survive every encoding.
const leakShort = `Lk8"Wq3 T&p5/+öZ9<j>'x`

// leakLong is longer than any bound of the masker: 5,000 characters of a
// base64-like alphabet, + and / included, as a JWT or a certificate.
var leakLong = func() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	r := rand.New(rand.NewPCG(18, 4096))
	b := make([]byte, 5000)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}()

// leakExtracted is a value the page holds, which the flow extracts into a
// secret var: masked from the moment it is read.
const leakExtracted = "Xv4-Rt9-Hm2-Pq7-Ew5"

// leakPad puts a secret across the runner's 300-byte clip of page
// messages, where clipping before masking would keep its first 10 bytes:
// fewer than the masker's pieces (12), more than this test's (8).
var leakPad = strings.Repeat("·", 145) // 290 bytes

// leakExprPad does the same for the 120 bytes of an expression that a
// script error quotes: the expression below starts with 38 bytes.
var leakExprPad = strings.Repeat("x", 72)

// leakBrowserAndSite starts a Chrome of the test's own and the hostile
// site, whose refused requests go to an address nothing listens on.
func leakBrowserAndSite(t *testing.T) (*browser.Browser, *httptest.Server) {
	t.Helper()
	b, err := browser.Start(browser.Options{NoSandbox: os.Geteuid() == 0})
	if err != nil {
		t.Fatalf("the leak test needs Chrome: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := l.Addr().String()
	l.Close()
	return b, leakSite(t, refused)
}

// leakSite reflects whatever secret it is given in every way a page can.
func leakSite(t *testing.T, refused string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/echo/", func(w http.ResponseWriter, r *http.Request) {
		s := r.URL.Query().Get("s")
		js, _ := json.Marshal(s)
		pad, _ := json.Marshal(leakPad)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><link rel="icon" href="data:,"><title>%[1]s</title>
<h1 id="h">%[1]s</h1>
<p id="extracted">token: %[2]s</p>
<p id="entities">%[3]s</p>
<a id="dl" href="/download?s=%[4]s">download</a>
<a id="dlbin" href="/download-bin?s=%[4]s">binary download</a>
<img src="/missing/%[5]s.png">
<img src="http://%[6]s/refused?s=%[4]s">
<img src="/missing/hex-%[9]s.png">
<script>
const s = %[7]s, pad = %[8]s;
console.error(pad + s);
console.error(pad + JSON.stringify({token: s}));
console.error(pad + encodeURIComponent(s));
// As a whole in base64: of its UTF-8 bytes, inside a longer encoded
// text at each offset, URL-encoded in a request, and as btoa writes its
// Latin-1 bytes; and in hex.
const b64 = (text) => btoa(String.fromCharCode(...new TextEncoder().encode(text)));
console.error('base64 ' + b64(s) + ' ' + b64('x' + s) + ' ' + b64('xy' + s).replace(/[+]/g, '-').replace(/[/]/g, '_'));
try { console.error('btoa ' + btoa(s)); } catch (e) {}
fetch('/missing/b64?t=' + encodeURIComponent(b64('{"token":"' + s + '"}')));
console.error('hex ' + [...new TextEncoder().encode(s)].map((b) => b.toString(16).padStart(2, '0')).join('').toUpperCase());
setTimeout(() => { throw new Error(pad + s); });
history.replaceState(null, '', location.pathname + '?s=' + encodeURIComponent(s) + '&raw=' + s + '#' + s);
</script>`,
			html.EscapeString(s), leakExtracted, entities(s), url.QueryEscape(s), url.PathEscape(s), refused, js, pad, hex.EncodeToString([]byte(s)))
	})
	mux.HandleFunc("/dialog", func(w http.ResponseWriter, r *http.Request) {
		js, _ := json.Marshal(r.URL.Query().Get("s"))
		pad, _ := json.Marshal(leakPad)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><link rel="icon" href="data:,"><title>dialogs</title><h1>dialogs</h1>
<script>alert(%[2]s + %[1]s); confirm(%[1]s); prompt(%[2]s + %[1]s, %[1]s);</script>`, js, pad)
	})
	mux.HandleFunc("/download", func(w http.ResponseWriter, r *http.Request) {
		s := r.URL.Query().Get("s")
		w.Header().Set("Content-Type", "text/csv")
		w.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(s)+".csv")
		fmt.Fprintf(w, "a,b\n%s,%s\n", s, base64.StdEncoding.EncodeToString([]byte(s)))
	})
	// A file that is not text, with the secret inside.
	mux.HandleFunc("/download-bin", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", "attachment; filename=data.bin")
		fmt.Fprint(w, "\x00\x01\x02"+r.URL.Query().Get("s")+"\x00")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// entities writes s as numeric HTML entities, which the page's markup
// shows as s and innerHTML keeps as written only for &, < and >.
func entities(s string) string {
	var b strings.Builder
	for _, r := range s {
		fmt.Fprintf(&b, "&#x%x;", r)
	}
	return b.String()
}

// TestNoSecretLeavesARun runs a real flow in headless Chrome against a
// page that reflects its secrets everywhere (title, URL path, query and
// fragment, console errors, an uncaught exception, dialogs, failed
// requests, a download's name, extract results, assertion and script
// errors, step names), in the encodings the masker covers (raw, URL,
// JSON, HTML entities, base64, hex), with a secret longer than 4,096 characters, and checks
// every string of the result (by reflection), its JSON, its JUnit report,
// its HAR file, the artifacts' names and the runner's log for any 8
// characters of a secret.
func TestNoSecretLeavesARun(t *testing.T) {
	b, srv := leakBrowserAndSite(t)

	for _, tc := range []struct{ name, secret, inName string }{
		// Step names are at most 100 characters: only the short one fits.
		{"short secret of every special character", leakShort, " ${token}"},
		{"secret longer than 4096 characters", leakLong, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			flowYAML := `name: leak
keep_downloads: true
vars: {token: ` + yamlQuote(tc.secret) + `}
secrets: [token, extracted]
steps:
  - name: open` + tc.inName + `
    goto: ` + srv.URL + `/echo/` + url.PathEscape(tc.secret) + `?s=` + url.QueryEscape(tc.secret) + `
  - extract: {var: extracted, selector: "#extracted", pattern: "token: (.+)"}
  - eval: "window.__x = 1"
  - eval: "'` + leakPad + `' + document.title"
  - assert_text: {selector: h1, contains: "${token} nope"}
    timeout: 300ms
    optional: true
  - assert_text: {selector: "#extracted", equals: "${extracted} nope"}
    timeout: 300ms
    optional: true
  - eval: "(() => { throw new Error('` + leakPad + `' + document.title) })()"
    optional: true
  - extract: {var: other, eval: "(() => { throw new Error(document.querySelector('#h').textContent) })()"}
    optional: true
  - extract: {var: other2, eval: "(() => { throw new Error('e') })() + '` + leakExprPad + `${token}'"}
    optional: true
  - eval: "document.getElementById('entities').innerHTML === 'x'"
    optional: true
  - click: "#dl"
    optional: true
  - click: "#dlbin"
    optional: true
  - assert_screenshot: page
  - name: a check named with the value the run extracted as secret
    assert_screenshot: ` + leakExtracted + `
    optional: true
  - goto: ` + srv.URL + `/dialog?s=` + url.QueryEscape(tc.secret) + `
  - name: check` + tc.inName + `
    assert_title: {equals: "nope ${token}"}
    timeout: 300ms
`
			flows, err := scenarios.Parse("leak.yaml", []byte(flowYAML), scenarios.LoadOptions{LookupEnv: func(string) (string, bool) { return "", false }})
			if err != nil {
				t.Fatalf("flow: %v", err)
			}
			var logs bytes.Buffer
			// The baselines live under dir, whose file names are checked.
			r := &runner.Runner{Browser: b, ArtifactsDir: dir, HAR: runner.HARAlways, Filmstrip: runner.FilmstripAlways, Baselines: filepath.Join(dir, "baselines"),
				Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
			res := r.Run(context.Background(), flows[0], desktop(t))
			if res.Success {
				t.Fatal("the flow succeeded; want its last assertion to fail")
			}
			// The secret went where it should have: the run saw it.
			// An eval step's value is in the result (steps[].value), masked
			// before it is clipped: the pad puts the secret across the clip.
			evalValue := ""
			for _, st := range res.Steps {
				evalValue += st.Value
			}
			if !strings.Contains(evalValue, "***") {
				t.Errorf("no eval step's value shows the masked title: %.200q", evalValue)
			}
			if !strings.Contains(fmt.Sprint(res.Pages), "***") || len(res.ConsoleErrors) == 0 || len(res.Dialogs) == 0 || len(res.FailedRequests) == 0 {
				t.Errorf("the run did not see the hostile page: pages %v, %d console errors, %d dialogs, %d failed requests",
					res.Pages, len(res.ConsoleErrors), len(res.Dialogs), len(res.FailedRequests))
			}

			// The page's baseline was recorded; the check named with the
			// extracted secret failed, and wrote no file.
			if _, err := os.Stat(filepath.Join(dir, "baselines", "leak", "desktop", "page.png")); err != nil {
				t.Errorf("no baseline recorded: %v", err)
			}
			if st := stepNamed(res, "a check named with the value the run extracted as secret"); st == nil || st.Success || !strings.Contains(st.Error, "contains a secret value") {
				t.Errorf("the check named with a secret: %+v, want it refused", st)
			}
			if len(res.Filmstrip) == 0 {
				t.Error("no filmstrip kept")
			}
			// The text file is kept with its secrets masked; the other
			// one holds a secret that cannot be masked, and is not kept.
			var text, bin *result.Download
			for i, dl := range res.Downloads {
				switch {
				case strings.HasSuffix(dl.FileName, ".csv"):
					text = &res.Downloads[i]
				case dl.FileName == "data.bin":
					bin = &res.Downloads[i]
				}
			}
			if text == nil || text.Path == "" || !text.Masked {
				t.Errorf("the text download: %+v, want it kept, masked", text)
			}
			if bin == nil || bin.Path != "" || bin.NotKept == "" {
				t.Errorf("the binary download: %+v, want it not kept, saying why", bin)
			}

			assertNoSecretLeaves(t, res, dir, logs.String(), []string{tc.secret, leakExtracted})
		})
	}
}

// assertNoSecretLeaves fails on any fragment of a secret in every way a
// run's data leaves it: every string of the result, its JSON, JUnit, the HAR
// (as written and decoded), the names of the artifacts under dir (when not
// empty) and the runner's log.
func assertNoSecretLeaves(t *testing.T, res *result.Result, dir, log string, secrets []string) {
	t.Helper()
	check := func(where, s string) {
		if frag := findFragment(s, secrets); frag != "" {
			t.Errorf("%s shows %q of a secret: %.300q", where, frag, around(s, frag))
		}
	}
	walkStrings(reflect.ValueOf(res), "result", check)
	out, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	check("the result's JSON", string(out))
	var report bytes.Buffer
	if err := junit.Write(&report, []*result.Result{res}); err != nil {
		t.Fatal(err)
	}
	check("JUnit", report.String())
	if res.HAR == "" {
		t.Error("no HAR written")
	} else if data, err := os.ReadFile(res.HAR); err != nil {
		t.Error(err)
	} else {
		check("the HAR", string(data))
		var doc any
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		walkStrings(reflect.ValueOf(doc), "HAR", check) // JSON-decoded strings
	}
	if dir != "" {
		var names []string
		_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			names = append(names, path)
			return nil
		})
		check("artifact file names", strings.Join(names, "\n"))
		// The downloads kept: their content leaves the run too, served
		// by the history's API.
		for _, name := range names {
			if strings.Contains(filepath.ToSlash(name), "/downloads/") {
				if data, err := os.ReadFile(name); err == nil {
					check("the kept download "+filepath.Base(name), string(data))
				}
			}
		}
	}
	check("the runner's log", log)
}

func stepNamed(res *result.Result, name string) *result.Step {
	for i := range res.Steps {
		if res.Steps[i].Name == name {
			return &res.Steps[i]
		}
	}
	return nil
}

// TestSecretNamesNoBaseline: a check name with a secret value, however it
// gets there (a secret var, its literal value, a secret var read from the
// environment), is refused when the flow loads, and the error does not
// show the secret: it would become a baseline's file name, kept in git.
func TestSecretNamesNoBaseline(t *testing.T) {
	const secret = "cart9Secret7"
	env := func(k string) (string, bool) { return secret, k == "TOKEN" }
	for _, tc := range []struct{ name, vars, check string }{
		{"a secret var", "{token: " + secret + "}", `"${token}"`},
		{"a secret var in the name", "{token: " + secret + "}", `"checkout-${token}"`},
		{"the secret's value", "{token: " + secret + "}", secret},
		{"a secret var from the environment", `{token: "${env:TOKEN}"}`, `{name: "${token}", threshold: 0.01}`},
		{"a secret of other characters", "{token: " + yamlQuote(leakShort) + "}", `"x-${token}"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			flow := "name: leak\nvars: " + tc.vars + "\nsecrets: [token]\nsteps:\n  - assert_screenshot: " + tc.check + "\n"
			_, err := scenarios.Parse("leak.yaml", []byte(flow), scenarios.LoadOptions{LookupEnv: env})
			if err == nil {
				t.Fatal("the flow loaded; want the check name refused")
			}
			if frag := findFragment(err.Error(), []string{secret, leakShort}); frag != "" || !strings.Contains(err.Error(), "screenshot name") {
				t.Errorf("error %q: want the name refused without showing the secret", err)
			}
		})
	}
}

func desktop(t *testing.T) scenarios.Device {
	d, ok := scenarios.LookupDevice("desktop")
	if !ok {
		t.Fatal("no desktop device")
	}
	return d
}

func yamlQuote(s string) string {
	b, _ := json.Marshal(s) // JSON strings are YAML double-quoted strings
	return string(b)
}

// walkStrings calls check on every string reachable from v.
func walkStrings(v reflect.Value, path string, check func(where, s string)) {
	switch v.Kind() {
	case reflect.String:
		check(path, v.String())
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkStrings(v.Elem(), path, check)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				walkStrings(v.Field(i), path+"."+v.Type().Field(i).Name, check)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			walkStrings(v.Index(i), fmt.Sprintf("%s[%d]", path, i), check)
		}
	case reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		for _, k := range keys {
			walkStrings(k, path+"{key}", check)
			walkStrings(v.MapIndex(k), fmt.Sprintf("%s[%v]", path, k), check)
		}
	}
}

// window is the length of a secret's fragment that counts as a leak.
const window = 8

// findFragment returns the first piece of window characters of a secret,
// in any form the masker claims to cover (raw, URL query and path
// encoded, + read as a space, JSON, HTML-escaped, hex, base64), that s
// contains.
func findFragment(s string, secrets []string) string {
	pieces := piecesOf(secrets)
	for i := 0; i+window <= len(s); i++ {
		if _, ok := pieces[s[i:i+window]]; ok {
			return s[i : i+window]
		}
	}
	return ""
}

// pieceSets caches piecesOf: a test checks hundreds of strings against
// the same secrets, whose forms are long (a secret of 5,000 characters).
var pieceSets sync.Map // secrets joined by NUL -> map[string]struct{}

// piecesOf is the set of pieces of window characters of every form of the
// secrets.
func piecesOf(secrets []string) map[string]struct{} {
	key := strings.Join(secrets, "\x00")
	if set, ok := pieceSets.Load(key); ok {
		return set.(map[string]struct{})
	}
	set := map[string]struct{}{}
	for _, secret := range secrets {
		js, _ := json.Marshal(secret)
		forms := []string{secret, url.QueryEscape(secret), url.PathEscape(secret), strings.ReplaceAll(secret, "+", " "),
			strings.Trim(string(js), `"`), html.EscapeString(secret)}
		// As a whole: hex, and base64 of its UTF-8 and Latin-1 bytes at
		// each offset in a longer text (a piece starting at an offset's
		// first characters also holds the text before, and is only found
		// with it), in both alphabets and URL-encoded.
		utf8, latin1 := []byte(secret), []byte{}
		for _, r := range secret {
			latin1 = append(latin1, byte(r))
		}
		forms = append(forms, hex.EncodeToString(utf8), strings.ToUpper(hex.EncodeToString(utf8)))
		for _, b := range [][]byte{utf8, latin1} {
			for _, prefix := range []string{"", "x", "xy"} {
				std := base64.StdEncoding.EncodeToString(append([]byte(prefix), b...))
				forms = append(forms, std, base64.URLEncoding.EncodeToString(append([]byte(prefix), b...)), url.QueryEscape(std))
			}
		}
		for _, form := range forms {
			for i := 0; i+window <= len(form); i++ {
				set[form[i:i+window]] = struct{}{}
			}
		}
	}
	pieceSets.Store(key, set)
	return set
}

func around(s, frag string) string {
	i := strings.Index(s, frag)
	return s[max(0, i-100):min(len(s), i+len(frag)+100)]
}

// runLeakFlow runs a hostile flow whose last assertion fails, with every
// way out of a run switched on (artifacts, the HAR, a debug log), and
// returns its result, its log and its artifacts directory for
// assertNoSecretLeaves.
func runLeakFlow(t *testing.T, b *browser.Browser, flowYAML string, env func(string) (string, bool)) (res *result.Result, log, dir string) {
	t.Helper()
	flows, err := scenarios.Parse("leak.yaml", []byte(flowYAML), scenarios.LoadOptions{LookupEnv: env})
	if err != nil {
		t.Fatalf("flow: %v", err)
	}
	dir = t.TempDir()
	var logs bytes.Buffer
	r := &runner.Runner{Browser: b, ArtifactsDir: dir, HAR: runner.HARAlways,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	res = r.Run(context.Background(), flows[0], desktop(t))
	if res.Success {
		t.Fatal("the flow succeeded; want its last assertion to fail")
	}
	return res, logs.String(), dir
}
