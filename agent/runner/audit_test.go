package runner

import (
	"context"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/uxprobe/uxprobe/agent/audit"
	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// auditSite serves a page that is clean on a desktop and overflows on a
// phone (a 900 px promotion), a page with an unsized image, and a clean
// page that links to it.
func auditSite(t *testing.T) *httptest.Server {
	t.Helper()
	page := func(body string) string {
		return `<!doctype html><link rel="icon" href="data:,"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Shop</title><style>body{margin:0;font:16px/1.5 sans-serif} nav a{display:inline-block;padding:12px 16px}</style>
<nav><a href="/help">Help</a><a id="next" href="/unsized">Next</a></nav><h1>Lamps</h1><p>Light for every room of the house.</p>` + body
	}
	mux := http.NewServeMux()
	serve := func(path, html string) {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, html)
		})
	}
	serve("/{$}", page(""))
	serve("/help", page(""))
	serve("/promo", page(`<div id="promo" style="width:900px;height:120px;background:#fc0">Spring sale</div>`))
	serve("/unsized", page(`<img id="photo" src="/photo.png" alt="" style="max-width:100%">`))
	serve("/account/s3cr3t-token/", page(`<img id="photo" src="/photo.png" alt="" style="max-width:100%">`))
	mux.HandleFunc("/photo.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write(noisyPNG(40, 30))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func lookup(t testing.TB, name string) scenarios.Device {
	t.Helper()
	d, ok := scenarios.LookupDevice(name)
	if !ok {
		t.Fatalf("no device %q", name)
	}
	return d
}

func findingRules(fs []result.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Step+":"+f.Rule)
	}
	return out
}

// TestAuditStep runs an audit step with fail on and off, on a phone where
// the page overflows and on a desktop where it fits.
func TestAuditStep(t *testing.T) {
	t.Parallel()
	srv := auditSite(t)
	cases := []struct {
		name, device, audit string
		wantSuccess         bool
		wantFindings        []string
		wantShot            bool // audit-<step>.png with the examples outlined
	}{
		{"fail off records and goes on", "mobile", "all", true, []string{"check:horizontal-overflow"}, false},
		{"fail on fails the run", "mobile", "{rules: all, fail: true}", false, []string{"check:horizontal-overflow"}, true},
		{"fail on, but the desktop fits", "desktop", "{rules: all, fail: true}", true, nil, false},
		{"a rule list leaves the others out", "mobile", "{rules: [viewport-meta, help-link], fail: true}", true, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			f := mustFlow(t, fmt.Sprintf("name: a\ntimeout: 20s\nsteps:\n  - goto: %s/promo\n  - name: check\n    audit: %s\n  - assert_title: Shop\n", srv.URL, tc.audit))
			r := &Runner{Browser: testBrowser, ArtifactsDir: dir}
			res := r.Run(context.Background(), f, lookup(t, tc.device))
			if res.Success != tc.wantSuccess {
				t.Fatalf("success %v, want %v; error %+v", res.Success, tc.wantSuccess, res.Error)
			}
			if got := findingRules(res.Findings); !slices.Equal(got, tc.wantFindings) {
				t.Fatalf("findings %v, want %v: %+v", got, tc.wantFindings, res.Findings)
			}
			if !tc.wantSuccess {
				if res.Error.Kind != scenarios.KindAudit || res.Error.Step != "check" ||
					res.Error.Message != "the audit found horizontal-overflow (1): #promo" {
					t.Errorf("error %+v, want kind audit naming the rule, count and element", res.Error)
				}
				if res.Outcome() != result.OutcomeFailure {
					t.Errorf("outcome %s: an audit failure is the site's", res.Outcome())
				}
			} else if len(res.Steps) != 3 || !res.Steps[2].Success {
				t.Errorf("the flow did not go on after the audit: %+v", res.Steps)
			}
			if len(res.Findings) > 0 {
				fd := res.Findings[0]
				if fd.URL != srv.URL+"/promo" || fd.Count != 1 || len(fd.Examples) != 1 || fd.Examples[0].Width != 900 {
					t.Errorf("finding %+v", fd)
				}
			}
			shot := filepath.Join(dir, "a", tc.device, "audit-check.png")
			_, err := os.Stat(shot)
			if tc.wantShot != (err == nil) {
				t.Fatalf("audit screenshot exists: %v, want %v", err == nil, tc.wantShot)
			}
			if tc.wantShot {
				if !slices.Contains(res.Screenshots, shot) {
					t.Errorf("screenshots %v do not list %s", res.Screenshots, shot)
				}
				if n := outlinePixels(t, shot); n < 100 {
					t.Errorf("the audit screenshot has %d outline-red pixels; the example is not outlined", n)
				}
				if n := outlinePixels(t, filepath.Join(dir, "a", tc.device, "failure-check.png")); n != 0 {
					t.Errorf("the failure screenshot has %d outline-red pixels: the outline was not removed", n)
				}
			}
		})
	}
}

