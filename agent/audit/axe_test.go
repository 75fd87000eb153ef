package audit

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"

	"github.com/uxprobe/uxprobe/agent/demoshop"
	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// testAxe is the axe-core `make axe` installed (or UXPROBE_AXE_PATH's): the
// accessibility tests run the real engine or fail.
func testAxe(t testing.TB) *Axe {
	t.Helper()
	a, err := FindAxe("")
	if err != nil {
		t.Fatalf("the accessibility tests need axe-core: %v", err)
	}
	return a
}

// isoTabEval is a tab with an isolated world of its main frame for
// axe-core, as the runner gives the audit.
type isoTabEval struct {
	tabEval
	world runtime.ExecutionContextID
}

var _ IsolatedEvaluator = isoTabEval{}

func (e isoTabEval) EvaluateIsolated(ctx context.Context, expr string, out any) error {
	return evaluateIn(ctx, e.t, e.world, expr, out)
}

// isolatedTab gives ev's page (which stays on its document) an isolated
// world.
func isolatedTab(t testing.TB, ev tabEval) isoTabEval {
	t.Helper()
	ctx := context.Background()
	tree, err := cdp.Call(ctx, ev.t, page.GetFrameTree, cdp.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := cdp.Call(ctx, ev.t, page.CreateIsolatedWorld, page.CreateIsolatedWorldParams{FrameID: tree.FrameTree.Frame.ID, WorldName: "uxprobe-audit-test"})
	if err != nil {
		t.Fatal(err)
	}
	return isoTabEval{ev, w.ExecutionContextID}
}

func a11yRules(fs []result.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Rule)
	}
	return out
}

// TestAccessibility is the truth table of the accessibility rule: a clean
// page of ours gives no finding on any device, and a page with one known
// barrier gives exactly that axe rule on every device where the barrier
// shows, and nothing elsewhere.
func TestAccessibility(t *testing.T) {
	testAxe(t)
	cases := []struct {
		name string
		page string
		want map[string][]string // device -> a11y rules found
		// first is the selector of the first example, wherever found.
		first  string
		impact string
		wcag   []string
	}{
		{name: "clean", page: cleanPage(viewportMeta, ""), want: map[string][]string{}},
		{
			name: "missing alt", first: "#photo", impact: "critical", wcag: []string{"1.1.1"},
			page: cleanPage(viewportMeta, `<img id="photo" src="/img.png?w=100&h=100" width="100" height="100">`),
			want: everyDevice("a11y-image-alt"),
		},
		{
			name: "missing label", first: "#card", impact: "critical", wcag: []string{"4.1.2"},
			page: cleanPage(viewportMeta, `<form><input id="card" name="card" style="height:32px"></form>`),
			want: everyDevice("a11y-label"),
		},
		{
			// #a3a3a3 on white is 2.5:1, under the 4.5:1 of body text.
			name: "contrast 2.5:1", first: "#pale", impact: "serious", wcag: []string{"1.4.3"},
			page: cleanPage(viewportMeta, `<p id="pale" style="color:#a3a3a3;background:#fff">Free delivery from 50 euros</p>`),
			want: everyDevice("a11y-color-contrast"),
		},
		{
			name: "button without a name", first: "#buy", impact: "critical", wcag: []string{"4.1.2"},
			page: cleanPage(viewportMeta, `<button id="buy" style="width:44px;height:44px"></button>`),
			want: everyDevice("a11y-button-name"),
		},
		{
			name: "lang missing", first: "html", impact: "serious", wcag: []string{"3.1.1"},
			page: strings.Replace(cleanPage(viewportMeta, ""), `<html lang="en">`, `<html>`, 1),
			want: everyDevice("a11y-html-has-lang"),
		},
		{
			name: "focusable element hidden with aria-hidden", first: "#ghost", impact: "serious", wcag: []string{"4.1.2"},
			page: cleanPage(viewportMeta, `<div id="ghost" aria-hidden="true"><a href="/offers">Offers</a></div>`),
			want: everyDevice("a11y-aria-hidden-focus"),
		},
		{
			// The phone layout greys the button out: a barrier of one
			// device only.
			name: "contrast on phones only", first: "#pay", impact: "serious", wcag: []string{"1.4.3"},
			page: cleanPage(viewportMeta+`<style>#pay{color:#fff;background:#1a5c2e;min-height:44px;border:0}
@media (max-width: 600px){#pay{background:#9bc7a8}}</style>`, `<button id="pay">Place order</button>`),
			want: map[string][]string{"mobile": {"a11y-color-contrast"}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // one tab each, in the shared browser
			srv := testSite(t, map[string]string{"/": tc.page})
			for _, name := range devices {
				d := device(t, name)
				ev := isolatedTab(t, openPage(t, srv.URL+"/", d))
				rep, err := Run(context.Background(), ev, d.Class, []string{scenarios.Accessibility})
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if len(rep.Errors) > 0 || !slices.Equal(rep.Checked, []string{scenarios.Accessibility}) {
					t.Fatalf("%s: checked %v, errors %v", name, rep.Checked, rep.Errors)
				}
				if got := a11yRules(rep.Findings); !slices.Equal(got, tc.want[name]) {
					t.Errorf("%s: found %v, want %v\n%s", name, got, tc.want[name], dump(rep.Findings))
					continue
				}
				for _, f := range rep.Findings {
					id := strings.TrimPrefix(f.Rule, scenarios.A11yPrefix)
					if f.Count != 1 || len(f.Examples) != 1 || f.Examples[0].Selector != tc.first || f.Impact != tc.impact ||
						!slices.Equal(f.WCAG, tc.wcag) || !strings.HasPrefix(f.HelpURL, "https://dequeuniversity.com/rules/axe/4.") ||
						!strings.HasSuffix(f.HelpURL, "/"+id) || f.Message == "" || f.URL != srv.URL+"/" {
						t.Errorf("%s: finding %s, want one example %s, impact %s, WCAG %v, a help URL", name, dump([]result.Finding{f}), tc.first, tc.impact, tc.wcag)
					}
					if e := f.Examples[0]; tc.first != "html" && (e.Width <= 0 || e.Height <= 0) {
						t.Errorf("%s: example without a rectangle: %+v", name, e)
					}
				}
			}
		})
	}
}

