package scenarios

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Page is what a step needs from a browser tab. The runner implements it with
// Chrome; the step actions in this package are written only against it, so
// the semantics of every action live next to its definition.
//
// Methods that take a selector wait, up to the context's deadline, until the
// element is there and actionable (visible and enabled), and report a missing
// element as a *StepError of kind element_not_found.
type Page interface {
	// Navigate loads url and waits for its load event. An HTTP status of 400
	// or more or a network error is a navigation error.
	Navigate(ctx context.Context, url string) error
	// WaitFor waits until the element reaches the state.
	WaitFor(ctx context.Context, sel Selector, state WaitState) error
	// Visible reports at once whether the element is visible (and, with
	// inViewport, inside the viewport without scrolling).
	Visible(ctx context.Context, sel Selector, inViewport bool) (bool, error)
	// Text returns the visible text of the first matching element, at once;
	// no match is an element_not_found error.
	Text(ctx context.Context, sel Selector) (string, error)
	URL(ctx context.Context) (string, error)
	Title(ctx context.Context) (string, error)
	// Eval evaluates a JavaScript expression, awaiting a promise, and returns
	// whether the result is truthy and a short rendering of it. A thrown
	// exception is a script error.
	Eval(ctx context.Context, expr string) (truthy bool, value string, err error)
	// Screenshot saves a picture of the viewport under the name.
	Screenshot(ctx context.Context, name string) error
	// Snapshot returns a still picture (PNG) of the page: its fonts
	// loaded, its finite animations and transitions finished, the caret
	// hidden and the masked elements painted over.
	Snapshot(ctx context.Context, opts SnapshotOptions) ([]byte, error)
	// Audit checks the current page against the audit rules (those that
	// apply on the device) and records what it finds. With fail, any
	// finding is an error of kind audit that names the rules, counts and
	// first elements.
	Audit(ctx context.Context, rules []string, fail bool) error

	// The primitives below are what a new action is written from, in its
	// own file, without a method of its own here (see drag.go, click.go,
	// type.go). Locate and Focus are what an input aims at first: the
	// page gets a bounded moment to paint, and AwaitNavigation then
	// follows what the input that came after started.

	// Locate waits until the element is actionable and standing still,
	// scrolled into view, and returns the point a user would aim at and
	// the size of the element's box.
	Locate(ctx context.Context, sel Selector) (Target, error)
	// Pointer moves the mouse to the point, or presses or releases its
	// left button there, or does all three as one click, or taps the point
	// with a finger. The page's HTML5
	// drag and drop follows it as it follows a user's mouse; a press at
	// the point of a release a moment before is a double click's second.
	Pointer(ctx context.Context, action PointerAction, at Point) error
	// Touchscreen reports whether the page is emulated on a touch device,
	// where a person taps instead of clicking.
	Touchscreen() bool
	// Focus waits until the element is actionable and focuses it, emptying
	// it first with clear. With sel nil it aims at whichever element has
	// the focus, once the page is there.
	Focus(ctx context.Context, sel *Selector, clear bool) error
	// Keys presses and releases each key in turn on the focused element,
	// with the key events a keyboard sends (keydown, keypress, input,
	// keyup); a character no key types is inserted as text.
	Keys(ctx context.Context, keys []KeyStroke) error
	// InsertText puts text into the focused element as one input event, as
	// an IME or a paste would: no key events, one round trip.
	InsertText(ctx context.Context, text string) error
	// AwaitNavigation waits for a navigation the input since the last
	// Locate or Focus started, if it started one.
	AwaitNavigation(ctx context.Context) error
	// Apply runs fn, the source of a JavaScript function
	// (el, ...args) => undefined | {error}, on the first element sel
	// matches, where it is (in a frame too), at once: what an action does
	// to an element that no input of a person does (choose an option,
	// scroll it into view). args are passed as JSON; an answer {error}
	// fails the step as an assertion. The page's bridge lends the
	// function __uxprobe.describe(el), an element's name for a message,
	// and __uxprobe.norm(s), s with its white space collapsed.
	Apply(ctx context.Context, sel Selector, fn string, args ...any) error
}

// Point is a place in the viewport, in CSS pixels from its top left.
type Point struct{ X, Y float64 }

// Target is an element Locate found: the point a person aims at on it,
// and the size of its box, in CSS pixels.
type Target struct {
	Point
	Width, Height float64
}

