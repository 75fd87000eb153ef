// Package agent is the long-lived part of uxprobe: it schedules every flow on
// every device with cron, runs them through a Runner under a global
// concurrency limit, keeps the latest result of each flow and device, and
// tells a Recorder (the Prometheus exporter) what happened. Flow files can be
// reloaded while it runs; a file that became invalid keeps its previous flows
// running.
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

// Recorder hears what the agent does, for metrics. Its methods are called
// concurrently, and never after the flow they name has been dropped by
// FlowsLoaded, so a removed flow's series cannot come back.
type Recorder interface {
	// Record is given every completed run, whatever its outcome.
	Record(ctx context.Context, r *result.Result) error
	// RunSkipped counts a run that did not happen, for a reason of
	// SkipOverlap or SkipShard.
	RunSkipped(flow, reason string)
	// QueueWaited observes how long a run waited for a browser slot.
	QueueWaited(wait time.Duration)
	// FlowsLoaded is given the complete set of flows after every load; the
	// recorder drops what it keeps of flows and devices not in it.
	FlowsLoaded(flows []*scenarios.Flow)
	// ConfigReloaded says whether the last load read every file.
	ConfigReloaded(ok bool)
}

// The reasons of RunSkipped.
const (
	// SkipOverlap: the flow's previous run was still going.
	SkipOverlap = "overlap"
	// SkipShard: the flow belongs to another agent's shard. It is counted
	// once per schedule tick, so that the counter shows the flow is alive
	// elsewhere at the rate it would run here.
	SkipShard = "shard"
)

// Defaults of Options.
const (
	DefaultSplay           = time.Minute
	DefaultShutdownTimeout = 30 * time.Second
)

// cancelGrace bounds the wait for runs after they were cancelled at
// shutdown; a Runner that ignores its context must not hang the process.
const cancelGrace = 10 * time.Second

// Options configure an Agent.
type Options struct {
	// Runner runs the flows; required.
	Runner Runner
	// Recorder hears results and events; nil records nothing.
	Recorder Recorder
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
	// Logger receives the agent's log; nil discards it.
	Logger *slog.Logger
}

