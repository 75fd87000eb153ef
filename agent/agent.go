// Package agent is the long-lived part of uxprobe: it schedules every flow on
// every device with cron, runs them through a Runner under a global
// concurrency limit, keeps the latest result of each flow and device in its
// Store, and hands every result to its Exporters (metrics, reports, a
// Pushgateway). Flow files can be reloaded while it runs; a file that became
// invalid keeps its previous flows running. RunOnce is the same minus the
// schedule, for `uxprobe check`.
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// Runner runs a flow on a device. It must return a result even when the
// browser breaks, and honour ctx: a cancelled ctx ends the run with kind
// cancelled. *runner.Runner implements it.
type Runner interface {
	Run(ctx context.Context, f *scenarios.Flow, d scenarios.Device) *result.Result
}

// Exporter hands a completed run's result to one of its users: the
// Prometheus collector, a report file, a Pushgateway. Export is called for
// every completed run, whatever its outcome, possibly from several
// goroutines at once; a run of a flow that a reload removed meanwhile may
// still arrive. An error is logged and counted in
// uxprobe_export_errors_total{exporter}; it never stops the other exporters
// or the run.
type Exporter interface {
	Export(ctx context.Context, r *result.Result) error
}

// exporterName is an exporter's value of the exporter label: its Name if it
// has one, else its type.
func exporterName(e Exporter) string {
	if n, ok := e.(interface{ Name() string }); ok {
		return n.Name()
	}
	return fmt.Sprintf("%T", e)
}

// The reasons of uxprobe_runs_skipped_total, defined here once.
const (
	// SkipOverlap: the flow's previous run was still going.
	SkipOverlap = "overlap"
	// SkipShard: the flow belongs to another agent's shard. It is counted
	// once per schedule tick, so that the counter shows the flow is alive
	// elsewhere at the rate it would run here.
	SkipShard = "shard"
	// SkipClaimed: another agent of the location claimed the slot (see
	// Options.Fleet); counted once per device.
	SkipClaimed = "claimed"
	// SkipMissed: no agent of the location claimed the slot within its
	// period, so it did not run anywhere; counted once over the fleet, by
	// the agent that noticed first.
	SkipMissed = "missed"
	// SkipSessionFresh: a login flow's run whose work a login on demand
	// already did: the device's session was saved since the run fell due,
	// by a run of the login flow recorded as such (see LoginRunner);
	// counted per device.
	SkipSessionFresh = "session_fresh"
)

// Defaults of Options.
const (
	DefaultSplay           = time.Minute
	DefaultShutdownTimeout = 30 * time.Second
)

// cancelGrace bounds the wait for runs after they were cancelled at
// shutdown; a Runner that ignores its context must not hang the process.
const cancelGrace = 10 * time.Second

// shutdownReserve is the part of the shutdown timeout kept for what comes
// after the wait for runs: cancelling the runs still going, their results,
// closing Chrome. The timeout bounds the whole shutdown, so runs in
// progress get it less this reserve.
func shutdownReserve(timeout time.Duration) time.Duration {
	return min(timeout/5, 3*time.Second)
}

// Options configure an Agent.
type Options struct {
	// Runner runs the flows; required.
	Runner Runner
	// Exporters are given every completed run.
	Exporters []Exporter
	// History, if set, is given every completed run first, before the
	// latest results (and so /metrics) or any exporter show it: a run
	// anyone has seen is already committed to the history. Its errors are
	// counted as an exporter's; the run is shown all the same. With a
	// History, every run gets an ID (result.NewID).
	History Exporter
	// Store keeps the latest results; nil means a new one. Give the agent
	// the store the Prometheus collector reads.
	Store *Store
	// Registerer takes the agent's own metrics (skips, queue wait, flows
	// loaded, reload result, browser restarts, export errors); nil keeps
	// them unexported.
	Registerer prometheus.Registerer
	// Load reads the flow files for Reload, one FileResult per file.
	Load func() ([]scenarios.FileResult, error)
	// MaxConcurrency is the number of runs at the same time, over all flows
	// and devices; 0 means runtime.NumCPU().
	MaxConcurrency int
	// Splay is the upper bound of each flow's start offset (see
	// SplayOffset); 0 means DefaultSplay, a negative value no offset.
	Splay time.Duration
	// ShutdownTimeout is how long runs in progress may finish after Run's
	// context ends; 0 means DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// Shard selects the flows this agent runs.
	Shard Shard
	// Location is where this agent stands (--location), set on every
	// result; agents that share a Fleet split the slots of their location.
	Location string
	// Name names this agent on every result (--agent.name).
	Name string
	// Fleet, if set, is the state the agents of a fleet share: each slot of
	// each flow and device runs on one agent of the location, the first
	// with a free browser slot to claim it (see Fleet). Nil runs every
	// slot here.
	Fleet Fleet
	// Logger receives the agent's log; nil discards it.
	Logger *slog.Logger
}

