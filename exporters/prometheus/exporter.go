// Package prometheus exports what the agent saw as Prometheus metrics. One
// custom Collector renders, at scrape time, the latest result of each flow
// and device plus counters kept per flow and device, so that removing a flow
// removes all its series and nothing is re-registered on reload. Push sends
// the same per-flow metrics to a Pushgateway for one-shot runs.
package prometheus

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// Options configure an Exporter.
type Options struct{}

// queueWaitBuckets span a free slot (milliseconds) to a queue that holds
// runs for minutes, which means too few slots for the flows' schedules.
var queueWaitBuckets = []float64{0.005, 0.025, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}

// skipOverlap is the agent's reason for a run skipped because the previous
// one was still going (agent.SkipOverlap); the exporter names it rather than
// importing the agent, whose interfaces it implements.
const skipOverlap = "overlap"

// outcomes are the values of the result label, all exported from the first
// load on so that rate() sees each counter start at 0.
var outcomes = []result.Outcome{result.OutcomeSuccess, result.OutcomeFailure, result.OutcomeError}

// Exporter is a prometheus.Collector of the agent's results and health, and
// implements the agent's Recorder. Register it on a registry of your own. It
// is safe for concurrent use.
type Exporter struct {
	desc      *flowDescs
	agentDesc agentDescs
	queueWait prom.Histogram

	mu          sync.Mutex
	flows       map[string]*flowSeries
	restarts    float64
	flowsLoaded float64
	reloadOK    float64
}

// flowSeries is what the exporter keeps of one flow.
type flowSeries struct {
	devices map[string]*deviceSeries
	skipped map[string]float64 // by reason
}

// deviceSeries is what the exporter keeps of one flow on one device.
type deviceSeries struct {
	// last is the last run that said something about the site (success or
	// failure); error runs never replace it, so that our own crash does not
	// look like the site being down.
	last           *result.Result
	lastEnd        float64 // unix seconds when the last run of any outcome ended; 0 for none
	runs           map[result.Outcome]float64
	failures       map[failureKey]float64
	consoleErrors  float64
	failedRequests float64
}

type failureKey struct {
	step string
	kind scenarios.ErrorKind
}

// New returns an exporter with no flows.
func New(opts Options) *Exporter {
	return &Exporter{
		desc:      newFlowDescs(true),
		agentDesc: newAgentDescs(),
		queueWait: prom.NewHistogram(prom.HistogramOpts{
			Name:    MetricRunQueueWait,
			Help:    "Time runs waited for a browser slot (--browser.max-concurrency) before they started.",
			Buckets: queueWaitBuckets,
		}),
		flows: map[string]*flowSeries{},
	}
}

// flowDescs describe the per-flow metrics. The agent's carry a flow label;
// pushed ones do not, because the Pushgateway's grouping key supplies it.
type flowDescs struct {
	success, duration, runs, failures, lastRun, step         *prom.Desc
	ttfb, fcp, lcp, load, cls, consoleErrors, failedRequests *prom.Desc
	inp, tbt, interaction                                    *prom.Desc
}

