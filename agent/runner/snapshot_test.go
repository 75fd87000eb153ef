package runner

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// visualPage is a page that would picture differently on each load
// without Snapshot's care: a web font of its own that arrives late, a
// finite CSS animation and a transition under way, an endless spinner, a
// focused text field with its blinking caret, a page and a box that
// scroll. The field has the page's web font: in Chrome's own font for
// form controls, its text moved by a fraction of a pixel on about one
// load in ten on a loaded machine (25 device pixels on the phone), which
// two pictures in a row did not see (a limit of the check, not of this
// page). The variants change it as a regression would: shift moves a
// paragraph of several lines 1 px down, color gives the button another
// colour, date shows the time of the load.
func visualPage(variant string) string {
	pMargin, button := "16px", "#2563eb"
	switch variant {
	case "shift":
		pMargin = "17px"
	case "color":
		button = "#16a34a"
	}
	return `<!doctype html><html><head><title>Visual</title><meta name="viewport" content="width=device-width">
<style>
@font-face { font-family: Probe; src: url(/font.woff2) format('woff2'); font-display: swap; }
body { font-family: Probe, serif; margin: 8px; font-size: 18px; }
@keyframes slide { from { transform: translateX(-300px); opacity: 0.2; } to { transform: none; opacity: 1; } }
@keyframes spin { to { transform: rotate(360deg); } }
@keyframes move { to { transform: translateX(300px); } }
#mover { width: 40px; height: 20px; background: #111; animation: move 4s linear; }
h1 { animation: slide 6s ease-out; margin: 0; }
#spinner { width: 24px; height: 24px; border: 4px solid #ccc; border-top-color: #333; border-radius: 50%; animation: spin 1s linear infinite; }
#fade { width: 200px; height: 30px; background: #fde68a; transition: background-color 6s linear, width 6s linear; }
#fade.on { background: #7c3aed; width: 300px; }
p#para { margin-top: ` + pMargin + `; max-width: 340px; line-height: 1.3; }
button#buy { background: ` + button + `; color: #fff; border: 0; font: inherit; width: 220px; height: 56px; }
#box { width: 200px; height: 60px; overflow: scroll; border: 1px solid #999; }
#date { font-family: monospace; }
input { font: inherit; }
.tall { height: 2000px; }
</style></head><body>
<h1>Checkout</h1>
<div id="spinner"></div>
<div id="mover"></div>
<div id="fade"></div>
<input id="q" value="lamp" autofocus>
<p id="para">The quick brown fox jumps over the lazy dog, again and again,
over the fence and under the bridge, until every letter of the alphabet
has shown itself at least once in this long paragraph.</p>
<button id="buy">Place order</button>
<div id="box"><div style="width:400px;height:300px">scroll me</div></div>
<p>Today: <span id="date"></span></p>
<div class="tall"></div>
<script>
requestAnimationFrame(() => requestAnimationFrame(() => document.getElementById('fade').classList.add('on')));
document.getElementById('date').textContent = ` + map[bool]string{true: "new Date().toISOString()", false: "'2026-01-01'"}[variant == "date"] + `;
document.getElementById('q').focus();
</script>
</body></html>`
}

// visualSite serves visualPage's variants at /<variant> and the web font,
// late, as a font from a CDN on a slow day.
func visualSite(t *testing.T) *httptest.Server {
	t.Helper()
	font, err := os.ReadFile(filepath.Join("testdata", "fonts", "open-sans.woff2"))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/font.woff2", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(300 * time.Millisecond):
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "font/woff2")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(font)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprint(w, visualPage(strings.Trim(r.URL.Path, "/")))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// visualRuns is how many times TestSnapshotDeterministic pictures the page
// again on each device.
const visualRuns = 5

