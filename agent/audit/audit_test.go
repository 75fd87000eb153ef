package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/uxprobe/uxprobe/agent/browser"
	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

var testBrowser *browser.Browser

func TestMain(m *testing.M) {
	b, err := browser.Start(browser.Options{NoSandbox: os.Geteuid() == 0})
	if err != nil {
		fmt.Fprintln(os.Stderr, "audit tests need Chrome:", err)
		os.Exit(1)
	}
	testBrowser = b
	code := m.Run()
	if err := b.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "closing Chrome:", err)
	}
	os.Exit(code)
}

// tabEval evaluates in a real Chrome tab, as the runner does.
type tabEval struct{ t *chromedp.Target }

func (e tabEval) Evaluate(ctx context.Context, expr string, out any) error {
	return evaluateIn(ctx, e.t, 0, expr, out)
}

// evaluateIn evaluates in the world world of t's page (0: the page's own).
func evaluateIn(ctx context.Context, t *chromedp.Target, world runtime.ExecutionContextID, expr string, out any) error {
	res, err := cdp.Call(ctx, t, runtime.Evaluate, runtime.EvaluateParams{Expression: expr, AwaitPromise: ptr(true), ReturnByValue: ptr(true), ContextID: world})
	if err != nil {
		return err
	}
	if res.ExceptionDetails != nil {
		desc := res.ExceptionDetails.Text
		if res.ExceptionDetails.Exception != nil {
			desc = res.ExceptionDetails.Exception.Description
		}
		return fmt.Errorf("page threw: %s", desc)
	}
	if out == nil || res.Result == nil || len(res.Result.Value) == 0 {
		return nil
	}
	return json.Unmarshal(res.Result.Value, out)
}

func ptr[T any](v T) *T { return &v }

// openPage opens url in a fresh tab emulating the device the way the
// runner does, waits for its load and for its images, and returns the tab.
func openPage(t testing.TB, url string, d scenarios.Device) tabEval {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	tab, err := testBrowser.NewTab(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := tab.Close(); err != nil {
			t.Error(err)
		}
	})
	tgt := chromedp.FromContext(tab.Ctx).Target
	if _, err := cdp.Call(tab.Ctx, tgt, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: d.Width, Height: d.Height, DeviceScaleFactor: d.Scale, Mobile: d.Mobile, ScreenWidth: d.Width, ScreenHeight: d.Height,
	}); err != nil {
		t.Fatal(err)
	}
	if d.Touch {
		if _, err := cdp.Call(tab.Ctx, tgt, emulation.SetTouchEmulationEnabled, emulation.SetTouchEmulationEnabledParams{Enabled: true, MaxTouchPoints: 5}); err != nil {
			t.Fatal(err)
		}
	}
	if d.UserAgent != "" {
		if _, err := cdp.Call(tab.Ctx, tgt, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: d.UserAgent}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := chromedp.Run(tab.Ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	ev := tabEval{tgt}
	// Images decoded and two frames painted: the largest contentful paint
	// is reported after the frame that shows it.
	settle := `Promise.all([...document.images].filter(i => i.getBoundingClientRect().top < innerHeight)
		.map(i => i.complete ? null : new Promise(r => { i.addEventListener('load', r); i.addEventListener('error', r); })))
		.then(() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))))`
	if err := ev.Evaluate(tab.Ctx, settle, nil); err != nil {
		t.Fatal(err)
	}
	return ev
}

// servePNG serves a noisy image of the size in the query (w, h).
func servePNG(w http.ResponseWriter, r *http.Request) {
	wd, _ := strconv.Atoi(r.URL.Query().Get("w"))
	ht, _ := strconv.Atoi(r.URL.Query().Get("h"))
	wd, ht = min(max(wd, 1), 2000), min(max(ht, 1), 2000)
	img := image.NewNRGBA(image.Rect(0, 0, wd, ht))
	// Noise: Chrome leaves low-entropy images (bytes per pixel shown) out
	// of the largest contentful paint.
	rng := rand.New(rand.NewPCG(uint64(wd), uint64(ht)))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.Uint32())
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	w.Header().Set("Content-Type", "image/png")
	w.Write(b.Bytes())
}