func newFlowDescs(withFlow bool) *flowDescs {
	base := []string{"device"}
	if withFlow {
		base = []string{"flow", "device"}
	}
	d := func(name, help string, extra ...string) *prom.Desc {
		return prom.NewDesc(name, help, append(slices.Clone(base), extra...), nil)
	}
	return &flowDescs{
		success:        d(MetricFlowSuccess, "1 if the last completed run of the flow on the device succeeded, 0 if the site failed the user. Runs that ended in an error of uxprobe or Chrome do not change it."),
		duration:       d(MetricFlowDuration, "Task time of the last completed run of the flow on the device, in seconds; for a failed run, the time until it gave up."),
		runs:           d(MetricFlowRuns, "Runs by result: success, failure (the site failed the user) or error (uxprobe or Chrome broke, or the run was cancelled).", "result"),
		failures:       d(MetricFlowFailures, "Failed runs (result failure) by the step where the task was abandoned and the kind of error.", "step", "kind"),
		lastRun:        d(MetricFlowLastRun, "When the last run of the flow on the device ended, whatever its result, as a Unix time in seconds."),
		step:           d(MetricStepDuration, "Time of each step of the last completed run, in seconds; skipped steps have no sample.", "step"),
		ttfb:           d(MetricPageTTFB, "Time to first byte of the page that a step of the last completed run opened, in seconds.", "step"),
		fcp:            d(MetricPageFCP, "First contentful paint of the page that a step of the last completed run opened, in seconds.", "step"),
		lcp:            d(MetricPageLCP, "Largest contentful paint of the page that a step of the last completed run opened, in seconds.", "step"),
		load:           d(MetricPageLoad, "Time until the load event of the page that a step of the last completed run opened, in seconds.", "step"),
		cls:            d(MetricPageCLS, "Cumulative layout shift of the page that a step of the last completed run opened (unitless score).", "step"),
		inp:            d(MetricPageINP, "Worst interaction latency of the inputs of the flow's steps on the page that a step of the last completed run opened, in seconds.", "step"),
		tbt:            d(MetricPageTBT, "Total blocking time, from first contentful paint until the flow left the page that a step of the last completed run opened, in seconds.", "step"),
		interaction:    d(MetricStepInteraction, "Interaction latency of the input of each click, press and fill step of the last completed run, from the input to the next paint, in seconds.", "step"),
		consoleErrors:  d(MetricConsoleErrors, "JavaScript errors and console errors seen on the pages, in all runs, including successful ones."),
		failedRequests: d(MetricFailedRequests, "Requests of the pages that got an HTTP error or no response, in all runs, including successful ones."),
	}
}

func (d *flowDescs) all() []*prom.Desc {
	return []*prom.Desc{d.success, d.duration, d.runs, d.failures, d.lastRun, d.step,
		d.ttfb, d.fcp, d.lcp, d.load, d.cls, d.inp, d.tbt, d.interaction, d.consoleErrors, d.failedRequests}
}

type agentDescs struct {
	skipped, restarts, flowsLoaded, reloadOK *prom.Desc
}

