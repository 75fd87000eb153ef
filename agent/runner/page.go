package runner

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/uxprobe/uxprobe/agent/browser"
	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/agent/runner/bridge"
	"github.com/uxprobe/uxprobe/scenarios"
)

// tabPage implements scenarios.Page on one Chrome tab.
type tabPage struct {
	t       *chromedp.Target
	browser *browser.Browser // its Pipeline sends a gesture's input events together (pointer.go)
	events  *tracker
	flow    *scenarios.Flow
	shots   func(name string) (string, error)   // where a screenshot goes
	save    func(path string, data []byte) bool // writes an artifact; false if it could not
	taken   []string
	timeout time.Duration   // of the current step, for messages
	runCtx  context.Context // the whole run's, for calls that outlive a step's deadline a little
	audit   *auditState     // what the run's audits found
	offline bool            // a network step took the network away (offline.go)
	// answered is whether the page answered a call in the current step:
	// a step in which it answered nothing observed nothing.
	answered atomic.Bool
	// unresponsive is set once the page's main thread failed to answer.
	unresponsive atomic.Bool
	dlMark       int // downloads before the current step

	warnings []string           // of the current step, such as a selector that matched several elements
	value    string             // of the current step: an eval step's value (reads.go)
	vars     *scenarios.RunVars // values extract steps set, for the later steps (extract.go)
	tabs     *tabSet            // the tabs the run opened (tabs.go)
	tabCtx   context.Context    // the run's first tab, parent of the frame targets' contexts (frames.go)
	frames   frameTargets       // the frame targets of other sites the run attached to
	input    *inputMark         // where the current step's input began, if it sent one
	// buttonDown is whether the mouse's left button is held (pointer.go).
	buttonDown bool
	pointer    pointerState // the last release, for double clicks (pointer.go)
	touch      bool         // emulated on a touch device: a click is a tap
	aim        *aimMark     // where the current input began (keys.go)
	// baselines and visual are assert_screenshot's (visualcheck.go).
	baselines *baselineSet
	visual    *result.Visual
}

var _ scenarios.Page = (*tabPage)(nil)

// callGrace is how much longer than the step Go waits for an in-page wait
// that has the step's deadline of its own: the page's answer says what it saw
// (missing, hidden, covered), which a bare Go timeout could not.
const callGrace = 2 * time.Second

// withGrace derives a context for such a call from the run's, with the
// step's deadline plus callGrace; a step cancelled before its deadline (a
// redirect loop) cancels the call too.
func (p *tabPage) withGrace(ctx context.Context) (context.Context, context.CancelFunc) {
	dl, ok := ctx.Deadline()
	if !ok || p.runCtx == nil {
		return context.WithCancel(ctx)
	}
	callCtx, cancel := context.WithDeadline(p.runCtx, dl.Add(callGrace))
	stop := context.AfterFunc(ctx, func() {
		if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			cancel()
		}
	})
	return callCtx, func() { stop(); cancel() }
}

// call evaluates an expression in the page, awaiting a promise, and decodes
// its JSON value into out. A missing helper (a document created before it
// was registered, such as about:blank) is installed and the call retried; a
// navigation that destroys the context mid-call is retried in the new
// document until ctx ends.
func (p *tabPage) call(ctx context.Context, expr string, out any) error {
	for {
		if err := ctx.Err(); err != nil {
			return err // asked nothing, so the page is not to blame
		}
		sent := time.Now()
		res, err := p.evaluate(ctx, bridge.ByValue(bridge.Expr(expr)))
		if err != nil {
			if ctx.Err() == nil && bridge.ContextGone(err.Error()) {
				if err := (scenarios.Sleep{Duration: 20 * time.Millisecond}).Do(ctx, p); err != nil {
					return err
				}
				continue
			}
			return p.unanswered(ctx, sent, err)
		}
		p.answered.Store(true)
		if ex := res.ExceptionDetails; ex != nil {
			text := bridge.ExceptionText(ex)
			if bridge.Missing(text) {
				if _, err := p.evaluate(ctx, runtime.EvaluateParams{Expression: bridge.Bundle()}); err != nil {
					return p.wrap(ctx, err)
				}
				continue
			}
			if bridge.ContextGone(text) {
				continue
			}
			return scenarios.Fail(scenarios.KindScript, "%s", text)
		}
		return bridge.Decode(res, out)
	}
}

