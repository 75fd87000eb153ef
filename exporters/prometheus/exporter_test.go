package prometheus

import (
	"bytes"
	"context"
	"flag"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func f64(v float64) *float64 { return &v }

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// The fixed results of the golden file: a success with two pages on one
// step, a site failure, and an error run after a success.
func checkoutDesktopOK() *result.Result {
	return &result.Result{
		Flow: "checkout", Device: "desktop", DeviceClass: "desktop", StartedAt: t0, Success: true, Attempts: 1,
		DurationSeconds: 3.5,
		Steps: []result.Step{
			{Name: "open product", Action: "goto", DurationSeconds: 1.25, Success: true},
			{Name: "add to cart", Action: "click", DurationSeconds: 0.5, Success: true, InteractionSeconds: f64(0.125)},
			{Name: "mobile only", Action: "click", Success: true, Skipped: true},
			{Name: "place order", Action: "click", DurationSeconds: 1.75, Success: true},
			{Name: "looks right", Action: "assert_screenshot", DurationSeconds: 0.25, Success: true, Visual: &result.Visual{DiffRatio: 0.0002, ChangedPixels: 184}},
		},
		Pages: []result.Page{
			{URL: "http://shop/product/lamp-1", Step: "open product", TTFBSeconds: f64(0.1), FCPSeconds: f64(0.3), LCPSeconds: f64(0.9), LoadSeconds: f64(1.1), CLS: f64(0.05),
				INPSeconds: f64(0.125), TBTSeconds: f64(0.25)},
			{URL: "http://shop/cart", Step: "add to cart", TTFBSeconds: f64(0.2)},
			// A second page opened by the same step: the last one counts.
			{URL: "http://shop/checkout", Step: "place order", TTFBSeconds: f64(0.4), LCPSeconds: f64(2)},
			{URL: "http://shop/confirmation", Step: "place order", TTFBSeconds: f64(0.6), LoadSeconds: f64(1.5)},
		},
		ConsoleErrors:  []string{"Uncaught TypeError: x is undefined"},
		FailedRequests: []result.FailedRequest{{URL: "http://shop/img/missing.png", Status: 404}},
	}
}

func checkoutMobileFailed() *result.Result {
	return &result.Result{
		Flow: "checkout", Device: "mobile", DeviceClass: "mobile", StartedAt: t0.Add(time.Second), Attempts: 2,
		DurationSeconds: 11,
		Steps: []result.Step{
			{Name: "open product", Action: "goto", DurationSeconds: 1, Success: true},
			{Name: "place order", Action: "click", DurationSeconds: 10, Error: "HTTP 500"},
			// A failed cleanup is counted apart from the run's failure.
			{Name: "delete cart", Action: "goto", DurationSeconds: 0.25, Error: "HTTP 503", Cleanup: true},
		},
		Pages: []result.Page{{URL: "http://shop/product/lamp-1", Step: "open product", TTFBSeconds: f64(0.2)}},
		Error: &result.Error{Step: "place order", Kind: scenarios.KindNavigation, Message: "HTTP 500"},
		// The phone's product page has two accessibility barriers.
		AuditedRules: []string{"horizontal-overflow", "accessibility"},
		Findings: []result.Finding{
			{Rule: "a11y-label", Step: "open product", URL: "http://shop/product/lamp-1", Count: 3, Impact: "critical", WCAG: []string{"4.1.2"}},
			{Rule: "a11y-color-contrast", Step: "open product", URL: "http://shop/product/lamp-1", Count: 1, Impact: "serious", WCAG: []string{"1.4.3"}},
		},
	}
}

func searchDesktop(ok bool, kind scenarios.ErrorKind, at time.Time) *result.Result {
	r := &result.Result{Flow: "search", Device: "desktop", DeviceClass: "desktop", StartedAt: at, Success: ok, DurationSeconds: 2,
		Steps: []result.Step{{Name: "search", Action: "fill", DurationSeconds: 2, Success: ok}}}
	if !ok {
		r.DurationSeconds = 0.5
		r.Steps[0].DurationSeconds = 0.5
		r.Error = &result.Error{Step: "search", Kind: kind, Message: "broke"}
	}
	return r
}

func testFlows() []*scenarios.Flow {
	desktop, _ := scenarios.LookupDevice("desktop")
	mobile, _ := scenarios.LookupDevice("mobile")
	return []*scenarios.Flow{
		{Name: "checkout", Schedule: "@every 1m", Devices: []scenarios.Device{desktop, mobile}},
		{Name: "search", Schedule: "@every 1m", Devices: []scenarios.Device{desktop}},
	}
}

// testSource stands in for the agent's store: the same set of latest
// results (result.LatestSet) of the devices of the flows it was given.
type testSource struct{ result.LatestSet }

func newTestSource(flows []*scenarios.Flow) *testSource {
	s := &testSource{}
	s.Sync(flows)
	return s
}

// record does what the agent does with a completed run: it keeps it in the
// store and exports it.
func record(t testing.TB, s *testSource, c *Collector, r *result.Result) {
	t.Helper()
	s.Put(r)
	if err := c.Export(context.Background(), r); err != nil {
		t.Fatal(err)
	}
}

// fixture is a collector that has seen the golden set of results.
func fixture(t testing.TB) (*Collector, *testSource) {
	t.Helper()
	return fixtureAt(t, "")
}

// fixtureAt is fixture for an agent at a location: its collector has the
// location and its results were made there.
func fixtureAt(t testing.TB, location string) (*Collector, *testSource) {
	t.Helper()
	src := newTestSource(testFlows())
	c := NewCollector(src, WithLocation(location))
	for _, r := range []*result.Result{
		checkoutDesktopOK(), checkoutMobileFailed(),
		searchDesktop(true, "", t0),
		searchDesktop(false, scenarios.KindBrowser, t0.Add(time.Minute)),
	} {
		r.Location = location
		record(t, src, c, r)
	}
	return c, src
}

// scrape serves the registry over HTTP, as Prometheus would see it, and
// returns the text and the parsed families.
func scrape(t testing.TB, reg *prom.Registry) (string, map[string]*dto.MetricFamily) {
	t.Helper()
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError}))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: HTTP %d", resp.StatusCode)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("parsing the scrape: %v\n%s", err, buf.String())
	}
	return buf.String(), fams
}

