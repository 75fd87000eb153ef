package prometheus

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"

	"github.com/uxprobe/uxprobe/agent/result"
)

// DefaultPushJob is the Pushgateway job of Push when none is given.
const DefaultPushJob = "uxprobe"

// Push sends the per-flow metrics of one-shot runs (uxprobe check) to the
// Pushgateway at url: one push per flow, grouped by job and flow, so that a
// flow's next push replaces only its own metrics. The flow label comes from
// the grouping key, as the Pushgateway requires; the series otherwise match
// the agent's /metrics. job "" means DefaultPushJob.
func Push(ctx context.Context, url, job string, results []*result.Result) error {
	if job == "" {
		job = DefaultPushJob
	}
	e := New(Options{})
	for _, r := range results {
		if r == nil {
			continue
		}
		if err := e.Record(ctx, r); err != nil {
			return err
		}
	}
	descs := newFlowDescs(false)
	var errs []error
	for _, flow := range slices.Sorted(maps.Keys(e.flows)) {
		c := &pushCollector{e: e, d: descs, flow: flow}
		err := push.New(url, job).Grouping("flow", flow).Collector(c).PushContext(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("pushing the metrics of flow %q to %s: %w", flow, url, err))
		}
	}
	return errors.Join(errs...)
}

// pushCollector renders the per-flow metrics of one flow, without the flow
// label.
type pushCollector struct {
	e    *Exporter
	d    *flowDescs
	flow string
}

func (c *pushCollector) Describe(ch chan<- *prom.Desc) {
	for _, d := range c.d.all() {
		ch <- d
	}
}

func (c *pushCollector) Collect(ch chan<- prom.Metric) {
	c.e.mu.Lock()
	defer c.e.mu.Unlock()
	if fs := c.e.flows[c.flow]; fs != nil {
		collectFlow(ch, c.d, nil, fs)
	}
}