const viewportMeta = `<meta name="viewport" content="width=device-width, initial-scale=1">`

// cleanPage is a page without any finding on any device. It holds the
// traps that must not become findings: a skip link off-screen, a visually
// hidden link, small text in a hidden element, a carousel that scrolls
// inside itself, a link in a sentence, a checkbox with its label, a lazy
// image far below the fold, a very wide element that is not displayed.
func cleanPage(head, body string) string {
	return `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
` + head + `
<title>Lamps</title>
<style>
body{margin:0;font:16px/1.5 sans-serif}
nav a{display:inline-block;padding:12px 16px}
img{max-width:100%;height:auto;display:block}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.carousel{display:flex;overflow-x:auto;gap:8px}
.carousel div{flex:0 0 300px;height:60px;background:#def}
</style></head><body>
<a class="skip" href="#main" style="position:absolute;left:-9999px;top:0">Skip to content</a>
<nav><a href="/">Home</a><a href="/shop">Shop</a><a class="help" href="/help">Help</a></nav>
<main id="main">
<h1>Lamps for every room</h1>
<p>Our lamps light reading corners and desks. Read the <a href="/care">care guide</a> before you clean a shade, and ask us anything.</p>
<img src="/img.png?w=600&h=300" width="600" height="300" alt="A lamp">
<form action="/search"><label for="q">Search</label> <input id="q" name="q" style="height:32px;width:180px">
<button style="min-height:44px;padding:0 16px">Go</button>
<label style="display:inline-block;padding:10px 4px"><input type="checkbox" name="r"> Remember me</label></form>
<a class="sr-only" href="/a11y">Accessibility statement</a>
<div style="display:none"><p style="font-size:8px">` + strings.Repeat("tiny hidden print ", 200) + `</p><div style="width:3000px">wide</div><a href="/x" style="font-size:6px">x</a></div>
<div class="carousel" tabindex="0" role="region" aria-label="Lamps in a row"><div>one</div><div>two</div><div>three</div><div>four</div><div>five</div><div>six</div></div>
<p>` + strings.Repeat("Warm light for long evenings. ", 20) + `</p>
<div style="height:2000px"></div>
<img src="/img.png?w=400&h=200" width="400" height="200" loading="lazy" alt="Another lamp">
` + body + `
</main></body></html>`
}

func testSite(t testing.TB, pages map[string]string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/img.png", servePNG)
	for path, html := range pages {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, html)
		})
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func device(t testing.TB, name string) scenarios.Device {
	t.Helper()
	d, ok := scenarios.LookupDevice(name)
	if !ok {
		t.Fatalf("no device %q", name)
	}
	return d
}

var devices = []string{"desktop", "mobile", "tablet"}

func rulesFound(rep *Report) []string {
	var out []string
	for _, f := range rep.Findings {
		out = append(out, f.Rule)
	}
	return out
}

