package runner

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// maxDialogs bounds the dialogs a result keeps: a page that alerts in a loop
// must not grow it without end.
const maxDialogs = 20

// dialogAnswerTimeout bounds the answer to one dialog.
const dialogAnswerTimeout = 5 * time.Second

// dialogWatcher answers every JavaScript dialog of a tab by the flow's
// policy, at once: an open dialog blocks the page's script and every input,
// and a step would otherwise hang until its timeout without a word about
// why.
type dialogWatcher struct {
	ctx    context.Context // the tab's, to answer in
	t      *chromedp.Target
	policy scenarios.DialogPolicy
	mask   func(string) string
	ev     *tracker // for the name of the running step

	wg sync.WaitGroup // answers in flight

	mu         sync.Mutex
	dialogs    []result.Dialog
	open       *result.Dialog     // opened and not closed yet
	failed     *result.Dialog     // under the fail policy, the first of the step
	cancelStep context.CancelFunc // ends the running step at a fail-policy dialog
}

func newDialogWatcher(ctx context.Context, t *chromedp.Target, f *scenarios.Flow, ev *tracker) *dialogWatcher {
	return &dialogWatcher{ctx: ctx, t: t, policy: f.Dialogs, mask: f.Mask, ev: ev}
}

// listen hears the run's first tab.
func (w *dialogWatcher) listen(ev any) { w.handle(w.t, ev) }

// on returns a listener for another tab of the run, answering there.
func (w *dialogWatcher) on(t *chromedp.Target) func(any) {
	return func(ev any) { w.handle(t, ev) }
}

// handle runs in a tab's read loop, so the answer goes from a goroutine.
func (w *dialogWatcher) handle(t *chromedp.Target, ev any) {
	switch ev := ev.(type) {
	case *page.EventJavascriptDialogOpening:
		step := w.ev.currentStep()
		d := result.Dialog{Step: step, Type: string(ev.Type), Message: ev.Message} // whole: the result's boundary masks, then clips
		accept := w.policy == scenarios.DialogAccept || w.policy == ""
		w.mu.Lock()
		if len(w.dialogs) < maxDialogs {
			w.dialogs = append(w.dialogs, d)
		}
		w.open = &d
		if w.policy == scenarios.DialogFail && w.failed == nil {
			w.failed = &d
			if w.cancelStep != nil {
				w.cancelStep()
			}
		}
		w.mu.Unlock()
		prompt := ev.DefaultPrompt
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			ctx, cancel := context.WithTimeout(w.ctx, dialogAnswerTimeout)
			defer cancel()
			// An error means the dialog is gone already (the page
			// navigated or closed): nothing is left to answer.
			_, _ = cdp.Call(ctx, t, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: accept, PromptText: prompt})
		}()
	case *page.EventJavascriptDialogClosed:
		w.mu.Lock()
		w.open = nil
		w.mu.Unlock()
	}
}

// begin starts watching a step; cancel ends it early.
func (w *dialogWatcher) begin(cancel context.CancelFunc) {
	w.mu.Lock()
	w.failed, w.cancelStep = nil, cancel
	w.mu.Unlock()
}

// end returns the step's error as the dialogs make it: a dialog under the
// fail policy is the step's failure, and a timeout with a dialog still open
// says so.
func (w *dialogWatcher) end(err error) error {
	w.mu.Lock()
	failed, open := w.failed, w.open
	w.failed, w.cancelStep = nil, nil
	w.mu.Unlock()
	if failed != nil {
		return scenarios.Fail(scenarios.KindDialog, "the page opened a %s dialog: %q (the flow has dialogs: fail)", failed.Type, failed.Message)
	}
	if err == nil || open == nil {
		return err
	}
	se := scenarios.AsStepError(err)
	if errors.Is(err, context.DeadlineExceeded) || (se != nil && se.Kind == scenarios.KindTimeout) {
		msg := "the step timed out"
		if se != nil {
			msg = se.Message
		}
		return scenarios.Fail(scenarios.KindTimeout, "%s while a %s dialog %q was open", msg, open.Type, open.Message)
	}
	return err
}

// result returns the dialogs seen, after waiting for the answers in flight:
// no goroutine of a run outlives it.
func (w *dialogWatcher) result() []result.Dialog {
	w.wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]result.Dialog{}, w.dialogs...)
}
