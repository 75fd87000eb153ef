package prometheus

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"

	"github.com/uxprobe/uxprobe/agent/result"
)

// DefaultPushJob is the Pushgateway job of Push when none is given.
const DefaultPushJob = "uxprobe"

// Pusher sends the per-flow metrics of one-shot runs (uxprobe check) to a
// Pushgateway: one group per flow, keyed by job and flow, so that a flow's
// next push replaces only its own metrics. The flow label comes from the
// grouping key, as the Pushgateway requires; the series otherwise match the
// agent's /metrics. It is an agent Exporter, safe for concurrent use.
type Pusher struct {
	url, job string
	desc     *flowDescs

	mu     sync.Mutex
	latest map[deviceKey]*result.Latest
	counts map[deviceKey]*counts
}

// NewPusher returns a pusher to the Pushgateway at url; job "" means
// DefaultPushJob.
func NewPusher(url, job string) *Pusher {
	if job == "" {
		job = DefaultPushJob
	}
	return &Pusher{url: url, job: job, desc: newFlowDescs(false),
		latest: map[deviceKey]*result.Latest{}, counts: map[deviceKey]*counts{}}
}

// Name is the pusher's value of the agent's exporter label.
func (*Pusher) Name() string { return "pushgateway" }

// Export implements the agent's Exporter: it adds the run and pushes its
// flow's group again, with every device of the flow seen so far, since a
// push replaces the whole group.
func (p *Pusher) Export(ctx context.Context, r *result.Result) error {
	p.add(r)
	return p.push(ctx, r.Flow)
}

// Push sends the metrics of results to the Pushgateway at url in one push
// per flow; job "" means DefaultPushJob.
func Push(ctx context.Context, url, job string, results []*result.Result) error {
	p := NewPusher(url, job)
	for _, r := range results {
		if r != nil {
			p.add(r)
		}
	}
	var errs []error
	for _, flow := range p.flows() {
		errs = append(errs, p.push(ctx, flow))
	}
	return errors.Join(errs...)
}

func (p *Pusher) add(r *result.Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := deviceKey{r.Flow, r.Device}
	if p.latest[k] == nil {
		p.latest[k] = &result.Latest{Flow: r.Flow, Device: r.Device}
		p.counts[k] = newCounts()
	}
	p.latest[k].Add(r)
	p.counts[k].add(r)
}

func (p *Pusher) flows() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	set := map[string]bool{}
	for k := range p.latest {
		set[k.flow] = true
	}
	return slices.Sorted(maps.Keys(set))
}

func (p *Pusher) push(ctx context.Context, flow string) error {
	err := push.New(p.url, p.job).Grouping("flow", flow).Collector(&pushCollector{p: p, flow: flow}).PushContext(ctx)
	if err != nil {
		return fmt.Errorf("pushing the metrics of flow %q to %s: %w", flow, p.url, err)
	}
	return nil
}

// pushCollector renders the per-flow metrics of one flow, without the flow
// label.
type pushCollector struct {
	p    *Pusher
	flow string
}

func (c *pushCollector) Describe(ch chan<- *prom.Desc) {
	for _, d := range c.p.desc.all() {
		ch <- d
	}
}

func (c *pushCollector) Collect(ch chan<- prom.Metric) {
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	for k, l := range c.p.latest {
		if k.flow == c.flow {
			collectDevice(ch, c.p.desc, []string{k.device}, *l, c.p.counts[k])
		}
	}
}
