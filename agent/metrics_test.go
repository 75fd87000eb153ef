package agent

import (
	"context"
	"errors"
	"strings"
	"testing"

	prom "github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/uxprobe/uxprobe/agent/result"
	promexp "github.com/uxprobe/uxprobe/exporters/prometheus"
	"github.com/uxprobe/uxprobe/scenarios"
)

// gather returns the samples of a registry as "name{k=v,...}" → value, with
// labels in the registry's (sorted) order, an empty one left out as
// Prometheus stores it (location="" of an agent without --location);
// histograms give their count.
func gather(t *testing.T, reg *prom.Registry) map[string]float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range fams {
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				if l.GetValue() != "" {
					ls = append(ls, l.GetName()+"="+l.GetValue())
				}
			}
			out[mf.GetName()+"{"+strings.Join(ls, ",")+"}"] = value(m)
		}
	}
	return out
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Histogram != nil:
		return float64(m.GetHistogram().GetSampleCount())
	}
	return 0
}

// newWiredAgent is an agent wired as `uxprobe run` wires it: one store read
// by the Prometheus collector, the agent's metrics on the same registry.
func newWiredAgent(t *testing.T, opts Options) (*Agent, *prom.Registry) {
	t.Helper()
	reg := prom.NewRegistry()
	store := NewStore()
	col := promexp.NewCollector(store)
	reg.MustRegister(col)
	opts.Store, opts.Registerer = store, reg
	opts.Exporters = append([]Exporter{col}, opts.Exporters...)
	a, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return a, reg
}

func (a *Agent) entry(name string) *entry {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.entries[name]
}

// TestAgentMetrics checks the agent's own health signals, which it registers
// on the registry it is given (they were the Prometheus exporter's before).
// Ticks are called directly: each runs the flow on its devices now.
func TestAgentMetrics(t *testing.T) {
	a, reg := newWiredAgent(t, Options{Runner: newFakeRunner(0), Splay: -1})
	checkout := testFlow(t, "checkout", "@every 1h", "desktop", "mobile")
	search := testFlow(t, "search", "@every 1h")
	if err := a.Apply([]scenarios.FileResult{fileResult("flows.yaml", checkout, search)}); err != nil {
		t.Fatal(err)
	}
	a.tick(a.entry("checkout"))
	a.skipped(a.entry("search"), SkipOverlap)
	a.BrowserRestarted()
	a.ArtifactError()
	a.ArtifactError()
	got := gather(t, reg)
	tests := []struct {
		name   string
		sample string
		want   float64
	}{
		{"skipped overlap", `uxprobe_runs_skipped_total{flow=search,reason=overlap}`, 1},
		{"overlap starts at 0", `uxprobe_runs_skipped_total{flow=checkout,reason=overlap}`, 0},
		{"queue wait of each run", `uxprobe_run_queue_wait_seconds{}`, 2},
		{"restarts", `uxprobe_browser_restarts_total{}`, 1},
		{"artifact errors", `uxprobe_artifact_errors_total{}`, 2},
		{"flows loaded", `uxprobe_flows_loaded{}`, 2},
		{"reload ok", `uxprobe_config_last_reload_successful{}`, 1},
		{"export errors start at 0", `uxprobe_export_errors_total{exporter=prometheus}`, 0},
		{"the collector counted the runs", `uxprobe_flow_runs_total{device=mobile,flow=checkout,result=success}`, 1},
		{"a flow that has not run has its counters at 0", `uxprobe_flow_runs_total{device=desktop,flow=search,result=success}`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, ok := got[tt.sample]
			if !ok {
				t.Fatalf("no sample %s", tt.sample)
			}
			if v != tt.want {
				t.Fatalf("%s = %v, want %v", tt.sample, v, tt.want)
			}
		})
	}
	// A failed load says so and keeps the flows.
	a.opts.Load = func() ([]scenarios.FileResult, error) { return nil, errors.New("disk gone") }
	if err := a.Reload(); err == nil {
		t.Fatal("Reload gave no error")
	}
	if v := gather(t, reg)[`uxprobe_config_last_reload_successful{}`]; v != 0 {
		t.Errorf("reload result after a failed load = %v, want 0", v)
	}
}

