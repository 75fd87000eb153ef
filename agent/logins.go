package agent

import (
	"context"
	"time"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// LoginRunner is a Runner that also runs login flows (provides_session)
// of its own accord, when a flow that uses the session finds none, an old
// one or a dropped one: agent/sessions.Runner. The agent keeps the rule
// "one login per device per period of the login flow, and every login is
// a run of the login flow" with it:
//
//   - a login it runs on demand is recorded as a run of the login flow
//     (history, latest results, metrics, exporters), through the function
//     given to RecordLogins;
//   - a login flow's scheduled run goes through RunLogin, which skips it
//     (uxprobe_runs_skipped_total{reason="session_fresh"}) when a login on
//     demand refreshed the device's session since the run fell due;
//   - at start, and whenever a login flow is (re)scheduled, the flows that
//     use its session wait for its first scheduled run, so that they start
//     with the session it saves rather than each log in before it.
//
// The agent finds it through wrappers with an Unwrap() Runner method.
type LoginRunner interface {
	Runner
	// RecordLogins sets the function that records a run of a login flow
	// the runner started on demand. The agent sets it in Run, before any
	// run starts.
	RecordLogins(record func(*result.Result))
	// RunLogin is Run for a run of login flow f that its schedule made due
	// at due. It returns nil, having run nothing, when the flow's session
	// on the device was saved at or after due: a login on demand, already
	// recorded, did this run's work.
	RunLogin(ctx context.Context, f *scenarios.Flow, d scenarios.Device, due time.Time) *result.Result
}

// loginRunner finds the LoginRunner in r or the Runners it wraps.
func loginRunner(r Runner) LoginRunner {
	for range 10 { // a wrapper of itself must not loop for ever
		if lr, ok := r.(LoginRunner); ok {
			return lr
		}
		u, ok := r.(interface{ Unwrap() Runner })
		if !ok {
			return nil
		}
		if r = u.Unwrap(); r == nil {
			return nil
		}
	}
	return nil
}

// recordLogin records a login flow's run that the runner started on
// demand as a run of that flow, when this agent runs the flow on that
// device; otherwise (another shard's flow, a device the login flow does
// not list) it is only logged.
func (a *Agent) recordLogin(res *result.Result) {
	a.mu.Lock()
	e := a.entries[res.Flow]
	mine := e != nil && a.opts.Shard.Owns(res.Flow)
	a.mu.Unlock()
	if !mine {
		a.log.Debug("a login on demand of a flow this agent does not schedule; not recorded", "flow", res.Flow, "device", res.Device, "success", res.Success)
		return
	}
	res.Location, res.Agent = a.opts.Location, a.opts.Name
	if len(a.history) > 0 && res.ID == "" {
		res.ID = result.NewID(res.StartedAt)
	}
	a.record(e, res)
}

// awaitLogin holds a run of a flow that uses a session until the first
// scheduled run of the login flow's current version is over. It reports
// false when the flow or the agent stopped meanwhile.
func (a *Agent) awaitLogin(e *entry) bool {
	prov := e.flow.SessionProvider()
	if prov == nil {
		return true
	}
	a.mu.Lock()
	pe := a.entries[prov.Name]
	a.mu.Unlock()
	if pe == nil || pe.firstRun == nil {
		return true
	}
	select {
	case <-pe.firstRun:
		return true
	case <-e.ctx.Done():
	case <-a.schedCtx.Done():
	}
	return false
}

// firstRunOver opens the wait of awaitLogin: the login flow's first
// scheduled run is over (or will never come).
func (e *entry) firstRunOver() {
	if e.firstRun != nil {
		e.firstRunOnce.Do(func() { close(e.firstRun) })
	}
}