// Agent schedules flows and records their results. Create it with New, give
// it flows with Apply or Reload, and start it with Run.
type Agent struct {
	opts      Options
	log       *slog.Logger
	m         *metrics
	exporters []namedExporter
	history   []namedExporter // none or one
	cron      *cron.Cron
	slots     slots
	store     *Store

	// schedCtx ends when shutdown starts: runs still waiting for a slot give
	// up. runCtx ends when the shutdown timeout is spent: runs in progress
	// are cancelled.
	schedCtx    context.Context
	cancelSched context.CancelFunc
	runCtx      context.Context
	cancelRuns  context.CancelFunc

	reloadMu sync.Mutex // one Reload at a time; held while reading files

	fleetDone chan struct{} // closed when the fleet's loop has stopped

	// logins is the Runner's LoginRunner, if it has one; set in Run.
	logins LoginRunner

	mu       sync.Mutex
	entries  map[string]*entry
	loaded   bool
	started  bool
	stopping bool
	runs     sync.WaitGroup // ticks that run devices; Add only under mu while !stopping
}

// entry is one scheduled version of a flow.
type entry struct {
	flow *scenarios.Flow
	file string
	id   cron.EntryID
	// ctx ends when this version is replaced or removed, which cancels its
	// runs in progress; their results are then dropped.
	ctx    context.Context
	cancel context.CancelFunc
	// running is set while a run of this version is in progress. A new
	// version gets its own: the old version's run is being cancelled, and
	// sharing the flag would skip the new version's first run as an overlap.
	running atomic.Bool
	sched   *splayedSchedule
	// slotMu guards lastSlot, the slot of this version's last tick, and
	// openSlot, the last slot it ran without a claim (the fleet's database
	// was unreachable): a slot that is not the agent's to mark missed.
	slotMu   sync.Mutex
	lastSlot time.Time
	openSlot time.Time
	// firstRun, of a login flow (provides_session) only, is closed when
	// this version's first tick is over: the flows that use its session
	// wait for it (awaitLogin).
	firstRun     chan struct{}
	firstRunOnce sync.Once
}

// New returns an agent with no flows.
func New(opts Options) (*Agent, error) {
	if opts.Runner == nil {
		return nil, errors.New("agent: no Runner")
	}
	if opts.MaxConcurrency <= 0 {
		opts.MaxConcurrency = runtime.NumCPU()
	}
	if opts.Splay == 0 {
		opts.Splay = DefaultSplay
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = DefaultShutdownTimeout
	}
	if opts.Shard.Count > 0 && (opts.Shard.Index < 0 || opts.Shard.Index >= opts.Shard.Count) {
		return nil, fmt.Errorf("agent: shard %d/%d: want 0 <= I < N", opts.Shard.Index, opts.Shard.Count)
	}
	if opts.Store == nil {
		opts.Store = NewStore()
	}
	if !ValidLocation(opts.Location) {
		return nil, fmt.Errorf("agent: location %q: want lower-case letters, digits and dashes", opts.Location)
	}
	reg := opts.Registerer
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("agent: registering metrics: %w", err)
	}
	a := &Agent{
		opts:      opts,
		log:       opts.Logger,
		m:         m,
		exporters: nameExporters(opts.Exporters, m),
		history:   nameExporters([]Exporter{opts.History}, m),
		slots:     newSlots(opts.MaxConcurrency),
		store:     opts.Store,
		entries:   map[string]*entry{},
		// Schedules are parsed here, not by cron, so the parser option is
		// not needed; cron's own log would only duplicate ours.
		cron: cron.New(cron.WithLogger(cron.DiscardLogger)),
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	a.schedCtx, a.cancelSched = context.WithCancel(context.Background())
	a.runCtx, a.cancelRuns = context.WithCancel(context.Background())
	return a, nil
}