// PointerAction is what Page.Pointer does.
type PointerAction string

// The pointer actions.
const (
	PointerMove PointerAction = "move"
	PointerDown PointerAction = "down"
	PointerUp   PointerAction = "up"
	// PointerClick moves the mouse to the point and presses and releases
	// its left button there: one gesture, whose events go out together,
	// as a hand makes them.
	PointerClick PointerAction = "click"
	// PointerTap touches the point with a finger and lifts it, on a touch
	// device: touch events, then the click the page derives from them.
	PointerTap PointerAction = "tap"
)

// ErrorKind says what went wrong in a step, in terms an SRE alerts on.
type ErrorKind string

// The error kinds of a failed run.
const (
	KindAssertion       ErrorKind = "assertion"
	KindTimeout         ErrorKind = "timeout"
	KindElementNotFound ErrorKind = "element_not_found"
	KindNavigation      ErrorKind = "navigation"
	KindScript          ErrorKind = "script"
	// KindAudit means an audit step with fail: true found a UX defect: a
	// site failure, like an assertion.
	KindAudit ErrorKind = "audit"
	// KindBrowser means Chrome crashed or the connection to it broke: our
	// failure, not the site's.
	KindBrowser ErrorKind = "browser"
	// KindCancelled means the agent stopped the run, at shutdown.
	KindCancelled ErrorKind = "cancelled"
	// KindPageCrash means the page's renderer died (out of memory, a
	// renderer bug the page triggers) while Chrome itself stayed up: the
	// user saw "Aw, Snap!", so it is the site's failure.
	KindPageCrash ErrorKind = "page_crash"
)

// ErrorKinds lists every kind, for documentation and metric checks.
var ErrorKinds = []ErrorKind{KindAssertion, KindTimeout, KindElementNotFound, KindNavigation, KindScript, KindAudit, KindVisual, KindDialog, KindPageCrash, KindBrowser, KindCancelled}

// StepError is a failure of a step with its kind and a specific message.
type StepError struct {
	Kind    ErrorKind
	Message string
}

func (e *StepError) Error() string { return string(e.Kind) + ": " + e.Message }

// Fail makes a StepError.
func Fail(kind ErrorKind, format string, args ...any) *StepError {
	return &StepError{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// AsStepError returns err as a *StepError, or nil.
func AsStepError(err error) *StepError {
	var se *StepError
	if errors.As(err, &se) {
		return se
	}
	return nil
}

// WaitState is what wait_for waits for.
type WaitState string

// The states of wait_for.
const (
	StateVisible WaitState = "visible"
	StateHidden  WaitState = "hidden"
	StatePresent WaitState = "present"
)

// SelectorKind is how a selector finds elements.
type SelectorKind string

// The selector kinds: CSS by default, `text=` and `xpath=` by prefix; the
// others are in selectors.go.
const (
	SelectorCSS   SelectorKind = "css"
	SelectorText  SelectorKind = "text"
	SelectorXPath SelectorKind = "xpath"
)

// Selector finds elements on a page. chromedp's default search matches text,
// CSS and XPath at once, which makes selectors ambiguous; ours says which.
type Selector struct {
	Kind  SelectorKind
	Value string
}

// ParseSelector reads every selector form (see SelectorForms): `text=...`,
// `xpath=...`, `css=...`, `role=...`, `label=...`, `placeholder=...`,
// `testid=...`, chains joined by `>>` with `nth=N`, or a plain CSS selector.
// CSS and XPath segments are checked for syntax as Chrome would check them.
func ParseSelector(s string) (Selector, error) { return parseSelectorText(s, nil) }

func (s Selector) String() string {
	switch s.Kind {
	case SelectorCSS:
		return s.Value
	case SelectorChain:
		return chainString(s.Segments())
	}
	return string(s.Kind) + "=" + s.Value
}

// TextMatch is an expectation on a string: contains, equals or matches.
type TextMatch struct {
	Op   string // "contains", "equals" or "matches"
	Want string
	re   *regexp.Regexp
}

// Match reports whether got meets the expectation.
func (m TextMatch) Match(got string) bool {
	switch m.Op {
	case "equals":
		return got == m.Want
	case "matches":
		return m.re.MatchString(got)
	default:
		return strings.Contains(got, m.Want)
	}
}

func (m TextMatch) String() string { return fmt.Sprintf("%s %q", m.Op, m.Want) }
