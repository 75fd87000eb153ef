package runner

import (
	"context"
	"time"

	"github.com/uxprobe/uxprobe/agent/browser"
	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// cleanup runs the flow's finally steps after the task, whatever became of
// it, and records them as cleanup steps. They never change the outcome: a
// failed cleanup is recorded on its step (and counted by the exporters), and
// the later cleanup steps still run, since each may undo something else.
//
// They get a bound of their own, the sum of their timeouts, derived from
// the tab and not from the run: a run that timed out or was cancelled still
// deletes what it created.
func (r *Runner) cleanup(tab *browser.Tab, f *scenarios.Flow, d scenarios.Device, pg *tabPage, ev *tracker, dw *dialogWatcher, res *result.Result, failed *scenarios.StepError) {
	if len(f.Finally) == 0 {
		return
	}
	if failed != nil && pageGone(failed.Kind) {
		why := "not run: Chrome broke during the run"
		if failed.Kind == scenarios.KindPageCrash {
			why = "not run: the page crashed"
		}
		for _, st := range f.Finally {
			res.Steps = append(res.Steps, result.Step{Name: st.Name, Action: st.Action.Kind(), Cleanup: true, Error: why})
		}
		return
	}
	var budget time.Duration
	for _, st := range f.Finally {
		budget += st.Timeout
	}
	ctx, cancel := context.WithTimeout(tab.Ctx, budget)
	defer cancel()
	pg.runCtx = ctx
	for _, st := range f.Finally {
		if !st.RunsOn(d) {
			res.Steps = append(res.Steps, result.Step{Name: st.Name, Action: st.Action.Kind(), Success: true, Skipped: true, Cleanup: true})
			continue
		}
		if r.Progress != nil {
			r.Progress(f.Name, d.Name, st.Name)
		}
		ev.setStep(st.Name)
		start := time.Now()
		stepCtx, cancelStep := context.WithTimeout(scenarios.WithMask(ctx, f.Mask), st.Timeout)
		pg.beginStep(st.Timeout)
		mark := ev.navCount()
		err := doStep(stepCtx, cancelStep, f, st, pg, dw)
		if err == nil {
			for _, doc := range ev.since(mark) {
				if msg := documentProblem(doc); msg != "" {
					err = scenarios.Fail(scenarios.KindNavigation, "%s", f.Mask(msg))
				}
			}
		}
		cancelStep()
		sr := result.Step{Name: st.Name, Action: st.Action.Kind(), DurationSeconds: time.Since(start).Seconds(), Success: err == nil, Cleanup: true, Warnings: pg.takeWarnings()}
		if err != nil {
			se := r.classify(context.Background(), ctx, tab, ev, describeStep(st), err)
			sr.Error = f.Mask(se.Message)
			r.logger().Warn("cleanup step failed", "flow", f.Name, "device", d.Name, "step", st.Name, "kind", se.Kind, "err", sr.Error)
		}
		res.Steps = append(res.Steps, sr)
	}
}
