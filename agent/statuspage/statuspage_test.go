package statuspage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uxprobe/uxprobe/agent/history"
	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

var update = flag.Bool("update", false, "rewrite the golden pages under testdata/")

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func res(id, flow, device string, ago time.Duration, failStep string, kind scenarios.ErrorKind) *result.Result {
	class := "desktop"
	if device == "mobile" {
		class = "mobile"
	}
	r := &result.Result{
		ID: id, Flow: flow, Device: device, DeviceClass: class, StartedAt: now.Add(-ago), Attempts: 1, Success: kind == "",
		DurationSeconds: 1.5,
		Steps: []result.Step{
			{Name: "open home", Action: "goto", DurationSeconds: 0.5, Success: true},
			{Name: "place order", Action: "click", DurationSeconds: 1, Success: failStep != "place order"},
		},
		Pages:         []result.Page{{URL: "http://shop.test/", Step: "open home", Status: 200, TTFBSeconds: ptr(0.05), LCPSeconds: ptr(3.1), CLS: ptr(0.3)}},
		ConsoleErrors: []string{}, FailedRequests: []result.FailedRequest{}, Screenshots: []string{},
	}
	if device == "mobile" {
		r.DurationSeconds = 3
		r.AuditedRules = []string{"horizontal-overflow", "help-link"}
		r.Findings = []result.Finding{{Rule: "horizontal-overflow", Step: "open home", URL: "http://shop.test/", Count: 1,
			Message:  "the page is 720 px wide on a 393 px screen: users must scroll sideways",
			Examples: []result.Example{{Selector: "div.promo", Width: 720, Height: 80}}}}
	}
	if kind != "" {
		r.Error = &result.Error{Step: failStep, Kind: kind, Message: "POST http://shop.test/checkout returned HTTP 500"}
		r.FailedRequests = []result.FailedRequest{{URL: "http://shop.test/checkout", Status: 500}}
	}
	return r
}

// withA11y gives r what an accessibility audit (axe-core) found on a
// phone's checkout: unlabelled card fields (critical), a pale button
// (serious), a moderate heading order, and text over an image that axe
// could not decide.
func withA11y(r *result.Result) *result.Result {
	r.AuditedRules = append(r.AuditedRules, scenarios.Accessibility)
	r.Findings = append(r.Findings,
		result.Finding{Rule: "a11y-color-contrast", Step: "open home", URL: "http://shop.test/checkout", Count: 1, Impact: "serious",
			Message: "Elements must meet minimum color contrast ratio thresholds", WCAG: []string{"1.4.3"},
			HelpURL:  "https://dequeuniversity.com/rules/axe/4.10/color-contrast",
			Examples: []result.Example{{Selector: "#pay", Width: 361, Height: 44}}},
		result.Finding{Rule: "a11y-label", Step: "open home", URL: "http://shop.test/checkout", Count: 2, Impact: "critical",
			Message: "Form elements must have labels", WCAG: []string{"4.1.2"},
			HelpURL:  "https://dequeuniversity.com/rules/axe/4.10/label",
			Examples: []result.Example{{Selector: "#card", Width: 361, Height: 32}, {Selector: "#cvc", Width: 120, Height: 32}}},
		result.Finding{Rule: "a11y-heading-order", Step: "open home", URL: "http://shop.test/checkout", Count: 1, Impact: "moderate",
			Message: "Heading levels should only increase by one", HelpURL: "https://dequeuniversity.com/rules/axe/4.10/heading-order",
			Examples: []result.Example{{Selector: "h4.total", Width: 200, Height: 24}}})
	r.NeedsReview = append(r.NeedsReview, result.Finding{Rule: "a11y-color-contrast", Step: "open home", URL: "http://shop.test/checkout", Count: 1,
		Impact: "serious", Message: "Elements must meet minimum color contrast ratio thresholds", WCAG: []string{"1.4.3"},
		HelpURL:  "https://dequeuniversity.com/rules/axe/4.10/color-contrast",
		Examples: []result.Example{{Selector: "#banner > span", Width: 80, Height: 20}}})
	return r
}