// wrap turns a protocol error into a step error of the right kind.
func (p *tabPage) wrap(ctx context.Context, err error) error {
	if err == nil || scenarios.AsStepError(err) != nil {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		return err // the runner names the timeout with its context
	}
	if p.events.isCrashed() {
		return scenarios.Fail(scenarios.KindPageCrash, "the page crashed")
	}
	return scenarios.Fail(scenarios.KindBrowser, "lost the browser: %v", err)
}

func remaining(ctx context.Context) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		return max(time.Until(dl), 0)
	}
	return time.Minute
}

type checkResult struct {
	OK      bool    `json:"ok"`
	Found   bool    `json:"found"`
	Visible bool    `json:"visible"`
	Enabled bool    `json:"enabled"`
	Covered string  `json:"covered"`
	Navs    int     `json:"navs"`
	Doc     string  `json:"doc"`
	Inputs  int     `json:"inputs"`
	Error   string  `json:"error"`
	X       float64 `json:"x"`
	Y       float64 `json:"y"`
	W       float64 `json:"w"` // the size of the element's box
	H       float64 `json:"h"`

	Unstable bool     `json:"unstable"` // actionable, but its box or opacity still changing
	Count    int      `json:"count"`    // of an actionable element's matches
	Matches  []string `json:"matches"`  // the first two of them
	// Then is the answer of what the wait then did to the element
	// (bridge.WaitThen); nil when it did nothing.
	Then *elementResult `json:"then"`

	inFrame bool // found in a frame of another origin (frames.go); X and Y are the top page's
}

// wait waits in the page for the condition and says specifically what was
// wrong when the time ran out.
func (p *tabPage) wait(ctx context.Context, sel scenarios.Selector, cond string) (checkResult, error) {
	return p.waitFor(ctx, sel, cond, false, "")
}

// waitInput is wait before an input: the page first gets a bounded moment
// to report its first paint and LCP candidate, and the step's input is
// marked, so that its interaction latency can be told from others.
// then, when not empty, is what the wait then does to the element in the
// same call (bridge.WaitThen), where it can: in the top page's document,
// not in a frame of another origin, whose element is still to be checked
// for what of the top page covers it. The result's Then says whether it
// did.
func (p *tabPage) waitInput(ctx context.Context, sel scenarios.Selector, cond, then string) (checkResult, error) {
	r, err := p.waitFor(ctx, sel, cond, true, then)
	// A frame's document counts inputs of its own, which are not the top
	// page's that interaction latency is read from.
	if err == nil && !r.inFrame {
		p.input = &inputMark{Doc: r.Doc, N: r.Inputs}
	}
	return r, err
}