func everyDevice(rules ...string) map[string][]string {
	m := map[string][]string{}
	for _, d := range devices {
		m[d] = rules
	}
	return m
}

// TestAccessibilityOptions: single rules run alone, min_impact leaves out
// lesser violations, undecided results are kept apart, and the page rules
// and axe run side by side in one audit.
func TestAccessibilityOptions(t *testing.T) {
	testAxe(t)
	// A missing label (critical), a pale paragraph (serious), text over a
	// background image whose contrast axe cannot decide, an unsized image
	// (a page rule).
	page := cleanPage(viewportMeta, `<form><input id="card" name="card" style="height:32px"></form>
<p id="pale" style="color:#a3a3a3;background:#fff">Free delivery</p>
<div id="banner" style="background:url(/img.png?w=300&h=80) #fff;width:300px;height:80px;color:#777"><span id="over">Sale</span></div>
<img id="unsized" src="/img.png?w=20&h=20" alt="Dot">`)
	srv := testSite(t, map[string]string{"/": page})
	d := device(t, "mobile")
	ev := openPage(t, srv.URL+"/", d)
	ctx := context.Background()
	cases := []struct {
		name        string
		names       []string
		want        []string
		wantChecked []string
		wantReview  []string
	}{
		{"everything", []string{"image-dimensions", "accessibility"}, []string{"image-dimensions", "a11y-color-contrast", "a11y-label"},
			[]string{"image-dimensions", "accessibility"}, []string{"a11y-color-contrast"}},
		{"one axe rule", []string{"a11y-label"}, []string{"a11y-label"}, []string{"accessibility"}, nil},
		{"min_impact critical", []string{"accessibility", "min_impact=critical"}, []string{"a11y-label"}, []string{"accessibility"}, nil},
		// region is a best practice: off in accessibility, on when named.
		{"a best practice when named", []string{"accessibility", "a11y-region", "min_impact=serious"}, []string{"a11y-color-contrast", "a11y-label"},
			[]string{"accessibility"}, []string{"a11y-color-contrast"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Run(ctx, ev, d.Class, tc.names)
			if err != nil {
				t.Fatal(err)
			}
			if got := a11yRules(rep.Findings); !slices.Equal(got, tc.want) {
				t.Errorf("found %v, want %v\n%s", got, tc.want, dump(rep.Findings))
			}
			if !slices.Equal(rep.Checked, tc.wantChecked) {
				t.Errorf("checked %v, want %v", rep.Checked, tc.wantChecked)
			}
			if got := a11yRules(rep.NeedsReview); !slices.Equal(got, tc.wantReview) {
				t.Errorf("needs review %v, want %v\n%s", got, tc.wantReview, dump(rep.NeedsReview))
			}
			for _, f := range rep.NeedsReview {
				if len(f.Examples) == 0 || f.Examples[0].Selector != "#over" {
					t.Errorf("needs review %s, want the text over the image", dump([]result.Finding{f}))
				}
			}
		})
	}
}

