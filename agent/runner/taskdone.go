package runner

import "context"

// A run's task is over before the run is: after the last step of a run
// that went through, what is left is mostly a wait on its page, the final
// read of its vitals (a few frames until the browser has reported the last
// paint), and the building of the result. A caller that bounds how many
// runs go at once (the agent's --parallel, check's) hears of that moment
// and starts its next run meanwhile, on a tab of its own: the wait costs
// the next run nothing, and the read's values are the page's own times,
// which a busier machine does not change (the read waits longer for them).

type taskDoneKey struct{}

// WithTaskDone returns a context for a run that calls done, once, when its
// task is over and only the final read of its last page and its result
// are left. It is not called for a run whose task failed, for an attempt
// that a retry may follow, nor for a run that works after its final read:
// one with a flow-level audit, finally steps or a session to export.
func WithTaskDone(ctx context.Context, done func()) context.Context {
	return context.WithValue(ctx, taskDoneKey{}, done)
}

// taskDoneOf is the done func of WithTaskDone, nil if none.
func taskDoneOf(ctx context.Context) func() {
	done, _ := ctx.Value(taskDoneKey{}).(func())
	return done
}

// taskDone tells the caller that the task is over, when nothing but the
// final read and the result are left (WithTaskDone).
func (s *session) taskDone() {
	done := taskDoneOf(s.parent)
	if done == nil || s.auditFor != "" || len(s.f.Finally) > 0 || s.opts.Export != nil {
		return
	}
	done()
}