// Agent schedules flows and records their results. Create it with New, give
// it flows with Apply or Reload, and start it with Run.
type Agent struct {
	opts  Options
	log   *slog.Logger
	rec   Recorder
	cron  *cron.Cron
	sem   chan struct{}
	store *store

	// schedCtx ends when shutdown starts: runs still waiting for a slot give
	// up. runCtx ends when the shutdown timeout is spent: runs in progress
	// are cancelled.
	schedCtx    context.Context
	cancelSched context.CancelFunc
	runCtx      context.Context
	cancelRuns  context.CancelFunc

	reloadMu sync.Mutex // one Reload at a time; held while reading files

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
	a := &Agent{
		opts:    opts,
		log:     opts.Logger,
		rec:     opts.Recorder,
		sem:     make(chan struct{}, opts.MaxConcurrency),
		store:   newStore(),
		entries: map[string]*entry{},
		// Schedules are parsed here, not by cron, so the parser option is
		// not needed; cron's own log would only duplicate ours.
		cron: cron.New(cron.WithLogger(cron.DiscardLogger)),
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.rec == nil {
		a.rec = nopRecorder{}
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
	a.mu.Unlock()

	a.cron.Start()
	<-ctx.Done()
	return a.shutdown()
}

func (a *Agent) shutdown() error {
	a.mu.Lock()
	a.stopping = true
	a.mu.Unlock()
	cronDone := a.cron.Stop()
	a.cancelSched()

	done := make(chan struct{})
	go func() {
		a.runs.Wait()
		<-cronDone.Done()
		close(done)
	}()
	timer := time.NewTimer(a.opts.ShutdownTimeout)
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
		a.rec.ConfigReloaded(false)
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

	for _, name := range a.names() {
		if _, ok := want[name]; !ok {
			a.unschedule(a.entries[name])
			delete(a.entries, name)
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

	a.store.retain(a.hasDevice)
	a.rec.FlowsLoaded(a.flows())
	a.rec.ConfigReloaded(len(errs) == 0)
	a.loaded = true
	return errors.Join(errs...)
}

// schedule adds a cron entry for the flow. Called with mu held.
func (a *Agent) schedule(f *scenarios.Flow, file string) (*entry, error) {
	splay := a.opts.Splay
	if splay < 0 {
		splay = 0
	}
	sched, err := newSplayedSchedule(f.Schedule, f.Name, splay, time.Now())
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(a.runCtx)
	e := &entry{flow: f, file: file, ctx: ctx, cancel: cancel}
	e.id = a.cron.Schedule(sched, cron.FuncJob(func() { a.tick(e) }))
	return e, nil
}

// unschedule stops the entry's schedule and cancels its runs. Called with mu
// held.
func (a *Agent) unschedule(e *entry) {
	a.cron.Remove(e.id)
	e.cancel()
}

// tick is one scheduled run of a flow: every device of the flow, at the same
// time as far as the concurrency limit allows.
func (a *Agent) tick(e *entry) {
	name := e.flow.Name
	if !a.opts.Shard.Owns(name) {
		a.skipped(e, SkipShard)
		return
	}
	if !e.running.CompareAndSwap(false, true) {
		a.log.Warn("skipping a run: the previous run of the flow is still going; consider a longer schedule or a shorter timeout", "flow", name)
		a.skipped(e, SkipOverlap)
		return
	}
	defer e.running.Store(false)
	a.mu.Lock()
	if a.stopping || e.ctx.Err() != nil {
		a.mu.Unlock()
		return
	}
	a.runs.Add(1)
	a.mu.Unlock()
	defer a.runs.Done()

	var wg sync.WaitGroup
	for _, d := range e.flow.Devices {
		wg.Go(func() { a.runDevice(e, d) })
	}
	wg.Wait()
}

func (a *Agent) skipped(e *entry, reason string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.entries[e.flow.Name] == e {
		a.rec.RunSkipped(e.flow.Name, reason)
	}
}

// runDevice waits for a browser slot, runs the flow on the device and
// records the result.
func (a *Agent) runDevice(e *entry, d scenarios.Device) {
	queued := time.Now()
	select {
	case a.sem <- struct{}{}:
	case <-a.schedCtx.Done():
		return
	case <-e.ctx.Done():
		return
	}
	if a.schedCtx.Err() != nil || e.ctx.Err() != nil {
		<-a.sem // the agent is stopping or the flow went away meanwhile
		return
	}
	a.rec.QueueWaited(time.Since(queued))
	res := a.call(e, d)
	<-a.sem
	a.record(e, res)
}

// call runs the Runner and makes sure there is a result: a Runner that
// panics or returns nil is our bug, recorded as an error run rather than
// taking the agent down.
func (a *Agent) call(e *entry, d scenarios.Device) (res *result.Result) {
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			a.log.Error("runner panicked", "flow", e.flow.Name, "device", d.Name, "panic", p)
			res = nil
		}
		if res == nil {
			res = &result.Result{
				Flow: e.flow.Name, Device: d.Name, DeviceClass: string(d.Class),
				StartedAt: start.UTC(), DurationSeconds: time.Since(start).Seconds(),
				Steps: []result.Step{}, Pages: []result.Page{}, ConsoleErrors: []string{},
				FailedRequests: []result.FailedRequest{}, Screenshots: []string{},
				Error: &result.Error{Kind: scenarios.KindBrowser, Message: "uxprobe's runner gave no result (a bug of uxprobe)"},
			}
		}
	}()
	return a.opts.Runner.Run(e.ctx, e.flow, d)
}

// record keeps the result if its flow version is still the current one and
// still runs on the device: a replaced or removed flow's late result would
// bring back series that a reload just removed.
func (a *Agent) record(e *entry, res *result.Result) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.entries[e.flow.Name] != e {
		a.log.Debug("dropping the result of a replaced or removed flow", "flow", e.flow.Name, "device", res.Device)
		return
	}
	if _, ok := e.flow.Device(res.Device); !ok {
		return
	}
	a.store.put(res)
	if err := a.rec.Record(context.Background(), res); err != nil {
		a.log.Error("recording a result", "flow", res.Flow, "device", res.Device, "err", err)
	}
	logRun(a.log, res)
}

func logRun(log *slog.Logger, r *result.Result) {
	attrs := []any{"flow", r.Flow, "device", r.Device, "duration", time.Duration(r.DurationSeconds * float64(time.Second)).Round(time.Millisecond)}
	if r.Error != nil {
		attrs = append(attrs, "step", r.Error.Step, "kind", r.Error.Kind, "err", r.Error.Message)
	}
	switch r.Outcome() {
	case result.OutcomeSuccess:
		log.Debug("run succeeded", attrs...)
	case result.OutcomeFailure:
		log.Info("run failed", attrs...)
	default:
		log.Warn("run ended in an error of uxprobe or Chrome", attrs...)
	}
}

// Results returns the latest result of each flow and device, ordered by
// flow and device.
func (a *Agent) Results() []*result.Result { return a.store.results() }

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

func (a *Agent) hasDevice(flow, device string) bool {
	e := a.entries[flow]
	if e == nil {
		return false
	}
	_, ok := e.flow.Device(device)
	return ok
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

type nopRecorder struct{}

func (nopRecorder) Record(context.Context, *result.Result) error { return nil }
func (nopRecorder) RunSkipped(string, string)                    {}
func (nopRecorder) QueueWaited(time.Duration)                    {}
func (nopRecorder) FlowsLoaded([]*scenarios.Flow)                {}
func (nopRecorder) ConfigReloaded(bool)                          {}