// TestAxeBrokenByThePage: a page that holds window.axe fast costs the
// accessibility rule on that page, reported as its error, and not the page
// rules' findings.
func TestAxeBrokenByThePage(t *testing.T) {
	testAxe(t)
	srv := testSite(t, map[string]string{"/": cleanPage(viewportMeta, `<img id="unsized" src="/img.png?w=20&h=20" alt="Dot">
<script>Object.defineProperty(window, 'axe', {value: {version: 'mine', run() { throw new Error('not today'); }}, writable: false, configurable: false});</script>`)})
	d := device(t, "mobile")
	ev := openPage(t, srv.URL+"/", d)
	rep, err := Run(context.Background(), ev, d.Class, []string{"image-dimensions", "accessibility"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Checked, []string{"image-dimensions"}) || !slices.Equal(a11yRules(rep.Findings), []string{"image-dimensions"}) {
		t.Errorf("checked %v, findings %v; want image-dimensions only", rep.Checked, a11yRules(rep.Findings))
	}
	if len(rep.Errors) != 1 || rep.Errors[0].Rule != "accessibility" {
		t.Errorf("errors %+v, want accessibility's", rep.Errors)
	}
}

// TestAxeIsolated: a page that fakes axe-core (a window.axe whose run
// finds nothing, of the pinned version so that it is not replaced) fools
// an audit in the page's own world, and not one in an isolated world,
// which finds the page's real barrier.
func TestAxeIsolated(t *testing.T) {
	a := testAxe(t)
	fake := `<script>window.axe = {version: '` + a.Version + `', run: async () => ({url: location.href, violations: [], incomplete: []})};</script>`
	srv := testSite(t, map[string]string{"/": cleanPage(viewportMeta+fake, `<img id="photo" src="/img.png?w=100&h=100" width="100" height="100">`)})
	d := device(t, "desktop")
	cases := []struct {
		name string
		ev   func(tabEval) Evaluator
		want []string
	}{
		{"page's world", func(ev tabEval) Evaluator { return ev }, nil},
		{"isolated world", func(ev tabEval) Evaluator { return isolatedTab(t, ev) }, []string{"a11y-image-alt"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev := tc.ev(openPage(t, srv.URL+"/", d))
			rep, err := Run(context.Background(), ev, d.Class, []string{scenarios.Accessibility})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Errors) > 0 || !slices.Equal(rep.Checked, []string{scenarios.Accessibility}) {
				t.Fatalf("checked %v, errors %v", rep.Checked, rep.Errors)
			}
			if got := a11yRules(rep.Findings); !slices.Equal(got, tc.want) {
				t.Errorf("found %v, want %v", got, tc.want)
			}
			// The page's fake stays the page's: the isolated world did
			// not touch it.
			var v string
			if err := ev.Evaluate(context.Background(), `String(window.axe.run).includes('violations: []') ? window.axe.version : 'replaced'`, &v); err != nil || v != a.Version {
				t.Errorf("the page's axe is %q (%v), want its fake of %s", v, err, a.Version)
			}
		})
	}
}

// TestAxeRuleList: the ids LoadAxe reads from the script are axe's own
// list in the page, and those of the pinned version scenarios keeps.
func TestAxeRuleList(t *testing.T) {
	a := testAxe(t)
	if a.Version != scenarios.AxeVersion {
		t.Errorf("installed axe-core %s, pinned %s: run make axe", a.Version, scenarios.AxeVersion)
	}
	srv := testSite(t, map[string]string{"/": cleanPage(viewportMeta, "")})
	d := device(t, "desktop")
	ev := openPage(t, srv.URL+"/", d)
	ctx := context.Background()
	// The page rules alone do not bring axe-core in.
	if _, err := Run(ctx, ev, d.Class, []string{"help-link"}); err != nil {
		t.Fatal(err)
	}
	var typ string
	if err := ev.Evaluate(ctx, `typeof axe`, &typ); err != nil || typ != "undefined" {
		t.Errorf("after a page-rules audit, typeof axe = %q (%v), want undefined", typ, err)
	}
	if err := injectAxe(ctx, ev, a); err != nil {
		t.Fatal(err)
	}
	var ids []string
	if err := ev.Evaluate(ctx, `axe.getRules().map(r => r.ruleId)`, &ids); err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	got := slices.Sorted(slices.Values(a.Rules))
	if !slices.Equal(got, ids) {
		t.Errorf("LoadAxe read %d rules, axe.getRules() has %d:\n%v\n%v", len(got), len(ids), got, ids)
	}
	if known := slices.Sorted(slices.Values(scenarios.KnownAxeRules())); a.Version == scenarios.AxeVersion && !slices.Equal(known, ids) {
		t.Errorf("scenarios' known ids differ from axe-core %s's", a.Version)
	}
}