// TestOtherShardsFlowHasNoSeries: a flow another shard owns has no per-flow
// series on this agent, only its shard skips, and no results in the API.
func TestOtherShardsFlowHasNoSeries(t *testing.T) {
	shard := Shard{Index: 0, Count: 2}
	var mine, theirs string
	for _, n := range []string{"a", "b", "c", "d", "e", "f"} {
		if shard.Owns(n) && mine == "" {
			mine = n
		}
		if !shard.Owns(n) && theirs == "" {
			theirs = n
		}
	}
	a, reg := newWiredAgent(t, Options{Runner: newFakeRunner(0), Splay: -1, Shard: shard})
	if err := a.Apply([]scenarios.FileResult{fileResult("f.yaml", testFlow(t, mine, "@every 1h"), testFlow(t, theirs, "@every 1h"))}); err != nil {
		t.Fatal(err)
	}
	a.tick(a.entry(mine))
	a.tick(a.entry(theirs))
	a.tick(a.entry(theirs))
	got := gather(t, reg)
	for sample := range got {
		if strings.Contains(sample, "flow="+theirs) && sample != `uxprobe_runs_skipped_total{flow=`+theirs+`,reason=shard}` {
			t.Errorf("series of another shard's flow: %s", sample)
		}
	}
	if v := got[`uxprobe_runs_skipped_total{flow=`+theirs+`,reason=shard}`]; v != 2 {
		t.Errorf("shard skips of %s = %v, want 2", theirs, v)
	}
	if v, ok := got[`uxprobe_flow_success{device=desktop,flow=`+mine+`}`]; !ok || v != 1 {
		t.Errorf("success of this shard's flow %s = %v (present %v), want 1", mine, v, ok)
	}
	if v := got[`uxprobe_flows_loaded{}`]; v != 2 {
		t.Errorf("flows loaded = %v, want 2 (other shards' flows included)", v)
	}
	for _, r := range a.Results() {
		if r.Flow == theirs {
			t.Errorf("results include another shard's flow %s", theirs)
		}
	}
}

type failingExporter struct {
	err   error
	panic bool
}

func (e failingExporter) Name() string {
	if e.panic {
		return "panicky"
	}
	return "failing"
}

func (e failingExporter) Export(context.Context, *result.Result) error {
	if e.panic {
		panic("exporter bug")
	}
	return e.err
}

// TestExportErrorsAreCounted: an exporter that fails or panics is counted by
// name, and neither the run nor the exporters after it are affected.
func TestExportErrorsAreCounted(t *testing.T) {
	rec := newFakeRecorder()
	a, reg := newWiredAgent(t, Options{Runner: newFakeRunner(0), Splay: -1, Exporters: []Exporter{
		failingExporter{err: errors.New("disk full")}, failingExporter{panic: true}, rec,
	}})
	if err := a.Apply([]scenarios.FileResult{fileResult("a.yaml", testFlow(t, "a", "@every 1h", "desktop", "mobile"))}); err != nil {
		t.Fatal(err)
	}
	a.tick(a.entry("a"))
	got := gather(t, reg)
	for _, tt := range []struct {
		sample string
		want   float64
	}{
		{`uxprobe_export_errors_total{exporter=failing}`, 2},
		{`uxprobe_export_errors_total{exporter=panicky}`, 2},
		{`uxprobe_export_errors_total{exporter=prometheus}`, 0},
		{`uxprobe_flow_runs_total{device=desktop,flow=a,result=success}`, 1},
	} {
		if v := got[tt.sample]; v != tt.want {
			t.Errorf("%s = %v, want %v", tt.sample, v, tt.want)
		}
	}
	if results, _, _ := rec.snapshot(); len(results) != 2 {
		t.Errorf("the exporter after the failing ones got %d results, want 2", len(results))
	}
	if n := len(a.Results()); n != 2 {
		t.Errorf("the store has %d results, want 2", n)
	}
}