// Run starts the schedules and blocks until ctx ends. Then it stops
// scheduling, lets runs in progress finish for up to the shutdown timeout,
// cancels the rest and waits for them. It returns an error only when runs
// did not stop after being cancelled.
func (a *Agent) Run(ctx context.Context) error {
	a.mu.Lock()
	if a.started {
		a.mu.Unlock()
		return errors.New("agent: Run called twice")
	}
	a.started = true
	if a.logins = loginRunner(a.opts.Runner); a.logins != nil {
		a.logins.RecordLogins(a.recordLogin)
	}
	a.mu.Unlock()

	a.cron.Start()
	if a.opts.Fleet != nil {
		a.fleetDone = make(chan struct{})
		go func() {
			defer close(a.fleetDone)
			a.fleetLoop(a.schedCtx)
		}()
	}
	<-ctx.Done()
	return a.shutdown()
}

func (a *Agent) shutdown() error {
	a.mu.Lock()
	a.stopping = true
	a.mu.Unlock()
	cronDone := a.cron.Stop()
	a.cancelSched()
	if a.fleetDone != nil {
		<-a.fleetDone // it stops at once: its statements have short timeouts
	}

	done := make(chan struct{})
	go func() {
		a.runs.Wait()
		<-cronDone.Done()
		close(done)
	}()
	timer := time.NewTimer(a.opts.ShutdownTimeout - shutdownReserve(a.opts.ShutdownTimeout))
	defer timer.Stop()
	select {
	case <-done:
		a.cancelRuns()
		return nil
	case <-timer.C:
	}
	a.log.Warn("cancelling runs still in progress at shutdown", "timeout", a.opts.ShutdownTimeout)
	a.cancelRuns()
	grace := time.NewTimer(cancelGrace)
	defer grace.Stop()
	select {
	case <-done:
		return nil
	case <-grace.C:
		return fmt.Errorf("runs did not stop within %s of being cancelled", cancelGrace)
	}
}

// Reload reads the flow files with Options.Load and applies them (see
// Apply). Reloads are serialized.
func (a *Agent) Reload() error {
	if a.opts.Load == nil {
		return errors.New("agent: no Load function to reload flows with")
	}
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	files, err := a.opts.Load()
	if err != nil {
		a.m.reloadOK.Set(0)
		a.log.Error("reloading flows failed; keeping every flow as it was", "err", err)
		return err
	}
	return a.Apply(files)
}

// Apply makes the flows of files the agent's flows, file by file. The flows
// of a valid file replace that file's previous flows: new and changed flows
// are (re)scheduled, removed ones unscheduled and forgotten. An invalid file
// keeps its previous flows running and is reported in the returned error,
// without touching the flows of other files. Flows are compared by content,
// so an unchanged flow keeps its schedule and its run in progress.
func (a *Agent) Apply(files []scenarios.FileResult) error {
	a.mu.Lock()
	defer a.mu.Unlock()

	type wanted struct {
		flow *scenarios.Flow
		file string
	}
	want := map[string]wanted{}
	var errs []error
	for _, fr := range files {
		if fr.Err != nil {
			continue
		}
		for _, f := range fr.Flows {
			want[f.Name] = wanted{f, fr.Path}
		}
	}
	for _, fr := range files {
		if fr.Err == nil {
			continue
		}
		errs = append(errs, fr.Err)
		kept := 0
		for _, name := range a.names() {
			e := a.entries[name]
			if e.file != fr.Path {
				continue
			}
			if _, taken := want[name]; taken {
				// Another file now defines it; that file is valid, so its
				// version wins.
				a.log.Warn("flow moved to another file while its old file is invalid; running the new version", "flow", name, "file", fr.Path)
				continue
			}
			want[name] = wanted{e.flow, e.file}
			kept++
		}
		a.log.Error("invalid flow file; its previous flows keep running", "file", fr.Path, "kept", kept, "err", fr.Err)
	}

	var removed []string
	for _, name := range a.names() {
		if _, ok := want[name]; !ok {
			a.unschedule(a.entries[name])
			delete(a.entries, name)
			removed = append(removed, name)
			a.log.Info("flow removed", "flow", name)
		}
	}
	names := make([]string, 0, len(want))
	for name := range want {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		w := want[name]
		old := a.entries[name]
		if old != nil && sameFlow(old.flow, w.flow) {
			old.file = w.file
			continue
		}
		e, err := a.schedule(w.flow, w.file)
		if err != nil {
			// The loader validated the schedule, so this is a bug; keep
			// what ran before rather than lose the flow.
			errs = append(errs, fmt.Errorf("flow %q: %w", name, err))
			continue
		}
		if old != nil {
			a.unschedule(old)
			a.log.Info("flow changed; rescheduled", "flow", name)
		} else {
			a.log.Info("flow scheduled", "flow", name, "schedule", w.flow.Schedule, "devices", len(w.flow.Devices), "owned", a.opts.Shard.Owns(name))
		}
		a.entries[name] = e
	}

	// The one prune of a load: what the store and the metrics keep of a
	// flow follows the flows now scheduled, and a flow of another shard
	// keeps nothing but its shard skips.
	all := a.flows()
	owned := slices.DeleteFunc(slices.Clone(all), func(f *scenarios.Flow) bool { return !a.opts.Shard.Owns(f.Name) })
	a.store.sync(owned)
	isLogin := func(name string) bool { return a.entries[name].flow.ProvidesSession }
	a.m.flowsChanged(removed, a.opts.Shard.Owns, isLogin, a.names(), a.opts.Fleet != nil)
	a.m.flowsLoaded.Set(float64(len(all)))
	if len(errs) == 0 {
		a.m.reloadOK.Set(1)
	} else {
		a.m.reloadOK.Set(0)
	}
	a.loaded = true
	return errors.Join(errs...)
}

