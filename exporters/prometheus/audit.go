package prometheus

import (
	"slices"

	prom "github.com/prometheus/client_golang/prometheus"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// collectAudit renders the last run's findings per rule, and the
// accessibility violations per impact. Only names of the rule table and
// a11y-<id> of the pinned axe-core's ids become label values, so the series
// stay bounded whatever a result holds. An axe rule has a series when it
// found something: 0 for each of axe's ~100 rules would be noise, and
// rule="accessibility" (their sum) tells audited-and-clean apart.
func collectAudit(ch chan<- prom.Metric, d *flowDescs, r *result.Result, with func(...string) []string) {
	byRule := r.FindingsByRule()
	for _, name := range scenarios.AuditRuleNames() {
		if n, ok := byRule[name]; ok {
			send(ch, d.auditFindings, prom.GaugeValue, float64(n), with(name)...)
		}
	}
	var a11y []string
	for rule, n := range byRule {
		if n > 0 && scenarios.IsKnownAxeFinding(rule) {
			a11y = append(a11y, rule)
		}
	}
	slices.Sort(a11y)
	for _, rule := range a11y {
		send(ch, d.auditFindings, prom.GaugeValue, float64(byRule[rule]), with(rule)...)
	}
	byImpact := r.ViolationsByImpact()
	for _, impact := range scenarios.AxeImpacts {
		if n, ok := byImpact[impact]; ok {
			send(ch, d.accessibilityViolations, prom.GaugeValue, float64(n), with(impact)...)
		}
	}
}