func TestFindAxe(t *testing.T) {
	a := testAxe(t)
	dir := t.TempDir()
	notAxe := filepath.Join(dir, "other.js")
	if err := os.WriteFile(notAxe, []byte("console.log(1)"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("the flag wins", func(t *testing.T) {
		t.Setenv(AxePathEnv, notAxe)
		got, err := FindAxe(a.Path)
		if err != nil || got.Path != a.Path {
			t.Errorf("FindAxe(%s) = %v, %v", a.Path, got, err)
		}
	})
	t.Run("the variable next", func(t *testing.T) {
		t.Setenv(AxePathEnv, a.Path)
		t.Setenv("XDG_CACHE_HOME", dir)
		t.Setenv("HOME", dir)
		got, err := FindAxe("")
		if err != nil || got.Path != a.Path {
			t.Errorf("FindAxe() = %v, %v", got, err)
		}
	})
	t.Run("a given path is not a fallback", func(t *testing.T) {
		t.Setenv(AxePathEnv, "")
		_, err := FindAxe(filepath.Join(dir, "nope.js"))
		if err == nil || !strings.Contains(err.Error(), "make axe") {
			t.Errorf("err %v, want one that says how to install axe-core", err)
		}
		if _, err := FindAxe(notAxe); err == nil || !strings.Contains(err.Error(), "is not axe.min.js") {
			t.Errorf("err %v for a file that is not axe-core", err)
		}
	})
	t.Run("nothing installed", func(t *testing.T) {
		t.Setenv(AxePathEnv, "")
		t.Setenv("XDG_CACHE_HOME", dir)
		t.Setenv("HOME", dir)
		if _, err := os.Stat(ImageAxePath); err == nil {
			t.Skip("this machine has the image's axe-core")
		}
		_, err := FindAxe("")
		if err == nil || !strings.Contains(err.Error(), "npm install --prefix "+filepath.Join(dir, "uxprobe", "axe-core-"+scenarios.AxeVersion)) {
			t.Errorf("err %v, want the npm command into the cache", err)
		}
	})
}

func TestWCAGCriteria(t *testing.T) {
	got := wcagCriteria([]string{"cat.color", "wcag2aa", "wcag143", "wcag21aa", "wcag1410", "wcag412", "best-practice", "wcag143"})
	if want := []string{"1.4.3", "1.4.10", "4.1.2"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// BenchmarkAxe is the accessibility audit's cost per page, as the runner
// pays it on each page it opens: axe-core injected (the page is new to it)
// and run with the WCAG A and AA rules, on the demo shop's checkout and on a
// page of 5,000 elements, on a phone.
func BenchmarkAxe(b *testing.B) {
	testAxe(b)
	shop := httptest.NewServer(demoshop.New())
	b.Cleanup(shop.Close)
	srv := testSite(b, map[string]string{"/": cleanPage(viewportMeta, elements5000())})
	for _, bc := range []struct{ name, url string }{
		{"checkout", shop.URL + "/checkout"},
		{"5000-elements", srv.URL + "/"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			d := device(b, "mobile")
			// In the isolated world the runner gives axe-core; each audit
			// injects it anew, as on a page the flow opens.
			ev := isolatedTab(b, openPage(b, bc.url, d))
			ctx := context.Background()
			var count int
			if err := ev.Evaluate(ctx, `document.getElementsByTagName('*').length`, &count); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if err := ev.EvaluateIsolated(ctx, `delete window.axe`, nil); err != nil {
					b.Fatal(err)
				}
				rep, err := Run(ctx, ev, d.Class, []string{scenarios.Accessibility})
				if err != nil || !slices.Equal(rep.Checked, []string{scenarios.Accessibility}) {
					b.Fatal(err, rep)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/audit")
			b.ReportMetric(float64(count), "elements")
		})
	}
}
