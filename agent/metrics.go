package agent

import (
	"github.com/prometheus/client_golang/prometheus"
)

// The names of the agent's own metrics: its health, as opposed to what the
// flows found (exporters/prometheus). Alert rules and dashboards under deploy/
// are written against them, and a test there checks every name they use.
const (
	MetricRunsSkipped         = "uxprobe_runs_skipped_total"
	MetricRunQueueWait        = "uxprobe_run_queue_wait_seconds"
	MetricBrowserRestarts     = "uxprobe_browser_restarts_total"
	MetricFlowsLoaded         = "uxprobe_flows_loaded"
	MetricConfigReloadSuccess = "uxprobe_config_last_reload_successful"
	MetricExportErrors        = "uxprobe_export_errors_total"
	MetricArtifactErrors      = "uxprobe_artifact_errors_total"
	MetricAgentInfo           = "uxprobe_agent_info"
)

// MetricNames lists the agent's own metric families.
func MetricNames() []string {
	return []string{MetricRunsSkipped, MetricRunQueueWait, MetricBrowserRestarts,
		MetricFlowsLoaded, MetricConfigReloadSuccess, MetricExportErrors, MetricArtifactErrors, MetricAgentInfo}
}

// queueWaitBuckets span a free slot (milliseconds) to a queue that holds
// runs for minutes, which means too few slots for the flows' schedules.
var queueWaitBuckets = []float64{0.005, 0.025, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}

// metrics are the agent's health signals. They are registered once, in New,
// on the Registerer the agent is given, and never re-registered on reload.
type metrics struct {
	skipped      *prometheus.CounterVec
	queueWait    prometheus.Histogram
	restarts     prometheus.Counter
	flowsLoaded  prometheus.Gauge
	reloadOK     prometheus.Gauge
	exportErrors *prometheus.CounterVec
	// artifactErrors counts screenshots that could not be written.
	artifactErrors prometheus.Counter
	// info carries the agent's external URL, so that alert rules can link
	// to its pages (joined on instance).
	info *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricRunsSkipped,
			Help: "Scheduled runs that did not happen, by reason: " + SkipOverlap + " (the flow's previous run was still going), " + SkipShard + " (the flow belongs to another agent's --shard; counted once per schedule tick), " + SkipClaimed + " (another agent of the location claimed the slot; per device), " + SkipMissed + " (no agent of the location ran the slot; counted once over the fleet) or " + SkipSessionFresh + " (a login flow's run that a login on demand, recorded as its run, did since it fell due; per device).",
		}, []string{"flow", "reason"}),
		queueWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    MetricRunQueueWait,
			Help:    "Time runs waited for a browser slot (--browser.max-concurrency) before they started.",
			Buckets: queueWaitBuckets,
		}),
		restarts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: MetricBrowserRestarts,
			Help: "Times Chrome was restarted after it died or hung.",
		}),
		flowsLoaded: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: MetricFlowsLoaded,
			Help: "Flows loaded from the flow files, including flows of other shards and the previous flows of invalid files.",
		}),
		reloadOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: MetricConfigReloadSuccess,
			Help: "1 if the last load of the flow files read every file, 0 if a file was invalid (its previous flows keep running).",
		}),
		exportErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricExportErrors,
			Help: "Results an exporter failed to take (a report file, the Pushgateway), by exporter; the run and the other exporters went on.",
		}, []string{"exporter"}),
		artifactErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: MetricArtifactErrors,
			Help: "Artifacts (screenshots) that could not be written, such as on a full disk; the runs went on without them.",
		}),
		info: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: MetricAgentInfo,
			Help: "Always 1: external_url is the address people and alerts reach this agent at (--web.external-url), the base of its status page and of /flows/FLOW/failure.png.",
		}, []string{"external_url"}),
	}
	for _, c := range []prometheus.Collector{m.skipped, m.queueWait, m.restarts, m.flowsLoaded, m.reloadOK, m.exportErrors, m.artifactErrors, m.info} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// flowsChanged keeps the skip counters of exactly the loaded flows: the
// flows this agent runs count overlaps, the flows of other shards count
// shard skips and have no other series here; login flows (logins) count
// session_fresh skips too. All start at 0, so that rate() sees a counter
// start rather than appear.
func (m *metrics) flowsChanged(removed []string, owned, logins func(string) bool, names []string, fleet bool) {
	for _, name := range removed {
		m.skipped.DeletePartialMatch(prometheus.Labels{"flow": name})
	}
	for _, name := range names {
		if owned(name) {
			m.skipped.WithLabelValues(name, SkipOverlap)
			if fleet {
				m.skipped.WithLabelValues(name, SkipClaimed)
				m.skipped.WithLabelValues(name, SkipMissed)
			}
			if logins(name) {
				m.skipped.WithLabelValues(name, SkipSessionFresh)
			} else {
				m.skipped.DeleteLabelValues(name, SkipSessionFresh)
			}
		} else {
			m.skipped.WithLabelValues(name, SkipShard)
		}
	}
}

// SetExternalURL sets the external_url of uxprobe_agent_info: the address
// the agent's pages are reached at, without a trailing slash, so that an
// alert rule appends "/flows/..." to it.
func (a *Agent) SetExternalURL(u string) {
	a.m.info.Reset()
	a.m.info.WithLabelValues(u).Set(1)
}
