package runner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"

	"github.com/uxprobe/uxprobe/agent/runner/bridge"
	"github.com/uxprobe/uxprobe/scenarios"
)

var _ scenarios.Variables = (*tabPage)(nil)

// runVars starts a run's variables with the built-ins: ${run_id} is unique
// per run (attempt), so that data a run creates never collides with another
// run's, on another device or in another replica.
func runVars(f *scenarios.Flow, d scenarios.Device, start time.Time) *scenarios.RunVars {
	var id [8]byte
	_, _ = rand.Read(id[:]) // crypto/rand.Read never fails on Linux
	return scenarios.NewRunVars(map[string]string{
		scenarios.VarFlow:      f.Name,
		scenarios.VarDevice:    d.Name,
		scenarios.VarRunID:     hex.EncodeToString(id[:]),
		scenarios.VarTimestamp: strconv.FormatInt(start.Unix(), 10),
	})
}

// SetVar implements scenarios.Variables. A value of a var named in secrets
// is masked from here on in everything the run reports.
func (p *tabPage) SetVar(name, value string) {
	if p.flow.IsSecretVar(name) {
		p.flow.AddSecretValue(value)
	}
	p.vars.Set(name, value)
}

// EvalString implements scenarios.Variables.
func (p *tabPage) EvalString(ctx context.Context, expr string) (string, error) {
	res, err := p.evaluate(ctx, bridge.ByValue(bridge.Expr(expr))) // crash-aware: a dead renderer never answers
	if err != nil {
		return "", p.wrap(ctx, err)
	}
	if res.ExceptionDetails != nil {
		return "", scenarios.Fail(scenarios.KindScript, "expression %q threw: %s", expr, bridge.ExceptionText(res.ExceptionDetails))
	}
	if res.Result == nil || len(res.Result.Value) == 0 || string(res.Result.Value) == "null" {
		return "", nil
	}
	var s string
	if json.Unmarshal(res.Result.Value, &s) == nil {
		return s, nil
	}
	return string(res.Result.Value), nil // a number, boolean or object as JSON
}

// takeWarnings returns the current step's warnings and starts afresh.
func (p *tabPage) takeWarnings() []string {
	w := p.warnings
	p.warnings = nil
	return w
}

// doStep runs one step's action with the run's variables bound and its
// dialogs watched, in the tab the flow is in: a tab the page closed is left
// before the step, and a tab the step opened is followed after it.
func doStep(ctx context.Context, cancel context.CancelFunc, f *scenarios.Flow, st scenarios.Step, pg *tabPage, dw *dialogWatcher) error {
	if pg.tabs != nil {
		pg.tabs.returnIfClosed(pg)
	}
	action, err := f.BindContext(ctx, st, pg.vars)
	if err != nil {
		return err
	}
	run := func(ctx context.Context) error {
		dw.begin(cancel)
		return dw.end(action.Do(ctx, pg))
	}
	if pg.tabs == nil {
		return run(ctx)
	}
	err = pg.tabs.runInTab(ctx, pg, st, run) // tabs.go
	if err != nil && pg.tabs.closedUnder(err) {
		// The step closed its own tab (a button that calls window.close):
		// what the step waited for went with it, and the user is back in
		// the tab before.
		err = nil
	}
	pg.tabs.returnIfClosed(pg)
	if err == nil {
		err = pg.tabs.follow(ctx, pg)
	}
	return err
}