func register(t testing.TB, e *Collector) *prom.Registry {
	t.Helper()
	reg := prom.NewRegistry()
	if err := reg.Register(e); err != nil {
		t.Fatal(err)
	}
	return reg
}

// sample finds the value of the sample of a family with exactly the labels;
// a location left out of labels is the empty one of a single-location agent.
func sample(fams map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	if _, ok := labels["location"]; !ok {
		labels = maps.Clone(labels)
		labels["location"] = ""
	}
	mf := fams[name]
	if mf == nil {
		return 0, false
	}
next:
	for _, m := range mf.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		for _, l := range m.GetLabel() {
			if v, ok := labels[l.GetName()]; !ok || v != l.GetValue() {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

func TestMetricsValues(t *testing.T) {
	c, _ := fixture(t)
	_, fams := scrape(t, register(t, c))
	type L = map[string]string
	tests := []struct {
		name   string
		metric string
		labels L
		want   float64
		absent bool
	}{
		{"success of a successful run", MetricFlowSuccess, L{"flow": "checkout", "device": "desktop"}, 1, false},
		{"success of a failed run", MetricFlowSuccess, L{"flow": "checkout", "device": "mobile"}, 0, false},
		{"an error run keeps the last success", MetricFlowSuccess, L{"flow": "search", "device": "desktop"}, 1, false},
		{"an error run keeps the last duration", MetricFlowDuration, L{"flow": "search", "device": "desktop"}, 2, false},
		{"task time", MetricFlowDuration, L{"flow": "checkout", "device": "mobile"}, 11, false},
		{"success runs", MetricFlowRuns, L{"flow": "checkout", "device": "desktop", "result": "success"}, 1, false},
		{"failure runs start at 0", MetricFlowRuns, L{"flow": "checkout", "device": "desktop", "result": "failure"}, 0, false},
		{"failure runs", MetricFlowRuns, L{"flow": "checkout", "device": "mobile", "result": "failure"}, 1, false},
		{"error runs", MetricFlowRuns, L{"flow": "search", "device": "desktop", "result": "error"}, 1, false},
		{"failures by step and kind", MetricFlowFailures, L{"flow": "checkout", "device": "mobile", "step": "place order", "kind": "navigation"}, 1, false},
		{"the last failure names its step", MetricFlowLastFailure, L{"flow": "checkout", "device": "mobile", "step": "place order", "kind": "navigation"}, 1, false},
		{"no last failure after a success", MetricFlowLastFailure, L{"flow": "checkout", "device": "desktop", "step": "place order", "kind": "navigation"}, 0, true},
		{"an error run is no last failure", MetricFlowLastFailure, L{"flow": "search", "device": "desktop", "step": "search", "kind": "browser"}, 0, true},
		{"error runs are not failures", MetricFlowFailures, L{"flow": "search", "device": "desktop", "step": "search", "kind": "browser"}, 0, true},
		{"last run of any outcome", MetricFlowLastRun, L{"flow": "search", "device": "desktop"}, float64(t0.Add(time.Minute).Unix()) + 0.5, false},
		{"step time", MetricStepDuration, L{"flow": "checkout", "device": "desktop", "step": "place order"}, 1.75, false},
		{"skipped step has no time", MetricStepDuration, L{"flow": "checkout", "device": "desktop", "step": "mobile only"}, 0, true},
		{"ttfb", MetricPageTTFB, L{"flow": "checkout", "device": "desktop", "step": "open product"}, 0.1, false},
		{"two pages on a step: the last wins", MetricPageTTFB, L{"flow": "checkout", "device": "desktop", "step": "place order"}, 0.6, false},
		{"an absent value of the last page gives no sample", MetricPageLCP, L{"flow": "checkout", "device": "desktop", "step": "place order"}, 0, true},
		{"cls", MetricPageCLS, L{"flow": "checkout", "device": "desktop", "step": "open product"}, 0.05, false},
		{"load", MetricPageLoad, L{"flow": "checkout", "device": "desktop", "step": "place order"}, 1.5, false},
		{"inp", MetricPageINP, L{"flow": "checkout", "device": "desktop", "step": "open product"}, 0.125, false},
		{"tbt", MetricPageTBT, L{"flow": "checkout", "device": "desktop", "step": "open product"}, 0.25, false},
		{"an absent tbt gives no sample", MetricPageTBT, L{"flow": "checkout", "device": "desktop", "step": "place order"}, 0, true},
		{"interaction", MetricStepInteraction, L{"flow": "checkout", "device": "desktop", "step": "add to cart"}, 0.125, false},
		{"visual diff ratio", MetricVisualDiffRatio, L{"flow": "checkout", "device": "desktop", "step": "looks right"}, 0.0002, false},
		{"a step without a picture has no diff ratio", MetricVisualDiffRatio, L{"flow": "checkout", "device": "desktop", "step": "place order"}, 0, true},
		{"a step without input has no interaction", MetricStepInteraction, L{"flow": "checkout", "device": "desktop", "step": "place order"}, 0, true},
		{"fcp", MetricPageFCP, L{"flow": "checkout", "device": "desktop", "step": "open product"}, 0.3, false},
		{"console errors of a successful run", MetricConsoleErrors, L{"flow": "checkout", "device": "desktop"}, 1, false},
		{"failed requests", MetricFailedRequests, L{"flow": "checkout", "device": "desktop"}, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := sample(fams, tt.metric, tt.labels)
			if tt.absent {
				if ok {
					t.Fatalf("%s%v = %v, want no sample", tt.metric, tt.labels, got)
				}
				return
			}
			if !ok {
				t.Fatalf("%s%v: no sample", tt.metric, tt.labels)
			}
			if got != tt.want {
				t.Fatalf("%s%v = %v, want %v", tt.metric, tt.labels, got, tt.want)
			}
		})
	}
}

func TestErrorRunDoesNotChangeSuccess(t *testing.T) {
	tests := []struct {
		name string
		kind scenarios.ErrorKind
		last bool // success of the run before the error run
	}{
		{"browser crash after a success", scenarios.KindBrowser, true},
		{"cancelled after a failure", scenarios.KindCancelled, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := newTestSource(testFlows())
			e := NewCollector(src)
			before := searchDesktop(tt.last, scenarios.KindAssertion, t0)
			record(t, src, e, before)
			record(t, src, e, searchDesktop(false, tt.kind, t0.Add(time.Minute)))
			_, fams := scrape(t, register(t, e))
			l := map[string]string{"flow": "search", "device": "desktop"}
			want := 0.0
			if tt.last {
				want = 1
			}
			if got, _ := sample(fams, MetricFlowSuccess, l); got != want {
				t.Errorf("success = %v, want %v (unchanged by the error run)", got, want)
			}
			if got, _ := sample(fams, MetricFlowDuration, l); got != before.DurationSeconds {
				t.Errorf("duration = %v, want %v (unchanged by the error run)", got, before.DurationSeconds)
			}
			if got, _ := sample(fams, MetricFlowRuns, map[string]string{"flow": "search", "device": "desktop", "result": "error"}); got != 1 {
				t.Errorf("error runs = %v, want 1", got)
			}
		})
	}
}

func TestRemovedFlowLosesItsSeries(t *testing.T) {
	e, src := fixture(t)
	flows := testFlows()
	// search goes away, checkout loses its mobile device.
	flows[0].Devices = flows[0].Devices[:1]
	src.Sync(flows[:1])
	text, _ := scrape(t, register(t, e))
	for _, gone := range []string{`flow="search"`, `device="mobile"`} {
		if strings.Contains(text, gone) {
			t.Errorf("series with %s still exported:\n%s", gone, text)
		}
	}
	if !strings.Contains(text, `uxprobe_flow_success{device="desktop",flow="checkout",location=""} 1`) {
		t.Errorf("checkout on desktop lost its series:\n%s", text)
	}
}

func TestInvalidLabelValueDoesNotPanic(t *testing.T) {
	r := searchDesktop(true, "", t0)
	r.Flow = "bad\xff"
	flows := testFlows()
	flows[1].Name = r.Flow
	src := newTestSource(flows)
	e := NewCollector(src)
	record(t, src, e, r)
	reg := register(t, e)
	if _, err := reg.Gather(); err == nil {
		t.Fatal("gathering a label value of invalid UTF-8 gave no error")
	}
}

// exposition renders the registry in the text format, sorted as the
// registry sorts, for the golden file.
func exposition(t testing.TB, reg *prom.Registry) string {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(fams, func(i, j int) bool { return fams[i].GetName() < fams[j].GetName() })
	var buf bytes.Buffer
	for _, mf := range fams {
		if _, err := expfmt.MetricFamilyToText(&buf, mf); err != nil {
			t.Fatal(err)
		}
	}
	return buf.String()
}

func TestGolden(t *testing.T) {
	for _, tc := range []struct{ location, file string }{
		{"", "metrics.prom"},            // one agent: location="", which Prometheus stores as no label
		{"eu", "metrics-location.prom"}, // an agent of a fleet
	} {
		t.Run(tc.file, func(t *testing.T) {
			c, _ := fixtureAt(t, tc.location)
			got := exposition(t, register(t, c))
			path := filepath.Join("testdata", tc.file)
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
				t.Fatalf("%v (run go test ./exporters/prometheus/ -run TestGolden -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("metrics differ from %s (if the change is intended, rerun with -update and review the diff):\n%s", path, got)
			}
		})
	}
}

// TestLocationLabel: a flow that has not run yet is labelled with the
// agent's location, so its counters start at 0 under the label its runs
// get; every series of a run carries the run's location.
func TestLocationLabel(t *testing.T) {
	src := newTestSource(testFlows())
	c := NewCollector(src, WithLocation("us-east"))
	r := checkoutMobileFailed()
	r.Location = "us-east"
	record(t, src, c, r)
	text, fams := scrape(t, register(t, c))
	type L = map[string]string
	for _, tc := range []struct {
		name   string
		metric string
		labels L
		want   float64
	}{
		{"not run yet: zero under the agent's location", MetricFlowRuns, L{"flow": "search", "device": "desktop", "location": "us-east", "result": "success"}, 0},
		{"a run's counter", MetricFlowRuns, L{"flow": "checkout", "device": "mobile", "location": "us-east", "result": "failure"}, 1},
		{"a run's gauge", MetricFlowSuccess, L{"flow": "checkout", "device": "mobile", "location": "us-east"}, 0},
		{"a run's failure", MetricFlowLastFailure, L{"flow": "checkout", "device": "mobile", "location": "us-east", "step": "place order", "kind": "navigation"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := sample(fams, tc.metric, tc.labels)
			if !ok || got != tc.want {
				t.Errorf("%s%v = %v (present %v), want %v", tc.metric, tc.labels, got, ok, tc.want)
			}
		})
	}
	if strings.Contains(text, `location=""`) {
		t.Errorf("a series without the agent's location:\n%s", text)
	}
}

// TestPromtoolCheckMetrics lints the exposition the way Prometheus' own
// tooling does, including the Go and process collectors of a real agent.
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: install it (Debian: apt-get install -y prometheus; `make test` does) to lint the metrics")
	}
	c, _ := fixture(t)
	text, _ := scrape(t, register(t, c))
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check metrics: %v\n%s\n--- input:\n%s", err, out, text)
	}
}
