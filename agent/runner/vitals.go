package runner

import (
	"context"
	"time"

	"github.com/uxprobe/uxprobe/agent/runner/bridge"
	"github.com/uxprobe/uxprobe/agent/runner/pagelog"
)

// reportBinding is the function vitals.js calls with each change of a
// document's vitals (Runtime.addBinding).
const reportBinding = bridge.ReportBinding

// DefaultVitalsSettle bounds the final read of a page's vitals when neither
// the runner nor the flow says otherwise.
const DefaultVitalsSettle = 3 * time.Second

// inputMark is where a step's input starts in its document's list of
// inputs, and stepMark ties a result step to it.
type (
	inputMark = pagelog.InputMark
	stepMark  = pagelog.StepMark
)

// settleBound is how long the final read of a page may wait for the page
// to settle: the flow's vitals_settle, else the runner's, else the default.
func (r *Runner) settleBound(flowSettle *time.Duration) time.Duration {
	switch {
	case flowSettle != nil:
		return *flowSettle
	case r.VitalsSettle < 0:
		return 0
	case r.VitalsSettle > 0:
		return r.VitalsSettle
	}
	return DefaultVitalsSettle
}

// finalRead waits, at most bound, until the current document has nothing
// more to report, and records whether it settled. The vitals themselves
// arrive through the binding as they change, so a read that times out
// behind the page's long tasks loses nothing the page had reported; it
// only leaves the page marked as not final.
func (r *Runner) finalRead(ctx context.Context, pg *tabPage, ev *tracker, bound time.Duration) {
	loader := ev.committed()
	if loader == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, bound+2*time.Second)
	defer cancel()
	var out struct {
		Settled bool `json:"settled"`
	}
	err := pg.call(ctx, string(bridge.Settle(bound)), &out)
	ev.setUnsettled(loader, err != nil || !out.Settled)
}