// TestRules runs every rule on a clean page and on one page per rule that
// is clean except for that rule's defect, on a desktop, a phone and a
// tablet: each page must give exactly its finding on the devices where
// the defect shows and the rule applies, and nothing elsewhere.
func TestRules(t *testing.T) {
	cases := []struct {
		name string
		head string // replaces the viewport meta
		body string
		want map[string][]string // device -> rules with findings
		// firstExample is the selector the finding's first example must
		// have, on every device that has the finding.
		firstExample string
		// lcpImage waits until the browser reports the image with this id
		// as the largest contentful paint: it does so some frames after
		// the image has loaded.
		lcpImage string
	}{
		{name: "clean", want: map[string][]string{}},
		{
			name: "horizontal-overflow", firstExample: "#promo",
			body: `<div id="promo" style="width:900px;background:#fc0"><span>Spring sale</span><b style="display:inline-block;width:850px">-20%</b></div>`,
			// 900 px fits a desktop's 1366 px.
			want: map[string][]string{"mobile": {"horizontal-overflow"}, "tablet": {"horizontal-overflow"}},
		},
		{
			name: "tap-target-size", firstExample: "#icons > button:nth-of-type(1)",
			body: `<div id="icons"><button style="width:16px;height:16px;padding:0;margin:0 2px" aria-label="a"></button><button style="width:16px;height:16px;padding:0;margin:0 2px" aria-label="b"></button><button style="width:16px;height:16px;padding:0;margin:0 2px" aria-label="c"></button></div>`,
			want: map[string][]string{"desktop": {"tap-target-size"}, "mobile": {"tap-target-size"}, "tablet": {"tap-target-size"}},
		},
		{
			name: "small text spaced apart is not a tap-target finding",
			body: `<div><button style="width:16px;height:16px;padding:0;margin:0 12px" aria-label="a"></button><button style="width:16px;height:16px;padding:0;margin:0 12px" aria-label="b"></button></div>`,
			want: map[string][]string{},
		},
		{
			name: "text-size", firstExample: "#fine",
			body: `<p id="fine" style="font-size:10px">` + strings.Repeat("Terms and conditions apply to every lamp. ", 40) + `</p>`,
			// A desktop reader sits close to the screen: the rule is for phones and tablets.
			want: map[string][]string{"mobile": {"text-size"}, "tablet": {"text-size"}},
		},
		{
			name: "viewport-meta", head: "-",
			want: map[string][]string{"mobile": {"viewport-meta"}, "tablet": {"viewport-meta"}},
		},
		{
			name: "zoom-disabled", head: `<meta name="viewport" content="width=device-width, initial-scale=1, maximum-scale=1, user-scalable=no">`,
			firstExample: `html > head > meta:nth-of-type(2)`,
			want:         map[string][]string{"mobile": {"zoom-disabled"}, "tablet": {"zoom-disabled"}},
		},
		{
			name: "help-link",
			// The Help link disappears below 768 px, a phone.
			body: `<style>@media (max-width: 767px) { .help { display: none } }</style>`,
			want: map[string][]string{"mobile": {"help-link"}},
		},
		{
			name: "image-dimensions", firstExample: "#unsized",
			body: `<img id="unsized" src="/img.png?w=200&h=100" alt="">`,
			want: map[string][]string{"desktop": {"image-dimensions"}, "mobile": {"image-dimensions"}, "tablet": {"image-dimensions"}},
		},
		{
			name: "lazy-lcp", firstExample: "#hero", lcpImage: "hero",
			body: `<img id="hero" src="/img.png?w=400&h=520" width="400" height="520" loading="lazy" alt="" style="position:absolute;top:0;left:0;width:min(80%, 600px);height:auto">`,
			want: map[string][]string{"desktop": {"lazy-lcp"}, "mobile": {"lazy-lcp"}, "tablet": {"lazy-lcp"}},
		},
	}
	pages := map[string]string{}
	for i, tc := range cases {
		head := viewportMeta
		if tc.head == "-" {
			head = ""
		} else if tc.head != "" {
			head = tc.head
		}
		pages["/"+strconv.Itoa(i)] = cleanPage(head, tc.body)
	}
	srv := testSite(t, pages)
	for i, tc := range cases {
		for _, dn := range devices {
			t.Run(tc.name+"/"+dn, func(t *testing.T) {
				t.Parallel() // one tab each, in the shared browser
				d := device(t, dn)
				ev := openPage(t, srv.URL+"/"+strconv.Itoa(i), d)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if tc.lcpImage != "" {
					waitLCPImage(t, ev, tc.lcpImage)
				}
				rep, err := Run(ctx, ev, d.Class, nil)
				if err != nil {
					t.Fatal(err)
				}
				if len(rep.Errors) > 0 {
					t.Fatalf("rules failed in the page: %+v", rep.Errors)
				}
				if want := Applicable(nil, d.Class); !slices.Equal(rep.Checked, want) {
					t.Errorf("checked %v, want %v", rep.Checked, want)
				}
				got := rulesFound(rep)
				if !slices.Equal(got, tc.want[dn]) {
					t.Fatalf("findings %v, want %v; all: %s", got, tc.want[dn], dump(rep.Findings))
				}
				for _, f := range rep.Findings {
					if f.Count < 1 || f.Message == "" || f.URL != srv.URL+"/"+strconv.Itoa(i) {
						t.Errorf("incomplete finding %s", dump([]result.Finding{f}))
					}
					// Chrome's mobile emulation widens innerWidth to the
					// content; the screen is the device's width.
					if f.Rule == "horizontal-overflow" && !strings.Contains(f.Message, fmt.Sprintf("on a %d px wide screen", d.Width)) {
						t.Errorf("overflow compared with the wrong width: %s", f.Message)
					}
					if tc.firstExample != "" && (len(f.Examples) == 0 || f.Examples[0].Selector != tc.firstExample) {
						t.Errorf("first example of %s: %s, want selector %q", f.Rule, dump([]result.Finding{f}), tc.firstExample)
					}
					for _, e := range f.Examples {
						var same bool
						if err := ev.Evaluate(ctx, fmt.Sprintf("document.querySelectorAll(%q).length === 1", e.Selector), &same); err != nil || !same {
							t.Errorf("example selector %q does not name one element (%v)", e.Selector, err)
						}
					}
				}
			})
		}
	}
}

