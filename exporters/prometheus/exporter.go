// Package prometheus exports the flows' results as Prometheus metrics. Its
// Collector renders, at scrape time, the latest result of each flow and
// device from the agent's store plus counters it keeps per flow and device,
// so that removing a flow removes all its series and nothing is
// re-registered on reload. Its Pusher sends the same per-flow metrics to a
// Pushgateway for one-shot runs. Both are agent exporters. The agent's own
// health metrics are the agent's (agent.MetricNames).
package prometheus

import (
	"context"
	"slices"
	"sync"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// outcomes are the values of the result label, all exported from the first
// load on so that rate() sees each counter start at 0.
var outcomes = []result.Outcome{result.OutcomeSuccess, result.OutcomeFailure, result.OutcomeError}

// Source gives what is kept of each flow and device, as the agent's Store
// does: the collector renders exactly these, so a flow the store dropped (a
// removed flow, another shard's flow) has no series.
type Source interface {
	Latest() []result.Latest
}

// Collector is a prometheus.Collector of the flows' results and an agent
// Exporter: Export counts each run, Collect renders the counts with the
// latest results of its Source. Register it on a registry of your own. It is
// safe for concurrent use.
type Collector struct {
	desc *flowDescs
	src  Source

	// location labels the series of a flow and device before its first
	// run; after, the run's own Location does (see Collect).
	location string

	mu     sync.Mutex
	counts map[deviceKey]*counts
}

// deviceKey names the series of one flow on one device in one location.
type deviceKey struct{ flow, device, location string }

// counts are the counters of one flow on one device.
type counts struct {
	runs           map[result.Outcome]float64
	failures       map[failureKey]float64
	consoleErrors  float64
	failedRequests float64
	cleanup        map[string]float64 // failed cleanup steps by name
}

type failureKey struct {
	step string
	kind scenarios.ErrorKind
}

func newCounts() *counts {
	return &counts{runs: map[result.Outcome]float64{}, failures: map[failureKey]float64{}, cleanup: map[string]float64{}}
}

// Option configures a Collector.
type Option func(*Collector)

// WithLocation is the agent's --location: the location label of the series
// of a flow that has not run yet, so that its counters start at 0 under the
// label its runs will have, and rate() sees the first run. Empty, the
// default, is a set-up of one location: the label is empty, which
// Prometheus stores as no label at all, so its series are today's.
func WithLocation(name string) Option { return func(c *Collector) { c.location = name } }

// NewCollector returns a collector of the flows and devices of src.
func NewCollector(src Source, opts ...Option) *Collector {
	c := &Collector{desc: newFlowDescs(agentLabels), src: src, counts: map[deviceKey]*counts{}}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Name is the collector's value of the agent's exporter label.
func (*Collector) Name() string { return "prometheus" }

// Export implements the agent's Exporter: it counts the run by outcome, its
// failure and its page errors.
func (c *Collector) Export(_ context.Context, r *result.Result) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := deviceKey{r.Flow, r.Device, r.Location}
	n := c.counts[k]
	if n == nil {
		n = newCounts()
		c.counts[k] = n
	}
	n.add(r)
	return nil
}

func (n *counts) add(r *result.Result) {
	o := r.Outcome()
	n.runs[o]++
	n.consoleErrors += float64(len(r.ConsoleErrors))
	n.failedRequests += float64(len(r.FailedRequests))
	if o == result.OutcomeFailure && r.Error != nil {
		n.failures[failureKey{r.Error.Step, r.Error.Kind}]++
	}
	for _, s := range r.CleanupFailures() {
		n.cleanup[s.Name]++
	}
}

// flowDescs describe the per-flow metrics. The agent's carry flow, device
// and location: where the run was made (result.Location), so that the
// agents of a fleet, each exporting only its own runs, add up with
// sum without(instance) and an alert can count failing locations. Pushed
// ones leave out the labels that the Pushgateway's grouping key supplies
// (flow, and location when there is one).
type flowDescs struct {
	success, duration, runs, failures, lastFailure, lastRun, step *prom.Desc
	ttfb, fcp, lcp, load, cls, consoleErrors, failedRequests      *prom.Desc
	inp, tbt, interaction, cleanupFailures, auditFindings         *prom.Desc
	accessibilityViolations                                       *prom.Desc
	visualDiff                                                    *prom.Desc
}

// agentLabels are the labels of the agent's flow series before the
// metric's own.
var agentLabels = []string{"flow", "device", "location"}

func newFlowDescs(base []string) *flowDescs {
	d := func(name, help string, extra ...string) *prom.Desc {
		return prom.NewDesc(name, help, append(slices.Clone(base), extra...), nil)
	}
	return &flowDescs{
		success:                 d(MetricFlowSuccess, "1 if the last completed run of the flow on the device succeeded, 0 if the site failed the user. Runs that ended in an error of uxprobe or Chrome do not change it."),
		duration:                d(MetricFlowDuration, "Task time of the last completed run of the flow on the device, in seconds; for a failed run, the time until it gave up."),
		runs:                    d(MetricFlowRuns, "Runs by result: success, failure (the site failed the user) or error (uxprobe or Chrome broke, or the run was cancelled).", "result"),
		failures:                d(MetricFlowFailures, "Failed runs (result failure) by the step where the task was abandoned and the kind of error.", "step", "kind"),
		lastFailure:             d(MetricFlowLastFailure, "Present, with value 1, while the last completed run of the flow on the device failed; step and kind say where the task was abandoned and why. One series per flow and device at most, so an alert on it names the latest failing step only.", "step", "kind"),
		lastRun:                 d(MetricFlowLastRun, "When the last run of the flow on the device ended, whatever its result, as a Unix time in seconds."),
		step:                    d(MetricStepDuration, "Time of each step of the last completed run, in seconds; skipped steps have no sample.", "step"),
		ttfb:                    d(MetricPageTTFB, "Time to first byte of the page that a step of the last completed run opened, in seconds.", "step"),
		fcp:                     d(MetricPageFCP, "First contentful paint of the page that a step of the last completed run opened, in seconds.", "step"),
		lcp:                     d(MetricPageLCP, "Largest contentful paint of the page that a step of the last completed run opened, in seconds.", "step"),
		load:                    d(MetricPageLoad, "Time until the load event of the page that a step of the last completed run opened, in seconds.", "step"),
		cls:                     d(MetricPageCLS, "Cumulative layout shift of the page that a step of the last completed run opened (unitless score).", "step"),
		inp:                     d(MetricPageINP, "Worst interaction latency of the inputs of the flow's steps on the page that a step of the last completed run opened, in seconds.", "step"),
		tbt:                     d(MetricPageTBT, "Total blocking time, from first contentful paint until the flow left the page that a step of the last completed run opened, in seconds.", "step"),
		interaction:             d(MetricStepInteraction, "Interaction latency of the input of each click, press and fill step of the last completed run, from the input to the next paint, in seconds.", "step"),
		consoleErrors:           d(MetricConsoleErrors, "JavaScript errors and console errors seen on the pages, in all runs, including successful ones."),
		failedRequests:          d(MetricFailedRequests, "Requests of the pages that got an HTTP error or no response, in all runs, including successful ones."),
		cleanupFailures:         d(MetricCleanupFailures, "Cleanup steps (the flow's finally steps) that failed, by step, in all runs: each may have left data behind that later runs trip over.", "step"),
		auditFindings:           d(MetricAuditFindings, "Elements the audits of the last completed run found at fault, by rule, summed over the pages; 0 for a rule that was checked and found nothing, absent for a rule that was not checked.", "rule"),
		visualDiff:              d(MetricVisualDiffRatio, "Share of the pixels of each assert_screenshot step's picture that differ from its baseline in the last completed run (0 to 1; 0 when the picture became the baseline, 1 for a baseline of another size).", "step"),
		accessibilityViolations: d(MetricAccessibilityViolations, "Elements at fault in the accessibility audits (axe-core) of the last completed run, by axe impact (minor, moderate, serious, critical), summed over the pages; absent when accessibility was not audited.", "impact"),
	}
}

func (d *flowDescs) all() []*prom.Desc {
	return []*prom.Desc{d.success, d.duration, d.runs, d.failures, d.lastFailure, d.lastRun, d.step,
		d.ttfb, d.fcp, d.lcp, d.load, d.cls, d.inp, d.tbt, d.interaction, d.consoleErrors, d.failedRequests, d.cleanupFailures,
		d.auditFindings, d.accessibilityViolations, d.visualDiff}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prom.Desc) {
	for _, d := range c.desc.all() {
		ch <- d
	}
}

// Collect implements prometheus.Collector. It renders the flows and devices
// of the source, and forgets the counts of any other: the store is pruned on
// reload, and the counts follow it here. The location label of a flow and
// device is that of its latest run, else the collector's own; counts of
// runs made in another location (the flag changed across a reload of the
// flows) stay under their own label until the flow is removed.
func (c *Collector) Collect(ch chan<- prom.Metric) {
	latest := c.src.Latest()
	c.mu.Lock()
	defer c.mu.Unlock()
	type flowDevice struct{ flow, device string }
	kept := make(map[flowDevice]bool, len(latest))
	rendered := make(map[deviceKey]bool, len(latest))
	for _, l := range latest {
		loc := c.location
		if l.Last != nil {
			loc = l.Last.Location
		}
		k := deviceKey{l.Flow, l.Device, loc}
		kept[flowDevice{l.Flow, l.Device}] = true
		rendered[k] = true
		n := c.counts[k]
		if n == nil {
			n = newCounts()
			c.counts[k] = n
		}
		collectDevice(ch, c.desc, []string{l.Flow, l.Device, loc}, l, n)
	}
	for k, n := range c.counts {
		switch {
		case !kept[flowDevice{k.flow, k.device}]:
			delete(c.counts, k)
		case !rendered[k]:
			collectDevice(ch, c.desc, []string{k.flow, k.device, k.location}, result.Latest{Flow: k.flow, Device: k.device}, n)
		}
	}
}

// collectDevice renders the metrics of one flow on one device; lv holds the
// label values up to device (without the flow when pushing). Called with the
// counts' lock held.
func collectDevice(ch chan<- prom.Metric, d *flowDescs, lv []string, l result.Latest, n *counts) {
	with := func(extra ...string) []string { return append(slices.Clone(lv), extra...) }
	for _, o := range outcomes {
		send(ch, d.runs, prom.CounterValue, n.runs[o], with(string(o))...)
	}
	for k, v := range n.failures {
		send(ch, d.failures, prom.CounterValue, v, with(k.step, string(k.kind))...)
	}
	send(ch, d.consoleErrors, prom.CounterValue, n.consoleErrors, lv...)
	send(ch, d.failedRequests, prom.CounterValue, n.failedRequests, lv...)
	for step, v := range n.cleanup {
		send(ch, d.cleanupFailures, prom.CounterValue, v, with(step)...)
	}
	if r := l.Last; r != nil {
		end := r.StartedAt.Add(time.Duration(r.DurationSeconds * float64(time.Second)))
		send(ch, d.lastRun, prom.GaugeValue, float64(end.UnixNano())/1e9, lv...)
	}
	r := l.Verdict
	if r == nil {
		return
	}
	success := 0.0
	if r.Success {
		success = 1
	}
	send(ch, d.success, prom.GaugeValue, success, lv...)
	if !r.Success && r.Error != nil {
		send(ch, d.lastFailure, prom.GaugeValue, 1, with(r.Error.Step, string(r.Error.Kind))...)
	}
	send(ch, d.duration, prom.GaugeValue, r.DurationSeconds, lv...)
	// A step name used twice would give two samples of one series, which
	// a scrape rejects; the later step wins, like the later page below.
	steps := map[string]float64{}
	interactions := map[string]float64{}
	for _, s := range r.Steps {
		if !s.Skipped {
			steps[s.Name] = s.DurationSeconds
			if s.InteractionSeconds != nil {
				interactions[s.Name] = *s.InteractionSeconds
			}
		}
	}
	for step, v := range steps {
		send(ch, d.step, prom.GaugeValue, v, with(step)...)
	}
	for step, v := range interactions {
		send(ch, d.interaction, prom.GaugeValue, v, with(step)...)
	}
	pages := map[string]result.Page{}
	for _, p := range r.Pages {
		pages[p.Step] = p // if two pages share a step, keep the last
	}
	for step, p := range pages {
		for _, m := range []struct {
			desc *prom.Desc
			v    *float64
		}{{d.ttfb, p.TTFBSeconds}, {d.fcp, p.FCPSeconds}, {d.lcp, p.LCPSeconds}, {d.load, p.LoadSeconds}, {d.cls, p.CLS},
			{d.inp, p.INPSeconds}, {d.tbt, p.TBTSeconds}} {
			if m.v != nil {
				send(ch, m.desc, prom.GaugeValue, *m.v, with(step)...)
			}
		}
	}
	collectAudit(ch, d, r, with)
	collectVisual(ch, d, r, with)
}

// send emits a sample. Label values that Prometheus cannot take (invalid
// UTF-8 in a flow file) fail the one metric at scrape time instead of
// panicking the agent.
func send(ch chan<- prom.Metric, d *prom.Desc, t prom.ValueType, v float64, lvs ...string) {
	m, err := prom.NewConstMetric(d, t, v, lvs...)
	if err != nil {
		m = prom.NewInvalidMetric(d, err)
	}
	ch <- m
}