func (p *tabPage) waitFor(ctx context.Context, sel scenarios.Selector, cond string, forInput bool, then string) (checkResult, error) {
	var r checkResult
	expr := func(s scenarios.Selector) string {
		r = checkResult{}
		top := s.Value == sel.Value // else the rest of a chain, in a frame
		if then != "" && top {
			return string(bridge.WaitThen(s, cond, remaining(ctx), then))
		}
		return string(bridge.Wait(s, cond, remaining(ctx), forInput && top))
	}
	callCtx, cancel := p.withGrace(ctx)
	defer cancel()
	// coveredBy is what of the top page last covered the frame at the
	// element: a wait in the frame that the deadline then cuts short (its
	// still-box check unfinished) failed because of the cover.
	coveredBy := ""
	for {
		fs, err := p.callSel(callCtx, sel, expr, &r, func() bool { return strings.Contains(r.Error, foreignMarker) })
		if err != nil {
			return r, err
		}
		if fs == nil || !r.OK {
			if fs != nil && coveredBy != "" && r.Unstable {
				r = checkResult{Found: true, Visible: true, Enabled: true, Covered: coveredBy}
			}
			break
		}
		// The point is the frame's, and the frame's document could not see
		// what of the top page covers the frame there.
		var point *[2]float64
		if cond == "actionable" || cond == condClickable {
			point = &[2]float64{r.X, r.Y}
		}
		b, err := p.frameBox(callCtx, fs, point)
		if err != nil && !errors.Is(err, errFrameGone) {
			return r, err
		}
		if err != nil || b.Covered != "" {
			coveredBy = b.Covered
			if (scenarios.Sleep{Duration: 50 * time.Millisecond}).Do(ctx, p) == nil {
				continue
			}
			r = checkResult{Found: true, Visible: true, Enabled: true, Covered: b.Covered}
			break
		}
		// The navigations a click compares are the top page's.
		r.X, r.Y, r.inFrame = r.X+b.X, r.Y+b.Y, true
		if err := p.call(callCtx, string(bridge.NavsAfterTasks()), &r.Navs); err != nil {
			return r, err
		}
		break
	}
	if r.OK {
		if w := multiMatchWarning(sel, r); w != "" {
			p.warnings = append(p.warnings, w)
		}
		return r, nil
	}
	if r.Error != "" {
		return r, scenarios.Fail(scenarios.KindElementNotFound, "selector %s is not valid: %s", sel, r.Error)
	}
	after := p.timeout.Round(time.Millisecond)
	switch {
	case !r.Found && cond != "hidden":
		return r, scenarios.Fail(scenarios.KindElementNotFound, "no element matches %s after %s", sel, after)
	case cond == "present":
	case cond == "hidden":
		return r, scenarios.Fail(scenarios.KindTimeout, "%s is still visible after %s", sel, after)
	case !r.Visible:
		return r, scenarios.Fail(scenarios.KindTimeout, "%s is present but not visible after %s", sel, after)
	case (cond == "actionable" || cond == condClickable) && !r.Enabled:
		return r, scenarios.Fail(scenarios.KindTimeout, "%s is visible but disabled after %s", sel, after)
	case r.Unstable:
		return r, scenarios.Fail(scenarios.KindTimeout, "%s kept moving or fading in for %s, so a user could not aim at it", sel, after)
	case r.Covered != "":
		return r, scenarios.Fail(scenarios.KindTimeout, "%s is covered by %s after %s, so a user could not click it", sel, r.Covered, after)
	}
	return r, scenarios.Fail(scenarios.KindTimeout, "%s did not become %s after %s", sel, cond, after)
}

// Navigate implements scenarios.Page.
func (p *tabPage) Navigate(ctx context.Context, url string) error {
	mark := p.events.navCount()
	res, err := cdp.Call(ctx, p.t, page.Navigate, page.NavigateParams{URL: url})
	if err != nil {
		if ctx.Err() != nil {
			// Chrome answers Page.navigate once the response starts, so
			// a server that never answers ends here.
			return scenarios.Fail(scenarios.KindTimeout, "GET %s got no response within %s", url, p.timeout)
		}
		return p.wrap(ctx, err)
	}
	if res.ErrorText == "net::ERR_ABORTED" && p.awaitDownloadStart(ctx) {
		return p.waitLoaded(ctx, mark) // an attachment: the download is the load
	}
	if res.ErrorText != "" && res.ErrorText != "net::ERR_HTTP_RESPONSE_CODE_FAILURE" {
		return scenarios.Fail(scenarios.KindNavigation, "GET %s failed: %s", url, res.ErrorText)
	}
	if res.LoaderID == "" {
		return nil // same-document navigation (#fragment): nothing loads
	}
	return p.waitLoaded(ctx, mark)
}

// waitLoaded waits until the navigations that started after mark have
// loaded, and fails on a document the server or the network failed.
func (p *tabPage) waitLoaded(ctx context.Context, mark int) error {
	for {
		if done, err := p.downloadFinished(); done {
			return err // a download the step started ends it
		}
		docs := p.events.since(mark)
		if len(docs) > 0 && !docs[len(docs)-1].Download {
			last := docs[len(docs)-1]
			if msg := documentProblem(last); msg != "" {
				return scenarios.Fail(scenarios.KindNavigation, "%s", msg)
			}
			if last.Loaded {
				return nil
			}
		}
		if p.events.isCrashed() {
			return scenarios.Fail(scenarios.KindPageCrash, "the page crashed")
		}
		select {
		case <-ctx.Done():
			if len(docs) > 0 {
				return scenarios.Fail(scenarios.KindTimeout, "%s did not finish loading within %s", docs[len(docs)-1].URL, p.timeout)
			}
			return ctx.Err()
		case <-p.events.changed:
		}
	}
}

