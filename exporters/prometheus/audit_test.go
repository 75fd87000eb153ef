package prometheus

import (
	"testing"

	"github.com/uxprobe/uxprobe/agent/result"
)

func TestAuditFindings(t *testing.T) {
	src := newTestSource(testFlows())
	c := NewCollector(src)
	mobile := checkoutMobileFailed()
	// Two pages: the findings are the run's, not one page's.
	mobile.Pages = append(mobile.Pages, result.Page{URL: "http://shop/checkout", Step: "place order"})
	mobile.AuditedRules = []string{"horizontal-overflow", "tap-target-size", "viewport-meta"}
	mobile.Findings = []result.Finding{
		{Rule: "horizontal-overflow", Step: "open product", URL: "http://shop/product/lamp-1", Count: 1},
		{Rule: "tap-target-size", Step: "open product", URL: "http://shop/product/lamp-1", Count: 3},
		{Rule: "tap-target-size", Step: "place order", URL: "http://shop/checkout", Count: 2},
		// The same page audited again by an audit step counts once.
		{Rule: "tap-target-size", Step: "audit checkout", URL: "http://shop/checkout", Count: 2},
		// Not a rule of the table: it must never become a label value.
		{Rule: "made-up", Count: 9},
	}
	for _, r := range []*result.Result{checkoutDesktopOK(), mobile} {
		record(t, src, c, r)
	}
	_, fams := scrape(t, register(t, c))
	cases := []struct {
		device, rule string
		want         float64
		present      bool
	}{
		{"mobile", "horizontal-overflow", 1, true},
		{"mobile", "tap-target-size", 5, true},
		{"mobile", "viewport-meta", 0, true}, // checked, nothing found
		{"mobile", "text-size", 0, false},    // not checked
		{"mobile", "made-up", 0, false},
		{"desktop", "horizontal-overflow", 0, false}, // nothing audited
	}
	for _, tc := range cases {
		got, ok := sample(fams, MetricAuditFindings, map[string]string{"flow": "checkout", "device": tc.device, "rule": tc.rule})
		if ok != tc.present || got != tc.want {
			t.Errorf("%s %s: %v (present %v), want %v (present %v)", tc.device, tc.rule, got, ok, tc.want, tc.present)
		}
	}
}
