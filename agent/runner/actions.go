package runner

import (
	"context"
	"time"

	"github.com/uxprobe/uxprobe/agent/runner/bridge"
)

// condClickable is actionable and standing still: the condition of the
// actions that aim at a point (click, hover). Typing and choosing go to the
// element wherever it is, so they wait for actionable only, and do not pay
// the two frames of the stability check.
const condClickable = bridge.CondClickable

// maxStillWait bounds how long a screenshot waits for the page's
// animations to end.
const maxStillWait = 2 * time.Second

// waitStill waits, within the step's time, until no finite CSS animation or
// transition runs: what a screenshot shows is then a state the page stays
// in. A page that never stands still is pictured all the same.
func (p *tabPage) waitStill(ctx context.Context) {
	wait := min(remaining(ctx)/2, maxStillWait)
	if wait <= 0 {
		return
	}
	_ = p.call(ctx, string(bridge.Quiet(wait)), nil)
}