func newAgentDescs() agentDescs {
	return agentDescs{
		skipped:     prom.NewDesc(MetricRunsSkipped, "Scheduled runs that did not happen, by reason: overlap (the flow's previous run was still going) or shard (the flow belongs to another agent's --shard; counted once per schedule tick).", []string{"flow", "reason"}, nil),
		restarts:    prom.NewDesc(MetricBrowserRestarts, "Times Chrome was restarted after it died or hung.", nil, nil),
		flowsLoaded: prom.NewDesc(MetricFlowsLoaded, "Flows loaded from the flow files, including flows of other shards and the previous flows of invalid files.", nil, nil),
		reloadOK:    prom.NewDesc(MetricConfigReloadSuccess, "1 if the last load of the flow files read every file, 0 if a file was invalid (its previous flows keep running).", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (e *Exporter) Describe(ch chan<- *prom.Desc) {
	for _, d := range e.desc.all() {
		ch <- d
	}
	ch <- e.agentDesc.skipped
	ch <- e.agentDesc.restarts
	ch <- e.agentDesc.flowsLoaded
	ch <- e.agentDesc.reloadOK
	e.queueWait.Describe(ch)
}

// Collect implements prometheus.Collector.
func (e *Exporter) Collect(ch chan<- prom.Metric) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for flow, fs := range e.flows {
		collectFlow(ch, e.desc, []string{flow}, fs)
		for reason, v := range fs.skipped {
			send(ch, e.agentDesc.skipped, prom.CounterValue, v, flow, reason)
		}
	}
	send(ch, e.agentDesc.restarts, prom.CounterValue, e.restarts)
	send(ch, e.agentDesc.flowsLoaded, prom.GaugeValue, e.flowsLoaded)
	send(ch, e.agentDesc.reloadOK, prom.GaugeValue, e.reloadOK)
	e.queueWait.Collect(ch)
}

// collectFlow renders the per-flow metrics of one flow; prefix holds the
// label values before device (the flow's name, or nothing when pushing).
// Called with mu held.
func collectFlow(ch chan<- prom.Metric, d *flowDescs, prefix []string, fs *flowSeries) {
	for device, ds := range fs.devices {
		lv := append(slices.Clone(prefix), device)
		with := func(extra ...string) []string { return append(slices.Clone(lv), extra...) }
		for _, o := range outcomes {
			send(ch, d.runs, prom.CounterValue, ds.runs[o], with(string(o))...)
		}
		for k, v := range ds.failures {
			send(ch, d.failures, prom.CounterValue, v, with(k.step, string(k.kind))...)
		}
		send(ch, d.consoleErrors, prom.CounterValue, ds.consoleErrors, lv...)
		send(ch, d.failedRequests, prom.CounterValue, ds.failedRequests, lv...)
		if ds.lastEnd > 0 {
			send(ch, d.lastRun, prom.GaugeValue, ds.lastEnd, lv...)
		}
		r := ds.last
		if r == nil {
			continue
		}
		success := 0.0
		if r.Success {
			success = 1
		}
		send(ch, d.success, prom.GaugeValue, success, lv...)
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
	}
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

// Record implements the agent's Recorder: it counts the run and keeps it as
// the device's last result unless it ended in an error of uxprobe or Chrome.
func (e *Exporter) Record(_ context.Context, r *result.Result) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	ds := e.device(r.Flow, r.Device)
	o := r.Outcome()
	ds.runs[o]++
	end := r.StartedAt.Add(time.Duration(r.DurationSeconds * float64(time.Second)))
	ds.lastEnd = float64(end.UnixNano()) / 1e9
	ds.consoleErrors += float64(len(r.ConsoleErrors))
	ds.failedRequests += float64(len(r.FailedRequests))
	if o == result.OutcomeFailure && r.Error != nil {
		ds.failures[failureKey{r.Error.Step, r.Error.Kind}]++
	}
	if o != result.OutcomeError {
		ds.last = r
	}
	return nil
}

// device returns the series of a flow and device, creating them. Called
// with mu held.
func (e *Exporter) device(flow, device string) *deviceSeries {
	fs := e.flows[flow]
	if fs == nil {
		fs = &flowSeries{devices: map[string]*deviceSeries{}, skipped: map[string]float64{}}
		e.flows[flow] = fs
	}
	ds := fs.devices[device]
	if ds == nil {
		ds = &deviceSeries{runs: map[result.Outcome]float64{}, failures: map[failureKey]float64{}}
		fs.devices[device] = ds
	}
	return ds
}

// RunSkipped implements the agent's Recorder.
func (e *Exporter) RunSkipped(flow, reason string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	fs := e.flows[flow]
	if fs == nil {
		fs = &flowSeries{devices: map[string]*deviceSeries{}, skipped: map[string]float64{}}
		e.flows[flow] = fs
	}
	fs.skipped[reason]++
}

// QueueWaited implements the agent's Recorder.
func (e *Exporter) QueueWaited(wait time.Duration) { e.queueWait.Observe(wait.Seconds()) }

// FlowsLoaded implements the agent's Recorder: series of flows and devices
// that are gone are removed, and new ones start with their counters at 0.
func (e *Exporter) FlowsLoaded(flows []*scenarios.Flow) {
	e.mu.Lock()
	defer e.mu.Unlock()
	keep := map[string]*scenarios.Flow{}
	for _, f := range flows {
		keep[f.Name] = f
	}
	maps.DeleteFunc(e.flows, func(name string, _ *flowSeries) bool { return keep[name] == nil })
	for _, f := range flows {
		for _, d := range f.Devices {
			e.device(f.Name, d.Name)
		}
		fs := e.flows[f.Name]
		maps.DeleteFunc(fs.devices, func(device string, _ *deviceSeries) bool {
			_, ok := f.Device(device)
			return !ok
		})
		if _, ok := fs.skipped[skipOverlap]; !ok {
			fs.skipped[skipOverlap] = 0
		}
	}
	e.flowsLoaded = float64(len(flows))
}

// ConfigReloaded implements the agent's Recorder.
func (e *Exporter) ConfigReloaded(ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.reloadOK = 0
	if ok {
		e.reloadOK = 1
	}
}

// BrowserRestarted counts a Chrome restart; give it to
// browser.Options.OnRestart.
func (e *Exporter) BrowserRestarted() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.restarts++
}