func waitLCPImage(t *testing.T, ev tabEval, id string) {
	t.Helper()
	var ok bool
	err := ev.Evaluate(context.Background(), `new Promise((resolve) => {
		const po = new PerformanceObserver((l) => { if (l.getEntries().some((e) => e.element && e.element.id === `+strconv.Quote(id)+`)) resolve(true); });
		po.observe({ type: 'largest-contentful-paint', buffered: true });
		setTimeout(() => resolve(false), 5000);
	})`, &ok)
	if err != nil || !ok {
		t.Fatalf("no image became the largest contentful paint (%v)", err)
	}
}

func dump(fs []result.Finding) string {
	b, _ := json.MarshalIndent(fs, "", " ")
	return string(b)
}

func TestApplicable(t *testing.T) {
	cases := []struct {
		name  string
		names []string
		class scenarios.DeviceClass
		want  []string
	}{
		{"all on desktop", nil, scenarios.ClassDesktop, []string{"horizontal-overflow", "tap-target-size", "help-link", "image-dimensions", "lazy-lcp"}},
		{"all on mobile", nil, scenarios.ClassMobile, scenarios.AuditRuleNames()[:8]},
		{"all on tablet", nil, scenarios.ClassTablet, scenarios.AuditRuleNames()[:8]},
		{"axe's rules are not the page script's", []string{"accessibility", "a11y-label", "lazy-lcp"}, scenarios.ClassMobile, []string{"lazy-lcp"}},
		{"a phone rule on desktop is not checked", []string{"viewport-meta", "text-size"}, scenarios.ClassDesktop, nil},
		{"table order, not the flow's", []string{"lazy-lcp", "viewport-meta"}, scenarios.ClassMobile, []string{"viewport-meta", "lazy-lcp"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Applicable(tc.names, tc.class); !slices.Equal(got, tc.want) {
				t.Errorf("Applicable(%v, %s) = %v, want %v", tc.names, tc.class, got, tc.want)
			}
		})
	}
}

func TestSummary(t *testing.T) {
	got := Summary([]result.Finding{
		{Rule: "horizontal-overflow", Count: 1, Examples: []result.Example{{Selector: "#promo"}}},
		{Rule: "tap-target-size", Count: 7, Examples: []result.Example{{Selector: "a.x"}, {Selector: "a.y"}, {Selector: "a.z"}, {Selector: "a.w"}}},
		{Rule: "help-link", Count: 1, Examples: []result.Example{}},
	})
	want := "the audit found horizontal-overflow (1): #promo; tap-target-size (7): a.x, a.y, a.z; help-link (1)"
	if got != want {
		t.Errorf("Summary:\n got %s\nwant %s", got, want)
	}
}

