package prometheus

import (
	prom "github.com/prometheus/client_golang/prometheus"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// collectAudit renders the last run's findings per rule. Only names of the
// rule table become label values, so the series stay bounded whatever a
// result holds.
func collectAudit(ch chan<- prom.Metric, d *flowDescs, r *result.Result, with func(...string) []string) {
	byRule := r.FindingsByRule()
	for _, name := range scenarios.AuditRuleNames() {
		if n, ok := byRule[name]; ok {
			send(ch, d.auditFindings, prom.GaugeValue, float64(n), with(name)...)
		}
	}
}
