// Package remotewrite pushes the agent's metrics to a Prometheus-compatible
// receiver with the Prometheus remote write protocol (1.0), for agents that
// Prometheus cannot scrape, such as a location behind NAT. It sends the
// series of /metrics, the flows' with their location label included, every
// interval, with the labels that a scrape would have added (job, instance).
//
// The HTTP side (snappy, headers, retries with backoff on 5xx and 429) is
// client_golang's remote write client (github.com/prometheus/client_golang/
// exp/api/remote); the 1.0 message it sends is encoded in writerequest.go.
package remotewrite

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/exp/api/remote"
	prom "github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// DefaultInterval is how often Run pushes when no interval is given: the
// scrape interval of the example prometheus.yml.
const DefaultInterval = 15 * time.Second

// Options configure a Pusher.
type Options struct {
	// Labels are added to every series, as a scrape adds its target's
	// (job, instance); a series' own label of the same name wins, as with
	// honor_labels.
	Labels map[string]string
	// Interval is how often Run pushes; 0 means DefaultInterval.
	Interval time.Duration
	// Client sends the requests; nil means one with a timeout of the
	// interval.
	Client *http.Client
	// Logger hears of failed pushes; nil discards.
	Logger *slog.Logger
	// Now is the clock of the samples' timestamps; nil means time.Now.
	Now func() time.Time
}

// Pusher sends what a Gatherer gathers to one remote write URL.
type Pusher struct {
	api      *remote.API
	g        prom.Gatherer
	opts     Options
	redacted string // the URL as logs may show it
}

// New returns a pusher of g to the remote write endpoint at rawURL (the
// whole URL, e.g. http://prometheus:9090/api/v1/write). A user and password
// in the URL are sent as basic auth and never logged.
func New(rawURL string, g prom.Gatherer, opts Options) (*Pusher, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("the remote write URL does not parse") // the error would repeat the URL, password included
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("remote write URL %s: want http:// or https:// and a host", u.Redacted())
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: opts.Interval}
	}
	// The API joins its path to the base URL: an empty one keeps the
	// user's path as given.
	api, err := remote.NewAPI(u.String(), remote.WithAPIHTTPClient(opts.Client), remote.WithAPIPath(""),
		remote.WithAPIBackoff(remote.BackoffConfig{Min: 100 * time.Millisecond, Max: opts.Interval / 4, MaxRetries: 3}))
	if err != nil {
		return nil, fmt.Errorf("remote write URL %s: %w", u.Redacted(), err)
	}
	return &Pusher{api: api, g: g, opts: opts, redacted: u.Redacted()}, nil
}

// URL is the remote write URL without its password, for logs.
func (p *Pusher) URL() string { return p.redacted }

// Run pushes every interval until ctx ends, then once more, so that the
// last results of a stopping agent arrive. A failed push is logged and the
// next one sends the then current values: the series are the latest state,
// so a lost push loses resolution, not data that a later push lacks.
func (p *Pusher) Run(ctx context.Context) error {
	t := time.NewTicker(p.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), min(p.opts.Interval, 5*time.Second))
			defer cancel()
			p.logged(final)
			return nil
		case <-t.C:
			pushCtx, cancel := context.WithTimeout(ctx, p.opts.Interval)
			p.logged(pushCtx)
			cancel()
		}
	}
}

func (p *Pusher) logged(ctx context.Context) {
	if err := p.Push(ctx); err != nil && ctx.Err() == nil {
		p.opts.Logger.Warn("remote write failed; the next push sends the then current values", "url", p.redacted, "err", err)
	}
}

// Push gathers and sends once.
func (p *Pusher) Push(ctx context.Context) error {
	fams, err := p.g.Gather()
	if len(fams) == 0 && err != nil {
		return fmt.Errorf("gathering the metrics: %w", err)
	}
	// A partial gather (one invalid metric) still sends the rest, as a
	// scrape of /metrics with ContinueOnError would.
	req := convert(fams, p.opts.Labels, p.opts.Now().UnixMilli())
	if len(req.series) == 0 {
		return nil
	}
	if _, werr := p.api.Write(ctx, remote.WriteV1MessageType, req); werr != nil {
		return errors.Join(fmt.Errorf("remote write to %s: %w", p.redacted, werr), err)
	}
	return err
}

// convert turns gathered families into remote write series, as Prometheus
// would store a scrape of them: histograms and summaries as their
// _bucket/quantile, _sum and _count series.
func convert(fams []*dto.MetricFamily, extra map[string]string, ms int64) *writeRequest {
	req := &writeRequest{}
	for _, mf := range fams {
		name := mf.GetName()
		typ := typeUnknown
		switch mf.GetType() {
		case dto.MetricType_COUNTER:
			typ = typeCounter
		case dto.MetricType_GAUGE:
			typ = typeGauge
		case dto.MetricType_SUMMARY:
			typ = typeSummary
		case dto.MetricType_HISTOGRAM:
			typ = typeHistogram
		}
		req.metadata = append(req.metadata, metadata{typ: typ, name: name, help: mf.GetHelp()})
		for _, m := range mf.GetMetric() {
			add := func(suffix string, v float64, more ...label) {
				req.series = append(req.series, timeSeries{
					labels:  labelsOf(name+suffix, m.GetLabel(), extra, more...),
					samples: []sample{{v, ms}},
				})
			}
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				add("", m.GetCounter().GetValue())
			case dto.MetricType_GAUGE:
				add("", m.GetGauge().GetValue())
			case dto.MetricType_UNTYPED:
				add("", m.GetUntyped().GetValue())
			case dto.MetricType_SUMMARY:
				s := m.GetSummary()
				for _, q := range s.GetQuantile() {
					add("", q.GetValue(), label{"quantile", formatFloat(q.GetQuantile())})
				}
				add("_sum", s.GetSampleSum())
				add("_count", float64(s.GetSampleCount()))
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				inf := false
				for _, b := range h.GetBucket() {
					inf = inf || math.IsInf(b.GetUpperBound(), 1)
					add("_bucket", float64(b.GetCumulativeCount()), label{"le", formatFloat(b.GetUpperBound())})
				}
				if !inf {
					add("_bucket", float64(h.GetSampleCount()), label{"le", "+Inf"})
				}
				add("_sum", h.GetSampleSum())
				add("_count", float64(h.GetSampleCount()))
			}
		}
	}
	return req
}

// labelsOf is a series' label set: its name, its own labels, then the
// extra ones it lacks, sorted by name; an empty value is no label, as in
// Prometheus.
func labelsOf(name string, own []*dto.LabelPair, extra map[string]string, more ...label) []label {
	ls := []label{{"__name__", name}}
	seen := map[string]bool{"__name__": true}
	for _, l := range own {
		seen[l.GetName()] = true
		if l.GetValue() != "" {
			ls = append(ls, label{l.GetName(), l.GetValue()})
		}
	}
	for _, l := range more {
		seen[l.name] = true
		ls = append(ls, l)
	}
	for k, v := range extra {
		if !seen[k] && v != "" {
			ls = append(ls, label{k, v})
		}
	}
	slices.SortFunc(ls, func(a, b label) int { return cmp.Compare(a.name, b.name) })
	return ls
}

// formatFloat writes le and quantile values as the text format does.
func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
