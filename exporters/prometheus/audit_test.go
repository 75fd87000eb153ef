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
	mobile.AuditedRules = []string{"horizontal-overflow", "tap-target-size", "viewport-meta", "accessibility"}
	mobile.Findings = []result.Finding{
		{Rule: "horizontal-overflow", Step: "open product", URL: "http://shop/product/lamp-1", Count: 1},
		{Rule: "tap-target-size", Step: "open product", URL: "http://shop/product/lamp-1", Count: 3},
		{Rule: "tap-target-size", Step: "place order", URL: "http://shop/checkout", Count: 2},
		// The same page audited again by an audit step counts once.
		{Rule: "tap-target-size", Step: "audit checkout", URL: "http://shop/checkout", Count: 2},
		// Not a rule of the table: it must never become a label value.
		{Rule: "made-up", Count: 9},
		// axe's findings: by rule, and by impact; checkout's labels twice
		// (the flow-level audit and an audit step) count once.
		{Rule: "a11y-label", Step: "place order", URL: "http://shop/checkout", Count: 3, Impact: "critical"},
		{Rule: "a11y-label", Step: "audit checkout", URL: "http://shop/checkout", Count: 3, Impact: "critical"},
		{Rule: "a11y-color-contrast", Step: "place order", URL: "http://shop/checkout", Count: 1, Impact: "serious"},
		{Rule: "a11y-color-contrast", Step: "open product", URL: "http://shop/product/lamp-1", Count: 2, Impact: "serious"},
		// Not an id of the pinned axe-core: never a label value.
		{Rule: "a11y-made-up", URL: "http://shop/checkout", Count: 4, Impact: "minor"},
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
		{"mobile", "a11y-label", 3, true},
		{"mobile", "a11y-color-contrast", 3, true},
		{"mobile", "a11y-image-alt", 0, false}, // found nothing: no series of its own
		// The sum of every axe finding, also of ids the pinned axe-core
		// does not have (a newer axe-core's), which get no series of
		// their own.
		{"mobile", "accessibility", 10, true},
		{"mobile", "a11y-made-up", 0, false},
	}
	for _, tc := range cases {
		got, ok := sample(fams, MetricAuditFindings, map[string]string{"flow": "checkout", "device": tc.device, "rule": tc.rule})
		if ok != tc.present || got != tc.want {
			t.Errorf("%s %s: %v (present %v), want %v (present %v)", tc.device, tc.rule, got, ok, tc.want, tc.present)
		}
	}
}

func TestAccessibilityViolations(t *testing.T) {
	src := newTestSource(testFlows())
	c := NewCollector(src)
	mobile := checkoutMobileFailed()
	mobile.Findings = append(mobile.Findings,
		// The same page audited again counts once.
		result.Finding{Rule: "a11y-label", Step: "audit", URL: "http://shop/product/lamp-1", Count: 3, Impact: "critical"},
		result.Finding{Rule: "a11y-image-alt", URL: "http://shop/cart", Count: 2, Impact: "critical"},
		// A page rule's finding has no impact.
		result.Finding{Rule: "horizontal-overflow", URL: "http://shop/cart", Count: 1})
	for _, r := range []*result.Result{checkoutDesktopOK(), mobile} {
		record(t, src, c, r)
	}
	_, fams := scrape(t, register(t, c))
	cases := []struct {
		device, impact string
		want           float64
		present        bool
	}{
		{"mobile", "critical", 5, true},
		{"mobile", "serious", 1, true},
		{"mobile", "moderate", 0, true}, // audited, none
		{"mobile", "minor", 0, true},
		{"desktop", "critical", 0, false}, // accessibility not audited
	}
	for _, tc := range cases {
		got, ok := sample(fams, MetricAccessibilityViolations, map[string]string{"flow": "checkout", "device": tc.device, "impact": tc.impact})
		if ok != tc.present || got != tc.want {
			t.Errorf("%s %s: %v (present %v), want %v (present %v)", tc.device, tc.impact, got, ok, tc.want, tc.present)
		}
	}
}