// failureShotSize is an iPhone 15's screenshot: 393 x 852 CSS pixels at a
// device scale factor of 3.
var failureShotSize = image.Point{1179, 2556}

func ptr(f float64) *float64 { return &f }

// testPNG is a real picture, so that a browser shows it: a phone-shaped
// rectangle, green; a failure screenshot is red and has the size of a
// phone's real one (failureShotSize), which the page must scale down to
// its column.
func testPNG(t *testing.T, name string) []byte {
	t.Helper()
	failure := strings.HasPrefix(name, "failure-")
	data, err := testPNGs[failure]()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// testPNGs are testPNG's two pictures, encoded once: the phone-sized one
// takes long under -race, and every store of the tests holds it.
var testPNGs = map[bool]func() ([]byte, error){
	false: sync.OnceValues(func() ([]byte, error) { return encodeFilled(image.Pt(120, 240), color.RGBA{0x1e, 0x8e, 0x3e, 0xff}) }),
	true:  sync.OnceValues(func() ([]byte, error) { return encodeFilled(failureShotSize, color.RGBA{0xd9, 0x30, 0x25, 0xff}) }),
}

func encodeFilled(size image.Point, c color.RGBA) ([]byte, error) {
	img := image.NewRGBA(image.Rectangle{Max: size})
	draw.Draw(img, img.Bounds(), &image.Uniform{c}, image.Point{}, draw.Src)
	var b bytes.Buffer
	err := png.Encode(&b, img)
	return b.Bytes(), err
}

func flows(t *testing.T) []*scenarios.Flow {
	t.Helper()
	fs, err := scenarios.Parse("flows.yaml", []byte(`
name: search
description: Find a lamp
devices: [desktop, mobile]
steps: [{goto: "http://shop.test/"}]
---
name: checkout
devices: [desktop, mobile]
steps: [{goto: "http://shop.test/"}]
---
name: fresh
devices: [desktop]
steps: [{goto: "http://shop.test/"}]
`), scenarios.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// newStore fills a store: search succeeds everywhere; checkout succeeded,
// then failed on mobile at "place order" with a screenshot, and hit an
// agent error on desktop; fresh never ran.
func newStore(t *testing.T) *history.Store {
	t.Helper()
	s, err := history.Open(context.Background(), t.TempDir(), history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	shots := t.TempDir()
	png := func(name string) string {
		p := filepath.Join(shots, name)
		if err := os.WriteFile(p, testPNG(t, name), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := res("r-checkout-mobile-good", "checkout", "mobile", 2*time.Hour, "", "")
	good.Screenshots = []string{png("confirmation.png")}
	bad := withA11y(res("r-checkout-mobile-bad", "checkout", "mobile", 5*time.Minute, "place order", scenarios.KindNavigation))
	bad.Screenshots = []string{png("failure-place_order.png")}
	bad.HAR = png("network.har")
	for _, r := range []*result.Result{
		audited(res("r-search-desktop", "search", "desktop", 3*time.Minute, "", "")),
		res("r-search-mobile", "search", "mobile", 3*time.Minute, "", ""),
		good,
		res("r-checkout-desktop-good", "checkout", "desktop", 2*time.Hour, "", ""),
		bad,
		res("r-checkout-desktop-err", "checkout", "desktop", 4*time.Minute, "open home", scenarios.KindBrowser),
		res("r-old", "checkout", "mobile", 30*time.Hour, "", ""),
	} {
		if err := s.Export(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// audited is r with an accessibility audit that found nothing.
func audited(r *result.Result) *result.Result {
	r.AuditedRules = append(r.AuditedRules, scenarios.Accessibility)
	return r
}

func newServer(t *testing.T, opts Options) *httptest.Server {
	t.Helper()
	opts.Now = func() time.Time { return now }
	if opts.Flows == nil {
		fl := flows(t)
		opts.Flows = func() []*scenarios.Flow { return fl }
	}
	srv := httptest.NewServer(New(opts))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body), resp.Header
}

func TestPages(t *testing.T) {
	srv := newServer(t, Options{Store: newStore(t)})
	tests := []struct {
		name, path string
		status     int
		golden     string
		want       []string
		notWant    []string
		// order are texts that appear in this order.
		order []string
	}{
		{
			name: "overview", path: "/", status: 200, golden: "overview.html",
			want: []string{
				`<meta http-equiv="refresh" content="30">`,
				"failed at place order (navigation)", "agent error (browser), not the site",
				`<th scope="col">desktop</th><th scope="col">mobile</th>`,
				"mobile: 2.0× desktop", `href="./flows/checkout"`, `<span aria-hidden="true">✔</span> success`, "no run yet",
				// checkout's mobile 24 h: one success, one failure; the 30 h
				// old run is outside the window.
				"50% of 2 runs in 24 h", `<svg class="spark"`,
			},
		},
		{
			name: "flow", path: "/flows/checkout", status: 200, golden: "flow.html",
			want: []string{
				`<h3 id="dev-desktop">desktop</h3>`, `<h3 id="dev-mobile">mobile</h3>`,
				"place order 1.00 s ✘ failed", "Last successful run",
				`src="../api/v1/runs/r-checkout-mobile-bad/artifacts/failure-place_order.png"`,
				`src="../api/v1/runs/r-checkout-mobile-good/artifacts/confirmation.png"`,
				"LCP 3.10 s · needs improvement", "CLS 0.300 · poor", "TTFB 50 ms · good",
				`http://shop.test/checkout</code> HTTP 500`, `href="../api/v1/runs/r-checkout-mobile-bad/har"`,
				`href="../runs/r-old"`,
			},
		},
		{name: "run", path: "/runs/r-checkout-mobile-bad", status: 200,
			want: []string{"checkout</a> on mobile", "failure-place_order.png", "network log (HAR)", "POST http://shop.test/checkout returned HTTP 500",
				"Audit findings", "<strong>horizontal-overflow</strong> (1)", "the page is 720 px wide on a 393 px screen", "<code>div.promo</code>", "720×80 px",
				// Accessibility by impact, worst first, and what axe could
				// not decide apart.
				`<h5 class="impact critical">critical · 2 elements</h5>`,
				`<strong>a11y-label</strong> (2) <span class="muted">WCAG 4.1.2</span> · <a href="https://dequeuniversity.com/rules/axe/4.10/label" rel="noreferrer">how to fix</a>`,
				"<code>#card</code>", "<code>#cvc</code>", "361×44 px",
				`<h5 class="impact serious">serious · 1 element</h5>`, `<h5 class="impact moderate">moderate · 1 element</h5>`,
				`<h5 class="impact review">needs review</h5>`, "<code>#banner &gt; span</code>"},
			notWant: []string{`http-equiv="refresh"`, `class="impact minor"`, "audited: no violations"},
			order:   []string{"impact critical", "a11y-label", "impact serious", "a11y-color-contrast", "impact moderate", "impact review", "#banner"}},
		{name: "run audited clean", path: "/runs/r-search-desktop", status: 200, want: []string{"Accessibility", "audited: no violations"},
			notWant: []string{"<h5", "Audit findings"}},
		{name: "run not audited", path: "/runs/r-search-mobile", status: 200, notWant: []string{">Accessibility<"}},
		{name: "flow without runs", path: "/flows/fresh", status: 200, want: []string{"No run yet."}},
		{name: "unknown flow", path: "/flows/nope", status: 404, want: []string{`No flow &#34;nope&#34;`}},
		{name: "unknown run", path: "/runs/nope", status: 404, want: []string{"pruned by retention"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, hdr := get(t, srv.URL+tt.path)
			if status != tt.status {
				t.Fatalf("status %d, want %d:\n%s", status, tt.status, body)
			}
			if ct := hdr.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			// The page loads nothing from elsewhere (links to axe's help
			// pages are links, not resources).
			for _, w := range append(tt.notWant, "<script", "http://cdn", `src="http`, "url(http", "@import", `<link rel="stylesheet"`) {
				if strings.Contains(body, w) {
					t.Errorf("page has %q", w)
				}
			}
			at := -1
			for _, w := range tt.order {
				i := strings.Index(body[max(at, 0):], w)
				if i < 0 {
					t.Errorf("%q is not after %q", w, tt.order)
					break
				}
				at = max(at, 0) + i
			}
			if tt.golden != "" {
				golden(t, tt.golden, body)
			}
		})
	}
	// Failing flows first.
	_, body, _ := get(t, srv.URL+"/")
	if c, s := strings.Index(body, `flows/checkout"`), strings.Index(body, `flows/search"`); c < 0 || s < 0 || c > s {
		t.Errorf("the failing flow checkout is not above search")
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file; rerun with -update and review the diff", name)
	}
}

func TestAPI(t *testing.T) {
	srv := newServer(t, Options{Store: newStore(t)})
	type apiRunJSON struct {
		ID        string         `json:"id"`
		Result    *result.Result `json:"result"`
		Artifacts []struct {
			Name, Kind, URL string
		} `json:"artifacts"`
		HARURL string `json:"har_url"`
	}
	tests := []struct {
		name, path string
		status     int
		ids        []string
	}{
		// Runs that started at the same time: the later recorded first.
		{"all", "/api/v1/runs", 200, []string{"r-search-mobile", "r-search-desktop", "r-checkout-desktop-err", "r-checkout-mobile-bad", "r-checkout-desktop-good", "r-checkout-mobile-good", "r-old"}},
		{"flow and device", "/api/v1/runs?flow=checkout&device=mobile", 200, []string{"r-checkout-mobile-bad", "r-checkout-mobile-good", "r-old"}},
		{"outcome", "/api/v1/runs?outcome=error", 200, []string{"r-checkout-desktop-err"}},
		{"since duration", "/api/v1/runs?since=4m30s", 200, []string{"r-search-mobile", "r-search-desktop", "r-checkout-desktop-err"}},
		{"since time", "/api/v1/runs?since=2026-12-01T11:56:30Z&limit=1", 200, []string{"r-search-mobile"}},
		{"bad outcome", "/api/v1/runs?outcome=meh", 400, nil},
		{"bad since", "/api/v1/runs?since=yesterday", 400, nil},
		{"bad limit", "/api/v1/runs?limit=0", 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, _ := get(t, srv.URL+tt.path)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, body)
			}
			if status != 200 {
				if !strings.Contains(body, `"error"`) {
					t.Errorf("no error message: %s", body)
				}
				return
			}
			var runs []apiRunJSON
			if err := json.Unmarshal([]byte(body), &runs); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range runs {
				got = append(got, r.ID)
				if r.Result == nil || r.Result.ID != r.ID {
					t.Errorf("run %s without its result", r.ID)
				}
			}
			if strings.Join(got, " ") != strings.Join(tt.ids, " ") {
				t.Errorf("ids %q, want %q", got, tt.ids)
			}
		})
	}

	status, body, _ := get(t, srv.URL+"/api/v1/runs/r-checkout-mobile-bad")
	var one apiRunJSON
	if err := json.Unmarshal([]byte(body), &one); status != 200 || err != nil {
		t.Fatalf("one run: %d %v %s", status, err, body)
	}
	if one.HARURL != "/api/v1/runs/r-checkout-mobile-bad/har" || len(one.Artifacts) != 2 || one.Artifacts[0].URL != "/api/v1/runs/r-checkout-mobile-bad/artifacts/failure-place_order.png" {
		t.Errorf("artifact URLs: %+v", one)
	}
	for _, c := range []struct {
		path, ctype string
		status      int
	}{
		{one.HARURL, "application/json", 200},
		{one.Artifacts[0].URL, "image/png", 200},
		{"/api/v1/runs/r-checkout-mobile-good/har", "", 404},
		{"/api/v1/runs/nope", "", 404},
		{"/api/v1/runs/r-checkout-mobile-bad/artifacts/..%2F..%2Fuxprobe.db", "", 404},
	} {
		status, _, hdr := get(t, srv.URL+c.path)
		if status != c.status || c.ctype != "" && hdr.Get("Content-Type") != c.ctype {
			t.Errorf("GET %s: %d %s, want %d %s", c.path, status, hdr.Get("Content-Type"), c.status, c.ctype)
		}
	}

	status, body, _ = get(t, srv.URL+"/api/v1/flows")
	var fl []struct {
		Flow    string
		Devices []struct {
			Device      string
			Last        *apiRunJSON
			SuccessRate *float64 `json:"success_rate_24h"`
			Runs        int      `json:"runs_24h"`
		}
	}
	if err := json.Unmarshal([]byte(body), &fl); status != 200 || err != nil {
		t.Fatalf("flows: %d %v %s", status, err, body)
	}
	if len(fl) != 3 || fl[0].Flow != "checkout" || len(fl[0].Devices) != 2 {
		t.Fatalf("flows: %s", body)
	}
	mob := fl[0].Devices[1]
	if mob.Device != "mobile" || mob.Last.ID != "r-checkout-mobile-bad" || mob.SuccessRate == nil || *mob.SuccessRate != 0.5 || mob.Runs != 2 {
		t.Errorf("checkout on mobile: %+v", mob)
	}
	if d := fl[2].Devices; fl[2].Flow != "fresh" || len(d) != 1 || d[0].Last != nil || d[0].SuccessRate != nil {
		t.Errorf("a flow without runs: %+v", fl[2])
	}
}

func TestRunNow(t *testing.T) {
	var gotFlow, gotDevice string
	srv := newServer(t, Options{Store: newStore(t), RunNow: func(flow, device string) ([]string, error) {
		gotFlow, gotDevice = flow, device
		switch flow {
		case "search":
			return []string{"id-1", "id-2"}, nil
		case "checkout":
			return nil, ErrRunning
		case "broken":
			return nil, errors.New("the agent is stopping")
		}
		return nil, ErrUnknownFlow
	}})
	tests := []struct {
		path   string
		status int
		want   string
	}{
		{"/api/v1/flows/search/run", 202, `"ids": [
    "id-1",
    "id-2"
  ]`},
		{"/api/v1/flows/search/run?device=mobile", 202, `"/api/v1/runs/id-1"`},
		{"/api/v1/flows/checkout/run", 409, "running"},
		{"/api/v1/flows/nope/run", 404, "no such flow"},
		{"/api/v1/flows/broken/run", 503, "stopping"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := http.Post(srv.URL+tt.path, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.want) {
				t.Errorf("%d %s, want %d with %q", resp.StatusCode, body, tt.status, tt.want)
			}
		})
	}
	if gotFlow != "broken" {
		t.Errorf("RunNow got flow %q", gotFlow)
	}
	_ = gotDevice
	resp, err := http.Get(srv.URL + "/api/v1/flows/search/run")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET of run-now: %d, want 405", resp.StatusCode)
	}
}

func TestNoStore(t *testing.T) {
	srv := newServer(t, Options{StoreError: func() error { return errors.New("disk full") }})
	for _, path := range []string{"/", "/flows/search", "/api/v1/runs", "/api/v1/flows"} {
		status, body, _ := get(t, srv.URL+path)
		if status != 503 || !strings.Contains(body, "run history is not kept: disk full") {
			t.Errorf("GET %s: %d %s", path, status, body)
		}
	}
}