// TestOnlyNamedRules checks that a list of rules checks those only.
func TestOnlyNamedRules(t *testing.T) {
	srv := testSite(t, map[string]string{"/": cleanPage("", `<img id="unsized" src="/img.png?w=20&h=20" alt="">`)})
	d := device(t, "mobile")
	ev := openPage(t, srv.URL+"/", d)
	rep, err := Run(context.Background(), ev, d.Class, []string{"image-dimensions", "help-link"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"help-link", "image-dimensions"}; !slices.Equal(rep.Checked, want) {
		t.Errorf("checked %v, want %v", rep.Checked, want)
	}
	if got := rulesFound(rep); !slices.Equal(got, []string{"image-dimensions"}) {
		t.Errorf("findings %v, want only image-dimensions (the missing viewport meta was not asked for)", got)
	}
}

func TestOutline(t *testing.T) {
	srv := testSite(t, map[string]string{"/": cleanPage(viewportMeta, `<div id="promo" style="width:900px">wide</div><img id="unsized" src="/img.png?w=20&h=20" alt="">`)})
	d := device(t, "mobile")
	ev := openPage(t, srv.URL+"/", d)
	ctx := context.Background()
	rep, err := Run(ctx, ev, d.Class, nil)
	if err != nil {
		t.Fatal(err)
	}
	var want int
	for _, f := range rep.Findings {
		want += len(f.Examples)
	}
	if want < 2 {
		t.Fatalf("want examples of two rules, got %s", dump(rep.Findings))
	}
	count := `(document.getElementById('__uxprobe_audit_outline') || {children: []}).children.length`
	if err := Outline(ctx, ev, rep.Findings); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := ev.Evaluate(ctx, count, &n); err != nil || n != want {
		t.Errorf("outlined %d boxes (%v), want %d", n, err, want)
	}
	// The boxes sit on the examples, in document coordinates.
	first := rep.Findings[0].Examples[0]
	var at []float64
	if err := ev.Evaluate(ctx, `(() => { const r = document.getElementById('__uxprobe_audit_outline').children[0].getBoundingClientRect(); return [r.left + scrollX, r.top + scrollY]; })()`, &at); err != nil {
		t.Fatal(err)
	}
	if len(at) != 2 || abs(at[0]-first.X) > 1 || abs(at[1]-first.Y) > 1 {
		t.Errorf("first box at %v, want the example's %v,%v", at, first.X, first.Y)
	}
	// The boxes are not themselves findings.
	again, err := Run(ctx, ev, d.Class, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rulesFound(again), rulesFound(rep)) {
		t.Errorf("with outlines, findings %v, want %v", rulesFound(again), rulesFound(rep))
	}
	if err := ClearOutline(ctx, ev); err != nil {
		t.Fatal(err)
	}
	if err := ev.Evaluate(ctx, count, &n); err != nil || n != 0 {
		t.Errorf("%d boxes left after ClearOutline (%v)", n, err)
	}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

// elements5000 is a body of 5,000 elements: links in lists, paragraphs,
// images, small buttons.
func elements5000() string {
	var body strings.Builder
	n := 0
	for n < 5000 {
		body.WriteString(`<section class="card"><h2>Lamp</h2><p>Warm <a href="/l">light</a> for evenings, <small>with fine print</small>.</p>`)
		body.WriteString(`<ul><li><a href="/a">One</a></li><li><a href="/b">Two</a></li></ul><button style="width:20px;height:20px">+</button><img src="/img.png?w=8&h=8" width="8" height="8" alt=""></section>`)
		n += 11
	}
	return body.String()
}

// BenchmarkAudit5000 audits a page of 5,000 elements on a phone: links in
// lists, paragraphs, images, small buttons. The goal is well under a
// second per audit.
func BenchmarkAudit5000(b *testing.B) {
	srv := testSite(b, map[string]string{"/": cleanPage(viewportMeta, elements5000())})
	d := device(b, "mobile")
	ev := openPage(b, srv.URL+"/", d)
	var count int
	if err := ev.Evaluate(context.Background(), `document.getElementsByTagName('*').length`, &count); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		rep, err := Run(context.Background(), ev, d.Class, nil)
		if err != nil || len(rep.Checked) != len(Applicable(nil, d.Class)) {
			b.Fatal(err, rep)
		}
	}
	b.ReportMetric(float64(count), "elements")
}
