// Package bridge is everything the runner puts in a page and how it talks
// to it: the scripts every document gets (their bundle in an explicit
// order), one typed Go function per call of those scripts, with its
// arguments encoded as JSON rather than pasted into an expression, and the
// one crash-aware way to evaluate, the same for a page, a frame of the
// page's process and a frame in a process of its own.
package bridge

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/runtime"

	"github.com/uxprobe/uxprobe/scenarios"
)

//go:embed selectors.js actions.js vitals.js helper.js
var scripts embed.FS

// bundleOrder is the order of the scripts in a document: each uses only
// those before it (helper.js takes actions.js's aim and selectors.js's
// engine; selectors.js reaches actions.js's frame offsets only when
// called). vitals.js reports through the binding and needs none of them.
var bundleOrder = []string{"selectors.js", "actions.js", "vitals.js", "helper.js"}

// Bundle is the script every document of a run gets, before its own
// scripts run: the scripts in bundleOrder.
var Bundle = sync.OnceValue(func() string {
	parts := make([]string, 0, len(bundleOrder))
	for _, name := range bundleOrder {
		b, err := scripts.ReadFile(name)
		if err != nil {
			panic("bridge: " + name + " is not embedded") // a build mistake, not user input
		}
		parts = append(parts, string(b))
	}
	return strings.Join(parts, "\n")
})

// ReportBinding is the function vitals.js calls with each change of a
// document's vitals (Runtime.addBinding); it must exist before the bundle
// runs.
const ReportBinding = "__uxprobeReport"

// Expr is an expression of the bridge's scripts, ready to evaluate.
type Expr string

// call renders fn(args...) with each argument as JSON: a selector or text
// from a flow file or a page can never break out of its argument.
func call(fn string, args ...any) Expr {
	var b strings.Builder
	b.WriteString(fn)
	b.WriteByte('(')
	for i, a := range args {
		if i > 0 {
			b.WriteByte(',')
		}
		j, err := json.Marshal(a)
		if err != nil {
			j = []byte("null") // only plain values are passed
		}
		b.Write(j)
	}
	b.WriteByte(')')
	return Expr(b.String())
}

// The conditions a wait or check can ask of an element.
const (
	CondPresent    = "present"
	CondVisible    = "visible"
	CondHidden     = "hidden"
	CondInViewport = "in_viewport"
	CondActionable = "actionable"
	// CondClickable is actionable and standing still: the condition of
	// the actions that aim at a point (click, hover).
	CondClickable = "clickable"
)

// Wait waits in the page, at most within, until sel's element meets cond,
// and answers a check result. forInput first gives the page a bounded
// moment to report its first paint, and marks its input count.
func Wait(sel scenarios.Selector, cond string, within time.Duration, forInput bool) Expr {
	return call("__uxprobe.wait", sel.Kind, sel.Value, cond, within.Milliseconds(), forInput)
}

// What WaitThen does to the element it waited for.
const (
	ThenClear = "clear" // as Clear
	ThenFocus = "focus" // as Focus
)

// WaitThen is Wait before an input that then clears or focuses the element
// in the same call, once it is ready: a round trip less for the step. The
// answer of Clear or Focus comes as the result's then.
func WaitThen(sel scenarios.Selector, cond string, within time.Duration, then string) Expr {
	return call("__uxprobe.wait", sel.Kind, sel.Value, cond, within.Milliseconds(), true, then)
}

// Check answers at once whether sel's element meets cond.
func Check(sel scenarios.Selector, cond string) Expr {
	return call("__uxprobe.check", sel.Kind, sel.Value, cond)
}

// Text answers the element's text (an input's value).
func Text(sel scenarios.Selector) Expr { return call("__uxprobe.text", sel.Kind, sel.Value) }

// Clear focuses the element and empties it.
func Clear(sel scenarios.Selector) Expr { return call("__uxprobe.clear", sel.Kind, sel.Value) }

// Focus focuses the element.
func Focus(sel scenarios.Selector) Expr { return call("__uxprobe.focus", sel.Kind, sel.Value) }

// ConcealFocused draws the focused field's text as discs, as a password
// field's, so that pictures of the page do not show what is typed next.
func ConcealFocused() Expr { return call("__uxprobe.concealFocused") }

// Apply runs fn, the source of a JavaScript function (el, ...args) that
// answers nothing or {error}, on sel's element. The function comes from an
// action's own file (scenarios), not from a page or a flow, and it is
// evaluated as a literal, so a page's Content-Security-Policy does not
// forbid it.
func Apply(sel scenarios.Selector, fn string, args ...any) Expr {
	if args == nil {
		args = []any{}
	}
	a := string(call("", sel.Kind, sel.Value))
	rest := string(call("", args))
	return Expr("__uxprobe.apply(" + a[1:len(a)-1] + ",(" + fn + ")," + rest[1:len(rest)-1] + ")")
}

