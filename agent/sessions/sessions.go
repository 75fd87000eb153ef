// Package sessions keeps the saved sessions of login flows and starts the
// flows that use one with it. A flow with provides_session keeps its
// browser context's cookies and local storage after each successful run,
// per device; a flow with `session: <login flow>` starts with them on the
// same device. When there is none, or it is older than the flow's
// session_max_age, or the flow fails on the login flow's first URL (the
// site dropped the session), the login flow runs first, once for every
// flow waiting for it on that device, and the flow is tried again once.
//
// In the agent (agent.LoginRunner), a login run on demand is recorded as
// a run of the login flow, and the login flow's next scheduled run skips
// when the session was saved since it fell due: with the agent's ordering
// (a login flow's first run before the first runs of the flows that use
// its session), N flows sharing one session cause one login per device
// and period of the login flow, each a recorded run of it.
//
// The sessions live in this process's memory only: never in a result, the
// history, a log or an artifact. Each agent of a fleet has its own.
package sessions

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/agent/runner"
	"github.com/uxprobe/uxprobe/scenarios"
)

// Next runs a flow with a starting state: *runner.Runner.
type Next interface {
	RunWith(ctx context.Context, f *scenarios.Flow, d scenarios.Device, opts runner.RunOptions) *result.Result
}

// Runner runs flows through Next with their sessions. It implements the
// agent's Runner and is safe for concurrent use.
type Runner struct {
	next Next
	// now is the clock of the sessions' ages; tests set it.
	now func() time.Time

	mu    sync.Mutex
	saved map[key]saved
	// record, if set (RecordLogins), records a login run on demand as a
	// run of the login flow.
	record func(*result.Result)
	// logins makes the flows that wait for one login flow on one device
	// share its run.
	logins singleflight.Group
}

type key struct{ flow, device string }

type saved struct {
	state *runner.State
	at    time.Time
}

// New returns a Runner with no sessions.
func New(next Next) *Runner {
	return &Runner{next: next, now: time.Now, saved: map[key]saved{}}
}

// RecordLogins makes every login the Runner runs on demand (for a flow
// waiting for its session) reach record as a run of the login flow, with
// its own result; the agent calls it before any run (agent.LoginRunner).
func (r *Runner) RecordLogins(record func(*result.Result)) {
	r.mu.Lock()
	r.record = record
	r.mu.Unlock()
}

func (r *Runner) recorder() func(*result.Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.record
}

// Run runs the flow on the device. A login flow's successful run keeps its
// session; a flow with a session starts with it, and gets the result's
// session field.
func (r *Runner) Run(ctx context.Context, f *scenarios.Flow, d scenarios.Device) *result.Result {
	if f.ProvidesSession && f.SessionProvider() == nil {
		return r.runLogin(ctx, f, d, time.Time{})
	}
	return r.run(ctx, f, d)
}

// RunLogin is Run for a scheduled run of login flow f that fell due at
// due: it returns nil, running nothing, when the flow's session on the
// device was saved at or after due, by a login on demand that was
// recorded as this flow's run (agent.LoginRunner).
func (r *Runner) RunLogin(ctx context.Context, f *scenarios.Flow, d scenarios.Device, due time.Time) *result.Result {
	if !f.ProvidesSession || f.SessionProvider() != nil {
		return r.Run(ctx, f, d)
	}
	return r.runLogin(ctx, f, d, due)
}

// runLogin is a login flow's own run. One that waiting flows started
// already is this run too, rather than a second login at the same time,
// unless it was recorded as a run of its own: then a scheduled run (due
// set) is done, and any other (RunNow, whose ids were promised) runs.
func (r *Runner) runLogin(ctx context.Context, f *scenarios.Flow, d scenarios.Device, due time.Time) *result.Result {
	fresh := func() (saved, bool) {
		sv, ok := r.get(f, d)
		return sv, !due.IsZero() && ok && !sv.at.Before(due)
	}
	ran := false
	v, _, _ := r.logins.Do(loginKey(f, d), func() (any, error) {
		ran = true
		if sv, ok := fresh(); ok {
			return outcome{sv: sv}, nil // no run: flows waiting meanwhile take this session
		}
		start := r.now()
		return r.outcomeOf(f, d, r.runAndKeep(ctx, f, d, nil), start), nil
	})
	o := v.(outcome)
	switch {
	case ran:
		return o.res // nil: fresh
	case o.res != nil && !o.recorded:
		return o.res
	}
	if _, ok := fresh(); ok {
		return nil
	}
	return r.runAndKeep(ctx, f, d, nil)
}

// run is Run without sharing a login flow's run: login calls it from
// within the shared run.
func (r *Runner) run(ctx context.Context, f *scenarios.Flow, d scenarios.Device) *result.Result {
	prov := f.SessionProvider()
	if prov == nil {
		return r.runAndKeep(ctx, f, d, nil)
	}
	start := r.now()
	sv, ok := r.get(prov, d)
	refreshed := false
	if !ok || start.Sub(sv.at) > f.SessionMaxAge {
		var failed *result.Result
		if sv, failed = r.login(ctx, prov, d, sv.at); failed != nil {
			return loginFailed(f, d, prov, start, failed)
		}
		refreshed = true
	}
	attemptStart := r.now()
	res := r.runAndKeep(ctx, f, d, sv.state)
	if !res.Success && ctx.Err() == nil && endedAtLogin(res, prov) {
		// The site sent the user to log in: the session it had is gone
		// (logged out elsewhere, expired early). One login, one retry.
		nsv, failed := r.login(ctx, prov, d, sv.at)
		if failed != nil {
			return loginFailed(f, d, prov, start, failed)
		}
		sv, refreshed = nsv, true
		attemptStart = r.now()
		first := res.Attempts
		res = r.runAndKeep(ctx, f, d, sv.state)
		res.Attempts += first
	}
	res.Session = &result.Session{Flow: prov.Name, AgeSeconds: seconds(attemptStart.Sub(sv.at)), Refreshed: refreshed}
	return res
}