// outlinePixels counts the pure red pixels of the outline's border.
func outlinePixels(t *testing.T, path string) int {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	img, err := png.Decode(fh)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r>>8 > 0xd0 && g>>8 < 0x20 && bl>>8 < 0x20 {
				n++
			}
		}
	}
	return n
}

// TestFlowAudit checks the flow-level key: every page the flow opens is
// audited after its load, by a goto or a click, with the findings under
// the step that opened the page, a page opened twice counted once, and
// the checked rules listed even when they found nothing.
func TestFlowAudit(t *testing.T) {
	t.Parallel()
	srv := auditSite(t)
	f := mustFlow(t, fmt.Sprintf(`name: a
timeout: 20s
audit: [image-dimensions, horizontal-overflow, viewport-meta]
steps:
  - name: home
    goto: %[1]s/
  - name: next
    click: "#next"
  - name: again
    goto: %[1]s/unsized
  - name: promo
    goto: %[1]s/promo
  - name: look
    audit: [image-dimensions]
`, srv.URL))
	cases := []struct {
		device  string
		want    []string
		checked []string
	}{
		{"desktop", []string{"next:image-dimensions"}, []string{"horizontal-overflow", "image-dimensions"}},
		{"mobile", []string{"next:image-dimensions", "promo:horizontal-overflow"}, []string{"horizontal-overflow", "viewport-meta", "image-dimensions"}},
	}
	for _, tc := range cases {
		t.Run(tc.device, func(t *testing.T) {
			t.Parallel()
			r := &Runner{Browser: testBrowser}
			res := r.Run(context.Background(), f, lookup(t, tc.device))
			if !res.Success {
				t.Fatalf("flow failed: %+v", res.Error)
			}
			if got := findingRules(res.Findings); !slices.Equal(got, tc.want) {
				t.Errorf("findings %v, want %v: %+v", got, tc.want, res.Findings)
			}
			if !slices.Equal(res.AuditedRules, tc.checked) {
				t.Errorf("audited rules %v, want %v", res.AuditedRules, tc.checked)
			}
			byRule := res.FindingsByRule()
			if byRule["image-dimensions"] != 1 || byRule["horizontal-overflow"] != len(tc.want)-1 {
				t.Errorf("findings by rule %v", byRule)
			}
			if _, ok := byRule["text-size"]; ok {
				t.Errorf("text-size was not checked, but has a count: %v", byRule)
			}
			for _, fd := range res.Findings {
				if fd.Rule == "image-dimensions" && (fd.URL != srv.URL+"/unsized" || !strings.HasPrefix(fd.Examples[0].Selector, "#photo")) {
					t.Errorf("finding %+v", fd)
				}
			}
		})
	}
}

// TestAuditMasksSecrets: a secret in the page's URL never reaches the
// findings.
func TestAuditMasksSecrets(t *testing.T) {
	t.Parallel()
	srv := auditSite(t)
	f := mustFlow(t, fmt.Sprintf("name: a\ntimeout: 20s\nvars: {token: s3cr3t-token}\nsecrets: [token]\nsteps:\n  - goto: %s/account/${token}/\n  - audit: [image-dimensions]\n", srv.URL))
	res := (&Runner{Browser: testBrowser}).Run(context.Background(), f, lookup(t, "desktop"))
	if !res.Success || len(res.Findings) != 1 {
		t.Fatalf("success %v, findings %+v", res.Success, res.Findings)
	}
	if got, want := res.Findings[0].URL, srv.URL+"/account/***/"; got != want {
		t.Errorf("finding URL %q, want %q", got, want)
	}
}

