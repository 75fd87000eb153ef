package runner

import (
	"context"
	"time"

	"github.com/uxprobe/uxprobe/agent/redact"
	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// The step loop: one for the flow's steps and its finally steps, so that
// every bound holds in both (the redirect-loop cap, the final read of a
// page's vitals before a goto leaves it, the audit step's own name, the
// dialogs, the tabs and the downloads a step opens). A stepPolicy says what
// differs.

// stepPolicy says how a list of steps runs.
type stepPolicy struct {
	// ctx bounds the whole list: the run's timeout for the steps, a
	// bound of their own for the finally steps.
	ctx context.Context
	// cleanup marks the finally steps: they are recorded as cleanup
	// steps, never change the run's outcome, and a failed one does not
	// stop the others, since each may undo something else.
	cleanup bool
	// flowAudit runs the flow-level audit on each page a step opens,
	// when the page is final (audit.go): the pages of the user's task,
	// not those of the clean-up.
	flowAudit bool
}

// stepFailure is the failure that ended a list of steps, with its step.
type stepFailure struct {
	*scenarios.StepError
	step string
}

// runSteps runs steps in order under the policy. It returns the failure
// that ended the list, if one did.
func (s *session) runSteps(steps []scenarios.Step, pol stepPolicy) *stepFailure {
	s.pg.runCtx = pol.ctx
	for i, st := range steps {
		if !st.RunsOn(s.d) {
			s.res.Steps = append(s.res.Steps, result.Step{Name: st.Name, Action: st.Action.Kind(), Success: true, Skipped: true, Cleanup: pol.cleanup})
			continue
		}
		if pol.cleanup && s.parent.Err() != nil {
			// The agent is stopping: its shutdown bound holds for the
			// clean-up too.
			s.notRun(steps[i:], "not run: the run was cancelled")
			return &stepFailure{scenarios.Fail(scenarios.KindCancelled, "the run was cancelled before step %s", st.Name), st.Name}
		}
		if s.r.Progress != nil {
			s.r.Progress(s.f.Name, s.d.Name, st.Name)
		}
		if _, isGoto := st.Action.(scenarios.Goto); isGoto {
			// The page about to be left gets its final read first, and
			// then its flow-level audit (audit.go). Both are ours, not
			// the user's wait, and outside the step's time.
			s.r.finalRead(pol.ctx, s.pg, s.ev, s.settle)
			s.auditNow(pol.ctx)
		} else if s.auditFor != "" && !staysOnPage(st.Action) {
			s.auditNow(pol.ctx)
		}
		se, navigated := s.runStep(st, pol)
		if se == nil {
			s.auditLater(st.Name, navigated, pol)
		} else {
			s.auditLater("", navigated, pol)
		}
		if se == nil {
			continue
		}
		if pol.cleanup {
			s.r.logger().Warn("cleanup step failed", "flow", s.f.Name, "device", s.d.Name, "step", st.Name, "kind", se.Kind, "err", redact.String(se.Message, s.f, 0))
			if se.Kind == scenarios.KindCancelled || se.Kind == scenarios.KindBrowser {
				why := "not run: the run was cancelled"
				if se.Kind == scenarios.KindBrowser {
					why = "not run: Chrome broke during the finally steps"
				}
				s.notRun(steps[i+1:], why)
				return &stepFailure{se, st.Name}
			}
			continue
		}
		if !st.Optional || pageGone(se.Kind) || se.Kind == scenarios.KindCancelled {
			return &stepFailure{se, st.Name}
		}
	}
	return nil
}

// runStep runs one step and records it. It returns the step's failure, if
// any, and whether the step loaded a document.
func (s *session) runStep(st scenarios.Step, pol stepPolicy) (*scenarios.StepError, bool) {
	f, pg, ev := s.f, s.pg, s.ev
	ev.setStep(st.Name)
	pg.input, pg.aim = nil, nil
	stepStart := time.Now()
	stepCtx, cancelStep := context.WithTimeout(scenarios.WithMask(pol.ctx, f.Mask), st.Timeout)
	pg.beginStep(st.Timeout)
	pg.audit.step = st.Name
	mark := ev.navCount()
	if !pol.cleanup {
		s.last = lastStep{name: st.Name, index: len(s.res.Steps), navMark: mark}
	}
	navBound := ev.boundNavigations(mark, cancelStep)
	// A renderer that died answers nothing again, and the polls of an
	// assertion or extract would go on failing until the step's timeout:
	// the step ends at once, as a page crash (classify).
	crashWatch := make(chan struct{})
	go func() {
		select {
		case <-ev.crash:
			cancelStep()
		case <-crashWatch:
		}
	}()
	err := doStep(stepCtx, cancelStep, f, st, pg, s.dw)
	close(crashWatch)
	if n := navBound(); n > 0 {
		err = scenarios.Fail(scenarios.KindNavigation, "redirect loop: %d navigations in step %s", n, st.Name)
	} else if err == nil {
		// A navigation the step caused may have failed even though the
		// action itself went through (a form POST answered with 500).
		for _, doc := range ev.since(mark) {
			if msg := documentProblem(doc); msg != "" {
				err = scenarios.Fail(scenarios.KindNavigation, "%s", msg)
			}
		}
	}
	cancelStep()
	sr := result.Step{Name: st.Name, Action: st.Action.Kind(), DurationSeconds: time.Since(stepStart).Seconds(), Success: err == nil,
		Cleanup: pol.cleanup, Warnings: pg.takeWarnings(), Value: pg.takeValue(),
		Visual: pg.takeVisual()}
	var se *scenarios.StepError
	if err != nil {
		se = s.r.classify(s.parent, pol.ctx, s.tab, ev, describeStep(st), err)
		sr.Error = se.Message
	}
	if pg.input != nil {
		s.marks = append(s.marks, stepMark{Step: len(s.res.Steps), InputMark: *pg.input})
	}
	s.res.Steps = append(s.res.Steps, sr)
	return se, len(ev.since(mark)) > 0
}

// notRun records cleanup steps that were not run, and why.
func (s *session) notRun(steps []scenarios.Step, why string) {
	for _, st := range steps {
		s.res.Steps = append(s.res.Steps, result.Step{Name: st.Name, Action: st.Action.Kind(), Cleanup: true, Error: why})
	}
}

// runFinally runs the flow's finally steps after the task, whatever became
// of it. They get a bound of their own, the sum of their timeouts, derived
// from the tab and not from the run: a run that timed out still deletes
// what it created. The caller's context still ends them: an agent that is
// stopping must stop within its shutdown bound, and the run is then
// recorded as cancelled (the returned failure).
func (s *session) runFinally(failed *stepFailure) *stepFailure {
	if len(s.f.Finally) == 0 {
		return nil
	}
	if failed != nil && pageGone(failed.Kind) {
		why := "not run: Chrome broke during the run"
		if failed.Kind == scenarios.KindPageCrash {
			why = "not run: the page crashed"
		}
		s.notRun(s.f.Finally, why)
		return nil
	}
	var budget time.Duration
	for _, st := range s.f.Finally {
		budget += st.Timeout
	}
	ctx, cancel := context.WithTimeout(s.tab.Ctx, budget)
	defer cancel()
	stop := context.AfterFunc(s.parent, cancel)
	defer stop()
	cf := s.runSteps(s.f.Finally, stepPolicy{ctx: ctx, cleanup: true})
	if cf != nil && cf.Kind == scenarios.KindCancelled {
		return cf
	}
	return nil
}