// runAndKeep runs the flow with the state, and keeps a login flow's
// session when the run succeeds.
func (r *Runner) runAndKeep(ctx context.Context, f *scenarios.Flow, d scenarios.Device, st *runner.State) *result.Result {
	opts := runner.RunOptions{State: st}
	if f.ProvidesSession {
		opts.Export = func(st *runner.State) {
			r.mu.Lock()
			r.saved[key{f.Name, d.Name}] = saved{state: st, at: r.now()}
			r.mu.Unlock()
		}
	}
	return r.next.RunWith(ctx, f, d, opts)
}

func (r *Runner) get(prov *scenarios.Flow, d scenarios.Device) (saved, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sv, ok := r.saved[key{prov.Name, d.Name}]
	return sv, ok
}

// login runs the login flow on the device for a flow whose session is
// missing, too old or dropped: the one it saw was saved at seen (zero for
// none). The flows that wait at the same time share one run, and one
// that arrives after a newer session was kept takes that one. It returns
// the new session, or the login flow's failed result.
//
// With RecordLogins, the run is recorded as a run of the login flow, after
// the waiting flows have their session, unless ctx ended (the waiting
// flow was cancelled, and its login with it).
func (r *Runner) login(ctx context.Context, prov *scenarios.Flow, d scenarios.Device, seen time.Time) (saved, *result.Result) {
	ran := false
	record := r.recorder()
	v, _, _ := r.logins.Do(loginKey(prov, d), func() (any, error) {
		ran = true
		if sv, ok := r.get(prov, d); ok && sv.at.After(seen) {
			return outcome{sv: sv}, nil
		}
		start := r.now()
		res := r.run(ctx, prov, d) // the login flow's own session first, if it names one
		o := r.outcomeOf(prov, d, res, start)
		o.recorded = record != nil && ctx.Err() == nil
		return o, nil
	})
	o := v.(outcome)
	if ran && o.recorded {
		record(o.res)
	}
	return o.sv, o.failed
}

// outcomeOf is the outcome of res, a run of login flow f that started at
// start: the session it saved, or its failure (also when it succeeded but
// saved no session: the flows waiting for it cannot start logged in).
func (r *Runner) outcomeOf(f *scenarios.Flow, d scenarios.Device, res *result.Result, start time.Time) outcome {
	o := outcome{res: res}
	if !res.Success {
		o.failed = res
		return o
	}
	sv, ok := r.get(f, d)
	if !ok || sv.at.Before(start) {
		failed := *res
		failed.Success = false
		failed.Error = &result.Error{Kind: scenarios.KindBrowser, Message: "the login flow succeeded but its session could not be read from the browser"}
		o.failed = &failed
		return o
	}
	o.sv = sv
	return o
}

// outcome is what a shared login gives: the new session, or the login
// flow's failed result; and the login flow's result when it ran, which
// is also the result of a run of the login flow that shared it, unless
// it was recorded as a run of its own.
type outcome struct {
	sv       saved
	failed   *result.Result
	res      *result.Result
	recorded bool
}

func loginKey(prov *scenarios.Flow, d scenarios.Device) string { return prov.Name + "\x00" + d.Name }

// endedAtLogin reports whether the failed run's page was the login
// flow's first URL: where a site sends a user whose session it dropped.
func endedAtLogin(res *result.Result, prov *scenarios.Flow) bool {
	login := prov.LoginURL()
	for i := len(res.Pages) - 1; i >= 0; i-- {
		if p := res.Pages[i]; p.Tab == 0 {
			return scenarios.SamePage(p.URL, login)
		}
	}
	return false
}

// loginFailed is the result of a flow that could not start because its
// login flow failed: the failure is the login flow's, said so.
func loginFailed(f *scenarios.Flow, d scenarios.Device, prov *scenarios.Flow, start time.Time, login *result.Result) *result.Result {
	res := result.New(f.Name, d, start)
	kind, msg := scenarios.KindBrowser, "it gave no reason"
	if login.Error != nil {
		kind, msg = login.Error.Kind, login.Error.Message
		if login.Error.Step != "" {
			msg = "step " + login.Error.Step + ": " + msg
		}
	}
	res.Attempts = 1
	res.Error = &result.Error{Kind: kind, Message: fmt.Sprintf("the login flow %q failed on %s, so the flow could not start logged in: %s", prov.Name, d.Name, msg)}
	res.SetupSeconds = seconds(time.Since(start))
	res.Session = &result.Session{Flow: prov.Name, Refreshed: true}
	res.RoundTimes()
	return res
}

func seconds(d time.Duration) float64 {
	return math.Round(max(d, 0).Seconds()*1000) / 1000
}