// TestAccessibilityNeedsReview: what axe-core could not decide (text over
// a background image) reaches the result apart from the findings, under
// the step that audited, from an audit step and from the flow-level audit
// alike; a violation (a field without a label) is a finding.
func TestAccessibilityNeedsReview(t *testing.T) {
	t.Parallel()
	if _, err := audit.FindAxe(""); err != nil {
		t.Fatalf("the accessibility tests need axe-core (make axe): %v", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html lang="en"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Shop</title>
<main><h1>Lamps</h1><form><input id="card" name="card"></form>
<div id="banner" style="background:url(/photo.png) #fff;width:300px;height:80px;color:#777"><span id="over">Sale</span></div></main>`)
	})
	mux.HandleFunc("/photo.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write(noisyPNG(300, 80))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	cases := []struct{ name, flow, step string }{
		{"audit step", "steps:\n  - name: open\n    goto: %s/\n  - name: a11y\n    audit: accessibility\n", "a11y"},
		{"flow-level audit", "audit: [accessibility]\nsteps:\n  - name: open\n    goto: %s/\n", "open"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := mustFlow(t, "name: a\ntimeout: 30s\n"+fmt.Sprintf(tc.flow, srv.URL))
			res := (&Runner{Browser: testBrowser}).Run(context.Background(), f, lookup(t, "desktop"))
			if !res.Success {
				t.Fatalf("run failed: %+v", res.Error)
			}
			if got := findingRules(res.Findings); !slices.Contains(got, tc.step+":a11y-label") || slices.Contains(got, tc.step+":a11y-color-contrast") {
				t.Errorf("findings %v, want %s:a11y-label and no undecided contrast among them", got, tc.step)
			}
			if got := findingRules(res.NeedsReview); !slices.Equal(got, []string{tc.step + ":a11y-color-contrast"}) {
				t.Fatalf("needs_review %v, want [%s:a11y-color-contrast]", got, tc.step)
			}
			if ex := res.NeedsReview[0].Examples; len(ex) == 0 || ex[0].Selector != "#over" {
				t.Errorf("needs_review examples %+v, want the text over the image", ex)
			}
			if !slices.Contains(res.AuditedRules, scenarios.Accessibility) {
				t.Errorf("audited_rules %v lack %s", res.AuditedRules, scenarios.Accessibility)
			}
		})
	}
}

// TestAccessibilityIsolated: a page that fakes axe-core (a window.axe of
// the pinned version whose run finds nothing) does not hide its real
// barrier, an input without a label, from the audit step or the
// flow-level audit: axe-core runs in an isolated world of the page. The
// page rules still run in the page's world beside it.
func TestAccessibilityIsolated(t *testing.T) {
	t.Parallel()
	a, err := audit.FindAxe("")
	if err != nil {
		t.Fatalf("the accessibility tests need axe-core (make axe): %v", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Shop</title>
<script>window.axe = {version: %q, run: async () => ({url: location.href, violations: [], incomplete: []})};</script>
<main><h1>Lamps</h1><form><input id="card" name="card"></form></main>`, a.Version)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	cases := []struct{ name, flow, step string }{
		{"audit step", "steps:\n  - name: open\n    goto: %s/\n  - name: a11y\n    audit: [accessibility, horizontal-overflow]\n", "a11y"},
		{"flow-level audit", "audit: [accessibility, horizontal-overflow]\nsteps:\n  - name: open\n    goto: %s/\n", "open"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := mustFlow(t, "name: a\ntimeout: 30s\n"+fmt.Sprintf(tc.flow, srv.URL))
			res := (&Runner{Browser: testBrowser}).Run(context.Background(), f, lookup(t, "desktop"))
			if !res.Success {
				t.Fatalf("run failed: %+v", res.Error)
			}
			if got := findingRules(res.Findings); !slices.Equal(got, []string{tc.step + ":a11y-label"}) {
				t.Errorf("findings %v, want [%s:a11y-label]", got, tc.step)
			}
			if !slices.Equal(res.AuditedRules, []string{"horizontal-overflow", scenarios.Accessibility}) {
				t.Errorf("audited_rules %v, want horizontal-overflow and accessibility", res.AuditedRules)
			}
		})
	}
}