// TestSnapshotDeterministic: the same page, loaded again and pictured
// again, is the same picture to the pixel, on desktop and on a phone,
// whatever its font, animations, caret and scrollbars were doing.
func TestSnapshotDeterministic(t *testing.T) {
	t.Parallel()
	srv := visualSite(t)
	steps := "  - goto: " + srv.URL + "/base\n  - assert_screenshot: {name: page, threshold: 0}\n"
	for i := 1; i <= visualRuns; i++ {
		steps += fmt.Sprintf("  - {name: load %d, goto: %s/base}\n  - {name: again %d, assert_screenshot: {name: page, threshold: 0}}\n", i, srv.URL, i)
	}
	f := mustFlow(t, "name: deterministic\ntimeout: 90s\nsteps:\n"+steps)
	for _, device := range []string{"desktop", "mobile"} {
		t.Run(device, func(t *testing.T) {
			t.Parallel()
			d, _ := scenarios.LookupDevice(device)
			// The agent's default filmstrip records the screencast
			// meanwhile: the pictures must not change with it.
			r := &Runner{Browser: testBrowser, ArtifactsDir: t.TempDir(), Baselines: t.TempDir(), Filmstrip: FilmstripOnFailure}
			res := r.Run(context.Background(), f, d)
			if !res.Success {
				t.Fatalf("the run failed: %+v", res.Error)
			}
			first := res.Steps[1]
			if first.Visual == nil || !first.Visual.Recorded || !hasWarning(first, "baseline recorded") {
				t.Fatalf("the first picture was not recorded as the baseline: %+v", first)
			}
			checked := 0
			for _, st := range res.Steps[2:] {
				if st.Action != "assert_screenshot" {
					continue
				}
				checked++
				if v := st.Visual; v == nil || v.Recorded || v.DiffRatio != 0 || v.ChangedPixels != 0 {
					t.Errorf("%s: visual %+v, want a diff ratio of 0 against the baseline", st.Name, v)
				}
			}
			if checked != visualRuns {
				t.Errorf("%d comparisons, want %d", checked, visualRuns)
			}
			base, err := os.ReadFile(filepath.Join(r.Baselines, "deterministic", d.Name, "page.png"))
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(base))
			if err != nil {
				t.Fatal(err)
			}
			// A picture of the viewport in device pixels.
			if want := int(float64(d.Width) * d.Scale); img.Bounds().Dx() != want {
				t.Errorf("baseline is %d px wide, want the viewport's %d device px", img.Bounds().Dx(), want)
			}
		})
	}
}

func hasWarning(st result.Step, part string) bool {
	for _, w := range st.Warnings {
		if strings.Contains(w, part) {
			return true
		}
	}
	return false
}