// navStartGrace bounds how long a navigation the page announced may take to
// reach the network: a page that intercepts it (a single-page app) or
// cancels it never does.
const navStartGrace = 2 * time.Second

// settle follows a navigation that an input started. navsBefore is the
// page's count of started navigations before the input; the page is asked
// again after its queued tasks ran, so that a form submission, which Blink
// schedules as a separate task, is seen too. Only a started navigation is
// waited for.
func (p *tabPage) settle(ctx context.Context, mark, navsBefore int) error {
	navs, err := p.navsOrNavigated(ctx, mark, navsBefore)
	if err != nil {
		return err
	}
	announced := navs > navsBefore
	if len(p.events.since(mark)) == 0 && !announced {
		return nil
	}
	if len(p.events.since(mark)) == 0 && !p.downloadBegan() {
		// Announced in the page but not yet on the network.
		startCtx, cancel := context.WithTimeout(ctx, navStartGrace)
		defer cancel()
		for len(p.events.since(mark)) == 0 && !p.downloadBegan() {
			select {
			case <-startCtx.Done():
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return nil // intercepted or cancelled by the page
			case <-p.events.changed:
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	return p.waitLoaded(ctx, mark)
}

// navsOrNavigated asks the page for its count of started navigations after
// its queued tasks, unless the protocol shows a navigation since mark
// first: the question then goes to a document being left, whose answer
// comes late or from the next document after a retry, and is not needed,
// since the navigation is waited for either way. It answers navsBefore+1
// then.
func (p *tabPage) navsOrNavigated(ctx context.Context, mark, navsBefore int) (int, error) {
	askCtx, cancel := context.WithCancel(ctx)
	type answer struct {
		navs int
		err  error
	}
	answered := make(chan answer, 1)
	go func() {
		var a answer
		a.err = p.call(askCtx, string(bridge.NavsAfterTasks()), &a.navs)
		answered <- a
	}()
	tick := time.NewTicker(10 * time.Millisecond) // a wake-up taken by another wait
	defer tick.Stop()
	for {
		select {
		case a := <-answered:
			cancel()
			return a.navs, a.err
		case <-p.events.changed:
		case <-tick.C:
		}
		if len(p.events.since(mark)) > 0 || p.downloadBegan() {
			cancel()
			<-answered // the call ends with askCtx; p is not used after
			return navsBefore + 1, nil
		}
	}
}

type elementResult struct {
	Found bool   `json:"found"`
	Error string `json:"error"`
	Text  string `json:"text"`
}

// element runs a call of the bridge on sel's element, where the element is.
func (p *tabPage) element(ctx context.Context, sel scenarios.Selector, call func(scenarios.Selector) bridge.Expr) (elementResult, error) {
	var r elementResult
	expr := func(s scenarios.Selector) string {
		r = elementResult{}
		return string(call(s))
	}
	if _, err := p.callSel(ctx, sel, expr, &r, nil); err != nil {
		return r, err
	}
	return r, r.err(sel)
}

// err is the step's failure of a call on sel's element that answered r.
func (r elementResult) err(sel scenarios.Selector) error {
	if !r.Found {
		return scenarios.Fail(scenarios.KindElementNotFound, "no element matches %s", sel)
	}
	if r.Error != "" {
		return scenarios.Fail(scenarios.KindAssertion, "%s", r.Error)
	}
	return nil
}

// Apply implements scenarios.Page.
func (p *tabPage) Apply(ctx context.Context, sel scenarios.Selector, fn string, args ...any) error {
	_, err := p.element(ctx, sel, func(s scenarios.Selector) bridge.Expr { return bridge.Apply(s, fn, args...) })
	return err
}

// Screenshot implements scenarios.Page.
func (p *tabPage) Screenshot(ctx context.Context, name string) error {
	p.waitStill(ctx) // actions.go
	res, err := cdp.Call(ctx, p.t, page.CaptureScreenshot, page.CaptureScreenshotParams{Format: page.CaptureScreenshotFormatPng})
	if err != nil {
		return p.wrap(ctx, err)
	}
	path, err := p.shots(name)
	if err != nil {
		return err
	}
	if p.save(path, res.Data) {
		p.taken = append(p.taken, path)
	}
	return nil
}

func ptr[T any](v T) *T { return &v }
