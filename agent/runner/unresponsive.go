package runner

import (
	"context"
	"errors"
	"time"

	"github.com/chromedp/cdproto/runtime"

	"github.com/uxprobe/uxprobe/agent/runner/bridge"
	"github.com/uxprobe/uxprobe/scenarios"
)

// unresponsiveAfter is how long a call the step's deadline cut off must
// have waited to count as the page not answering even though it answered
// earlier in the step. Reads of a working page take milliseconds, so a
// second of silence is a main thread busy with something else, while the
// last poll of a healthy page that the deadline happens to catch in flight
// is not.
const unresponsiveAfter = time.Second

// beginStep resets what the page knows of the current step.
func (p *tabPage) beginStep(timeout time.Duration) {
	p.timeout = timeout
	p.answered.Store(false)
	p.dlMark = p.events.downloadCount()
}

// unanswered turns the error of a call sent at sent into a timeout that
// says the page did not answer, when the deadline cut off a wait for the
// page's own thread: an assertion must then not report the empty text,
// title or visibility it never read. Other errors go through wrap.
func (p *tabPage) unanswered(ctx context.Context, sent time.Time, err error) error {
	if err == nil {
		return nil
	}
	if p.events.isCrashed() {
		return scenarios.Fail(scenarios.KindPageCrash, "the page crashed")
	}
	waited := time.Since(sent)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) && (waited >= unresponsiveAfter || !p.answered.Load()) {
		p.unresponsive.Store(true)
		return scenarios.Fail(scenarios.KindTimeout, "the page's main thread did not respond for %s", roundWait(waited))
	}
	return p.wrap(ctx, err)
}

// roundWait keeps a waited time readable in a message: "10s", "1.5s", "300ms".
func roundWait(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(10 * time.Millisecond)
}

// evaluate runs Runtime.evaluate until the answer, ctx's end or the
// renderer's crash, whichever comes first: Chrome never answers a call to
// a renderer that died, and the step must not wait out its timeout for it.
func (p *tabPage) evaluate(ctx context.Context, params runtime.EvaluateParams) (runtime.EvaluateResult, error) {
	return bridge.Evaluate(ctx, p.t, params, p.events.crash)
}