// NavsAfterTasks answers the document's count of started navigations
// after the tasks queued so far (a form submission a click scheduled).
func NavsAfterTasks() Expr { return call("__uxprobe.navsAfterTasks") }

// Settle is the final read of the document's vitals, waiting at most
// bound for the page to settle; it answers {settled}.
func Settle(bound time.Duration) Expr { return call("__uxprobe.settle", bound.Milliseconds()) }

// Quiet waits at most bound until no finite animation or transition runs.
func Quiet(bound time.Duration) Expr { return call("__uxprobeAct.quiet", bound.Milliseconds()) }

// Foreign splits a chain at its first iframe of another origin: it
// answers {prefix, rest}, or null when the chain stays in the page.
func Foreign(chain string) Expr { return call("__uxprobeSelect.foreign", chain) }

// ChainFirst is the first element the chain matches, as an object (not a
// value): evaluate it without ReturnByValue.
func ChainFirst(chain string) Expr {
	return Expr(string(call("__uxprobeSelect.all", scenarios.SelectorChain, chain)) + "[0]")
}

// First is the first element sel matches in the page, as an object (not
// a value), or undefined: evaluate it without ReturnByValue.
func First(sel scenarios.Selector) Expr {
	return Expr(string(call("__uxprobeSelect.all", sel.Kind, sel.Value)) + "[0]")
}

// FrameBox answers where the frame's viewport (the iframe prefix matches)
// is in the top page's, after scrolling it into view.
func FrameBox(prefix string) Expr { return call("__uxprobeSelect.frameBox", prefix) }

// FrameBoxAt is FrameBox, and also what of the top page covers the frame
// at the point x, y of the frame's viewport.
func FrameBoxAt(prefix string, x, y float64) Expr {
	return call("__uxprobeSelect.frameBox", prefix, x, y)
}

// Location answers the document's URL.
func Location() Expr { return "location.href" }

// Title answers the document's title.
func Title() Expr { return "document.title" }

// LoadState answers {state, url}: the document's readyState and URL.
func LoadState() Expr { return "({state: document.readyState, url: location.href})" }

// ErrCrashed is an evaluation cut short because the renderer crashed:
// Chrome never answers a call to a renderer that died.
var ErrCrashed = errors.New("the page crashed")

// Evaluate is the runner's one way to evaluate in a page or a frame: s is
// the page's target or an out-of-process frame's, params.ContextID picks an
// isolated world of a frame in the page's process. It returns at the
// answer, at ctx's end, or with ErrCrashed as soon as crashed is closed,
// whichever comes first, so that a dead renderer never holds a step until
// its timeout.
func Evaluate(ctx context.Context, s cdp.Session, params runtime.EvaluateParams, crashed <-chan struct{}) (runtime.EvaluateResult, error) {
	select {
	case <-crashed:
		return runtime.EvaluateResult{}, ErrCrashed
	default:
	}
	callCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-crashed:
			cancel()
		case <-stop:
		}
	}()
	res, err := cdp.Call(callCtx, s, runtime.Evaluate, params)
	if err != nil && ctx.Err() == nil && isClosed(crashed) {
		return res, ErrCrashed
	}
	return res, err
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// ByValue are the parameters of an evaluation of expr that awaits a
// promise and answers by value (JSON).
func ByValue(expr Expr) runtime.EvaluateParams {
	t := true
	return runtime.EvaluateParams{Expression: string(expr), AwaitPromise: &t, ReturnByValue: &t}
}

// ExceptionText is the first line of a thrown exception's description.
func ExceptionText(ex *runtime.ExceptionDetails) string {
	if ex.Exception != nil && ex.Exception.Description != "" {
		d := ex.Exception.Description
		if i := strings.IndexByte(d, '\n'); i > 0 {
			d = d[:i]
		}
		return d
	}
	return ex.Text
}

// Missing reports whether an exception says the bundle is not in the
// document (one created before it was registered, such as about:blank).
func Missing(exceptionText string) bool { return strings.Contains(exceptionText, "__uxprobe") }

// ContextGone reports whether an evaluation failed because the document it
// ran in went away (a navigation): the call belongs in the new document.
func ContextGone(text string) bool {
	return strings.Contains(text, "Cannot find context") || strings.Contains(text, "Execution context was destroyed") ||
		strings.Contains(text, "uniqueContextId not found") || strings.Contains(text, "Inspected target navigated or closed")
}

// Decode decodes an answer by value into out (nil: ignored).
func Decode(res runtime.EvaluateResult, out any) error {
	if out == nil || res.Result == nil || len(res.Result.Value) == 0 {
		return nil
	}
	if err := json.Unmarshal([]byte(res.Result.Value), out); err != nil {
		return fmt.Errorf("decoding the page's answer: %w", err)
	}
	return nil
}
