package prometheus

import (
	prom "github.com/prometheus/client_golang/prometheus"

	"github.com/uxprobe/uxprobe/agent/result"
)

// collectVisual renders the diff ratio of each assert_screenshot step of
// the last completed run: how far the page drifted from its baseline, to
// graph before it crosses the step's threshold. A step name used twice
// keeps the later step, as the step times do.
func collectVisual(ch chan<- prom.Metric, d *flowDescs, r *result.Result, with func(...string) []string) {
	ratios := map[string]float64{}
	var order []string
	for _, s := range r.Steps {
		if s.Skipped || s.Visual == nil {
			continue
		}
		if _, seen := ratios[s.Name]; !seen {
			order = append(order, s.Name)
		}
		ratios[s.Name] = s.Visual.DiffRatio
	}
	for _, step := range order {
		send(ch, d.visualDiff, prom.GaugeValue, ratios[step], with(step)...)
	}
}