// schedule adds a cron entry for the flow. Called with mu held.
func (a *Agent) schedule(f *scenarios.Flow, file string) (*entry, error) {
	splay := a.opts.Splay
	if splay < 0 {
		splay = 0
	}
	// The loader parsed the schedule; only a flow built in code has none.
	var sched *splayedSchedule
	if f.Cron != nil {
		sched = splaySchedule(f.Cron, f.Name, splay, time.Now())
	} else {
		var err error
		if sched, err = newSplayedSchedule(f.Schedule, f.Name, splay, time.Now()); err != nil {
			return nil, err
		}
	}
	sched.aligned = a.opts.Fleet != nil
	ctx, cancel := context.WithCancel(a.runCtx)
	e := &entry{flow: f, file: file, ctx: ctx, cancel: cancel, sched: sched}
	if f.ProvidesSession {
		e.firstRun = make(chan struct{})
	}
	e.id = a.cron.Schedule(sched, cron.FuncJob(func() { a.tick(e) }))
	return e, nil
}

// unschedule stops the entry's schedule and cancels its runs. Called with mu
// held.
func (a *Agent) unschedule(e *entry) {
	a.cron.Remove(e.id)
	e.cancel()
	e.firstRunOver()
}

// BrowserRestarted counts a Chrome restart; give it to
// browser.Options.OnRestart.
func (a *Agent) BrowserRestarted() { a.m.restarts.Inc() }

// ArtifactError counts an artifact that could not be written; give it to
// runner.Runner.OnArtifactError.
func (a *Agent) ArtifactError() { a.m.artifactErrors.Inc() }

// Results returns the latest result of each flow and device, ordered by
// flow and device.
func (a *Agent) Results() []*result.Result { return a.store.Results() }

// Flows returns the flows the agent has, ordered by name.
func (a *Agent) Flows() []*scenarios.Flow {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.flows()
}

// Loaded reports whether flows have been applied at least once, even if
// none was valid.
func (a *Agent) Loaded() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.loaded
}

func (a *Agent) flows() []*scenarios.Flow {
	names := a.names()
	out := make([]*scenarios.Flow, len(names))
	for i, n := range names {
		out[i] = a.entries[n].flow
	}
	return out
}

func (a *Agent) names() []string {
	names := make([]string, 0, len(a.entries))
	for n := range a.entries {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// sameFlow compares flows by content. Positions are left out: a comment
// added above a flow moves it down the file without changing what it does.
func sameFlow(a, b *scenarios.Flow) bool {
	return reflect.DeepEqual(withoutPositions(a), withoutPositions(b))
}

func withoutPositions(f *scenarios.Flow) scenarios.Flow {
	c := *f
	c.Source = scenarios.Position{}
	c.Steps = slices.Clone(f.Steps)
	for i := range c.Steps {
		c.Steps[i].Source = scenarios.Position{}
	}
	return c
}
