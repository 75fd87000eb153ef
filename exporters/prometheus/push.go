package prometheus

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"

	"github.com/uxprobe/uxprobe/agent/result"
)

// DefaultPushJob is the Pushgateway job of Push when none is given.
const DefaultPushJob = "uxprobe"

// Pusher sends the per-flow metrics of one-shot runs (uxprobe check) to a
// Pushgateway: one group per flow, keyed by job and flow (and location, when
// the results have one, so that two locations do not replace each other's
// group), so that a flow's next push replaces only its own metrics. The flow label comes from the
// grouping key, as the Pushgateway requires; the series otherwise match the
// agent's /metrics. It is an agent Exporter, safe for concurrent use.
type Pusher struct {
	url, job string
	// desc labels the series of a group without location; descAt those of
	// a group with one, whose location label the grouping key supplies
	// (the Pushgateway refuses a series that repeats it).
	desc, descAt *flowDescs

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
	return &Pusher{url: url, job: job, desc: newFlowDescs([]string{"device", "location"}), descAt: newFlowDescs([]string{"device"}),
		latest: map[deviceKey]*result.Latest{}, counts: map[deviceKey]*counts{}}
}

// Name is the pusher's value of the agent's exporter label.
func (*Pusher) Name() string { return "pushgateway" }

// Export implements the agent's Exporter: it adds the run and pushes its
// flow's group again, with every device of the flow seen so far, since a
// push replaces the whole group.
func (p *Pusher) Export(ctx context.Context, r *result.Result) error {
	p.add(r)
	return p.push(ctx, group{r.Flow, r.Location})
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
	for _, g := range p.groups() {
		errs = append(errs, p.push(ctx, g))
	}
	return errors.Join(errs...)
}

func (p *Pusher) add(r *result.Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := deviceKey{r.Flow, r.Device, r.Location}
	if p.latest[k] == nil {
		p.latest[k] = &result.Latest{Flow: r.Flow, Device: r.Device}
		p.counts[k] = newCounts()
	}
	p.latest[k].Add(r)
	p.counts[k].add(r)
}

// group is a Pushgateway group: a flow in a location.
type group struct{ flow, location string }

func (p *Pusher) groups() []group {
	p.mu.Lock()
	defer p.mu.Unlock()
	set := map[group]bool{}
	for k := range p.latest {
		set[group{k.flow, k.location}] = true
	}
	return slices.SortedFunc(maps.Keys(set), func(a, b group) int {
		return cmp.Or(strings.Compare(a.flow, b.flow), strings.Compare(a.location, b.location))
	})
}

func (p *Pusher) push(ctx context.Context, g group) error {
	pu := push.New(p.url, p.job).Grouping("flow", g.flow)
	if g.location != "" {
		// Without a location the group stays what it was before
		// locations existed.
		pu = pu.Grouping("location", g.location)
	}
	err := pu.Collector(&pushCollector{p: p, g: g}).PushContext(ctx)
	if err != nil {
		return fmt.Errorf("pushing the metrics of flow %q to %s: %w", g.flow, p.url, err)
	}
	return nil
}

// pushCollector renders the per-flow metrics of one flow in one location,
// without the flow label.
type pushCollector struct {
	p *Pusher
	g group
}

func (c *pushCollector) descs() *flowDescs {
	if c.g.location != "" {
		return c.p.descAt
	}
	return c.p.desc
}

func (c *pushCollector) Describe(ch chan<- *prom.Desc) {
	for _, d := range c.descs().all() {
		ch <- d
	}
}

func (c *pushCollector) Collect(ch chan<- prom.Metric) {
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	for k, l := range c.p.latest {
		if k.flow != c.g.flow || k.location != c.g.location {
			continue
		}
		lv := []string{k.device}
		if k.location == "" {
			lv = append(lv, "")
		}
		collectDevice(ch, c.descs(), lv, *l, c.p.counts[k])
	}
}