// TestAssertScreenshotCatches: a baseline of the page, then a variant of
// it: what a person would see as changed fails with kind visual and
// keeps the actual, the baseline and the diff; what a mask covers does
// not.
func TestAssertScreenshotCatches(t *testing.T) {
	t.Parallel()
	srv := visualSite(t)
	tests := []struct {
		name, variant, check string
		fail                 bool
	}{
		// A paragraph of three lines, 1 px lower.
		{"1px shift of a paragraph", "shift", "assert_screenshot: page", true},
		// Blue (#2563eb) to green (#16a34a): far over pixelmatch's
		// default per-pixel threshold of 0.1.
		{"button colour", "color", "assert_screenshot: page", true},
		// The date's few pixels are under the default share: threshold 0.
		{"changing date", "date", "assert_screenshot: {name: page, threshold: 0}", true},
		{"changing date masked", "date", "assert_screenshot: {name: page, mask: ['#date'], threshold: 0}", false},
		{"same page", "base", "assert_screenshot: page", false},
		{"whole page", "color", "assert_screenshot: {name: page, full_page: true}", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// The baseline: the first page, with the check's own mask
			// and full_page (the date of a baseline is its own time).
			check := strings.Replace(tc.check, "assert_screenshot: ", "", 1)
			f := mustFlow(t, fmt.Sprintf("name: catches\ntimeout: 40s\nsteps:\n  - goto: %s/%s\n  - {name: baseline, assert_screenshot: %s}\n  - goto: %s/%s\n  - {name: check, assert_screenshot: %s}\n",
				srv.URL, map[bool]string{true: "date", false: "base"}[tc.variant == "date"], check, srv.URL, tc.variant, check))
			if tc.variant == "date" {
				time.Sleep(5 * time.Millisecond) // another millisecond, another date
			}
			d := desktop(t)
			r := &Runner{Browser: testBrowser, ArtifactsDir: t.TempDir(), Baselines: t.TempDir()}
			res := r.Run(context.Background(), f, d)
			last := res.Steps[len(res.Steps)-1]
			v := last.Visual
			if v == nil {
				t.Fatalf("step %s has no visual: %+v (error %+v)", last.Name, last, res.Error)
			}
			t.Logf("diff ratio %.6f, %d changed pixels", v.DiffRatio, v.ChangedPixels)
			if !tc.fail {
				if !res.Success || v.DiffRatio != 0 {
					t.Fatalf("success %v, visual %+v, error %+v: want a pass at ratio 0", res.Success, v, res.Error)
				}
				if v.Actual != "" || v.Diff != "" {
					t.Errorf("a passing step kept pictures: %+v", v)
				}
				return
			}
			if res.Success || res.Error.Kind != scenarios.KindVisual || res.Error.Step != "check" {
				t.Fatalf("success %v, error %+v: want a failure of kind visual at step check", res.Success, res.Error)
			}
			if v.ChangedPixels == 0 {
				t.Errorf("visual %+v: want changed pixels", v)
			}
			if !strings.Contains(res.Error.Message, "differs from its baseline") {
				t.Errorf("message %q", res.Error.Message)
			}
			for what, path := range map[string]string{"actual": v.Actual, "baseline": v.Baseline, "diff": v.Diff} {
				if !strings.HasPrefix(path, r.ArtifactsDir) || !strings.HasSuffix(path, "page."+what+".png") {
					t.Errorf("%s at %q, want page.%s.png among the artifacts", what, path, what)
					continue
				}
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := png.Decode(bytes.NewReader(data)); err != nil {
					t.Errorf("%s is not a PNG: %v", what, err)
				}
			}
		})
	}
}

// TestAssertScreenshotBaselineOfAnotherSize: a baseline taken on another
// viewport is a clear failure that says both sizes, not a crash; with
// UpdateBaselines the picture replaces it and the step passes.
func TestAssertScreenshotBaselineOfAnotherSize(t *testing.T) {
	t.Parallel()
	srv := visualSite(t)
	f := mustFlow(t, "name: sizes\nsteps:\n  - goto: "+srv.URL+"/base\n  - assert_screenshot: page\n")
	d := desktop(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "sizes", d.Name, "page.png")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	var small bytes.Buffer
	if err := png.Encode(&small, newGray(390, 844)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, small.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &Runner{Browser: testBrowser, ArtifactsDir: t.TempDir(), Baselines: dir}
	res := r.Run(context.Background(), f, d)
	if res.Success || res.Error.Kind != scenarios.KindVisual {
		t.Fatalf("success %v, error %+v: want kind visual", res.Success, res.Error)
	}
	want := fmt.Sprintf("%dx%d pixels, its baseline 390x844", d.Width, d.Height)
	if !strings.Contains(res.Error.Message, want) {
		t.Errorf("message %q does not say %q", res.Error.Message, want)
	}
	if v := res.Steps[1].Visual; v == nil || v.Actual == "" || v.DiffRatio != 1 {
		t.Errorf("visual %+v: want the actual kept and a ratio of 1", v)
	}

	r.UpdateBaselines = true
	res = r.Run(context.Background(), f, d)
	if !res.Success || res.Steps[1].Visual == nil || !res.Steps[1].Visual.Recorded {
		t.Fatalf("with UpdateBaselines: success %v, steps %+v", res.Success, res.Steps)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width != int(d.Width) {
		t.Errorf("the rewritten baseline is %d px wide (%v), want %d", cfg.Width, err, d.Width)
	}
}

func newGray(w, h int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 200
	}
	return img
}
