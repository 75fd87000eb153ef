package runner

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/uxprobe/uxprobe/agent/runner/bridge"
	"github.com/uxprobe/uxprobe/agent/runner/pagelog"
	"github.com/uxprobe/uxprobe/scenarios"
)

// earlyTabWarning says that a tab's first document began before the
// device could be emulated in it. Chrome starts a tab that a page opens
// at once, in a window of its own size and with its own user agent. A
// browser-wide auto-attach with waitForDebuggerOnStart would hold it, but
// chromedp's attach to a held tab evaluates in it first and waits out its
// time (tried): the document is laid out and measured as Chrome drew it,
// not as the device would.
const earlyTabWarning = "the new tab's first document began loading before the device could be emulated in it: its layout and vitals are those of Chrome's own window and user agent, not the device's (the device applies from the next document on)"

// popupLoadTimeout bounds the wait for a tab a step opened, when the step's
// own time is spent.
const popupLoadTimeout = 10 * time.Second

// openedTab is a tab of the run besides its first.
type openedTab struct {
	index  int
	t      *chromedp.Target
	ctx    context.Context
	cancel context.CancelFunc
	gone   <-chan struct{} // closed when the page closed itself (window.close)
}

// tabSet follows the tabs a run opens. A step that opens a tab or popup
// (a target=_blank link, window.open) continues the flow in it; close_tab,
// or the page calling window.close(), returns to the tab before. Every tab
// it opened is closed when the run ends, so none outlives it.
type tabSet struct {
	r     *Runner
	first *chromedp.Target
	base  context.Context // the first tab's, parent of the others
	flow  *scenarios.Flow
	dev   scenarios.Device
	ev    *tracker
	dw    *dialogWatcher

	mu     sync.Mutex
	ours   map[target.ID]bool // targets of this run, whose popups are ours too
	opened []target.ID        // popups not followed yet
	// Whether a tab of the run asked for a window with a document to
	// load (Page.windowOpen with a URL) since the last follow: such a tab
	// is about:blank until its document commits, or for good when the
	// document became a download, which Chrome may tell much later under
	// load.
	navigating bool
	stray      []target.ID  // popups a step opened besides the one followed
	stack      []*openedTab // the tabs followed, the current last
	all        []*openedTab
}

// watchTabs starts following the popups of the run's first tab. The
// returned function closes every tab the run opened.
func (r *Runner) watchTabs(base context.Context, first *chromedp.Target, pg *tabPage, ev *tracker, dw *dialogWatcher, f *scenarios.Flow, d scenarios.Device) (func(), error) {
	ts := &tabSet{r: r, first: first, base: base, flow: f, dev: d, ev: ev, dw: dw,
		ours: map[target.ID]bool{first.TargetID: true}}
	pg.tabs = ts
	// chromedp turns on target discovery in each tab's session, so the
	// tab hears of the targets created, its popups among them.
	err := chromedp.Listen(base, func(e any) {
		ts.noteWindowOpen(e)
		if c, ok := e.(*target.EventTargetCreated); ok && c.TargetInfo != nil && c.TargetInfo.Type == "page" {
			ts.mu.Lock()
			mine := ts.ours[c.TargetInfo.OpenerID]
			if mine {
				ts.opened = append(ts.opened, c.TargetInfo.TargetID)
				ts.ours[c.TargetInfo.TargetID] = true
			}
			ts.mu.Unlock()
			if mine {
				// What the tab downloads is the run's, followed or not
				// (a link that opens an attachment in a new tab).
				ev.ownFrame(string(c.TargetInfo.TargetID))
			}
		}
	})
	return ts.closeAll, err
}

// noteWindowOpen notes a tab's request for a window with a document to
// load. Chrome sends it to the opener just before the new target exists.
func (ts *tabSet) noteWindowOpen(e any) {
	if w, ok := e.(*page.EventWindowOpen); ok && w.URL != "" && !strings.HasPrefix(w.URL, "about:") {
		ts.mu.Lock()
		ts.navigating = true
		ts.mu.Unlock()
	}
}

// follow switches the page to the newest tab the step opened, waiting for
// its document. Called after each step that went through.
func (ts *tabSet) follow(ctx context.Context, pg *tabPage) error {
	ts.mu.Lock()
	opened, navigating := ts.opened, ts.navigating
	ts.opened, ts.navigating = nil, false
	ts.mu.Unlock()
	if len(opened) == 0 {
		return nil
	}
	id := opened[len(opened)-1] // a step that opened several: the last is in front
	ts.mu.Lock()
	ts.stray = append(ts.stray, opened[:len(opened)-1]...)
	ts.mu.Unlock()
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(pg.runCtx, popupLoadTimeout)
		defer cancel()
	}
	tctx, cancel := chromedp.NewContext(ts.base, chromedp.WithTargetID(id))
	if err := chromedp.Do(tctx); err != nil {
		cancel()
		return scenarios.Fail(scenarios.KindBrowser, "following the new tab: %v", err)
	}
	t := chromedp.FromContext(tctx).Target
	gone, _ := chromedp.Detached(tctx)
	ts.mu.Lock()
	ot := &openedTab{index: len(ts.all) + 1, t: t, ctx: tctx, cancel: cancel, gone: gone}
	ts.all = append(ts.all, ot)
	ts.stack = append(ts.stack, ot)
	ts.mu.Unlock()
	if err := chromedp.Listen(tctx, ts.ev.listen); err != nil {
		return scenarios.Fail(scenarios.KindBrowser, "listening to the new tab: %v", err)
	}
	if err := chromedp.Listen(tctx, ts.noteWindowOpen); err != nil {
		return scenarios.Fail(scenarios.KindBrowser, "listening to the new tab: %v", err)
	}
	if err := chromedp.Listen(tctx, ts.dw.on(t)); err != nil {
		return scenarios.Fail(scenarios.KindBrowser, "listening to the new tab: %v", err)
	}
	ts.ev.setActiveTab(string(t.TargetID), ot.index)
	pg.t = t
	// The tab's first document may have started before we attached: adopt
	// it from the frame tree, so that it is in pages[] and waited for, and
	// have Chrome announce its contexts again, now that we listen, so that
	// its vitals reports are its own.
	loader := ""
	if tree, err := cdp.Call(ctx, t, page.GetFrameTree, cdp.Empty{}); err == nil && tree.FrameTree != nil && tree.FrameTree.Frame != nil {
		fr := tree.FrameTree.Frame
		ts.ev.adopt(string(fr.ID), string(fr.LoaderID), fr.URL, ot.index)
		loader = string(fr.LoaderID)
	}
	if _, err := cdp.Call(ctx, t, runtime.Disable, cdp.Empty{}); err == nil {
		_, _ = cdp.Call(ctx, t, runtime.Enable, cdp.Empty{}) // best effort: the page is then measured without vitals
	}
	if err := setup(ctx, t, ts.flow, ts.dev, ts.r.Browser.Version()); err != nil {
		return pg.wrap(ctx, err)
	}
	if err := siteAccess(ctx, tctx, t, ts.flow, ts.ev.markBlocked); err != nil {
		return pg.wrap(ctx, err)
	}
	// A document the tab holds now began before the device was set, or
	// while it was being set: it is laid out as Chrome drew it. Looked at
	// after the set-up, so that one that committed meanwhile is not taken
	// for one that came after.
	if tree, err := cdp.Call(ctx, t, page.GetFrameTree, cdp.Empty{}); err == nil && tree.FrameTree != nil && tree.FrameTree.Frame != nil {
		if u := tree.FrameTree.Frame.URL; u != "" && !strings.HasPrefix(u, "about:") {
			pg.warnings = append(pg.warnings, earlyTabWarning)
		}
	}
	// The observers of vitals.js take what the page reported before them
	// (buffered), so a document that began before setup is measured too.
	_, _ = pg.evaluate(ctx, runtime.EvaluateParams{Expression: bridge.Bundle()}) // best effort: as above
	err := pg.waitTabLoaded(ctx, navigating)
	if d, ok := ts.ev.downloadFrom(string(t.TargetID), pg.dlMark); ok {
		return ts.downloaded(ctx, pg, ot, d)
	}
	if err != nil {
		return err
	}
	if loader != "" {
		// Its requests went before we listened: the page's own timing
		// says what they were.
		var ld pagelog.Loaded
		if pg.call(ctx, loadedExpr, &ld) == nil {
			ts.ev.adoptLoaded(loader, ld)
		}
	}
	return nil
}

// loadedExpr reads a document's status, requests and failed requests from
// its navigation and resource timing.
const loadedExpr = `(() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const res = performance.getEntriesByType('resource');
  const failed = res.filter((e) => e.responseStatus >= 400).map((e) => ({url: e.name, status: e.responseStatus}));
  const status = nav ? nav.responseStatus || 0 : 0;
  if (status >= 400) failed.unshift({url: location.href, status});
  return {status, requests: res.length + 1, failed: failed.slice(0, 50), loaded: document.readyState === 'complete'};
})()`

// downloaded ends a followed tab whose navigation became the download d:
// there is no page in it, so the flow goes on in the tab before, once the
// file is in (as after a download in the page), and the tab is closed.
func (ts *tabSet) downloaded(ctx context.Context, pg *tabPage, ot *openedTab, d pagelog.Download) error {
	ts.back(pg, true)
	for !d.Done {
		select {
		case <-ctx.Done():
			return nil // the download goes on; the step's own time is spent
		case <-ts.ev.changed:
		case <-time.After(20 * time.Millisecond):
		}
		d, _ = ts.ev.downloadFrom(string(ot.t.TargetID), pg.dlMark)
	}
	if d.Failed {
		return scenarios.Fail(scenarios.KindNavigation, "the download of %s was interrupted after %d bytes", d.URL, d.Bytes)
	}
	return nil
}

// waitTabLoaded waits until the followed tab's document has loaded, by the
// page's own readyState: its load event may have come before we listened.
// A tab that starts at about:blank gets a moment to navigate; one opened
// with a URL (navigating) waits for it up to popupLoadTimeout, since its
// first document, or the download it became, may be slow to come.
func (p *tabPage) waitTabLoaded(ctx context.Context, navigating bool) error {
	blankSince, grace := time.Now(), navStartGrace
	if navigating {
		grace = popupLoadTimeout
	}
	for {
		var st struct {
			State string `json:"state"`
			URL   string `json:"url"`
		}
		err := p.call(ctx, string(bridge.LoadState()), &st)
		if err != nil {
			if ctx.Err() != nil {
				return scenarios.Fail(scenarios.KindTimeout, "the new tab did not finish loading within %s", p.timeout)
			}
			return err
		}
		blank := st.URL == "about:blank"
		if st.State == "complete" && (!blank || time.Since(blankSince) > grace) {
			return nil
		}
		if _, ok := p.events.downloadFrom(string(p.t.TargetID), p.dlMark); ok && blank {
			return nil // no page will come: follow goes back
		}
		if err := (scenarios.Sleep{Duration: 25 * time.Millisecond}).Do(ctx, p); err != nil {
			return scenarios.Fail(scenarios.KindTimeout, "the new tab (%s) did not finish loading within %s", st.URL, p.timeout)
		}
	}
}

// back returns to the tab before the current one. With closeIt, the current
// tab is closed first (close_tab); else it closed itself.
func (ts *tabSet) back(pg *tabPage, closeIt bool) {
	ts.mu.Lock()
	if len(ts.stack) == 0 {
		ts.mu.Unlock()
		return
	}
	cur := ts.stack[len(ts.stack)-1]
	ts.stack = ts.stack[:len(ts.stack)-1]
	prevT, prevIndex := ts.first, 0
	if n := len(ts.stack); n > 0 {
		prevT, prevIndex = ts.stack[n-1].t, ts.stack[n-1].index
	}
	ts.mu.Unlock()
	if closeIt {
		closeTab(cur)
	}
	pg.t = prevT
	ts.ev.setActiveTab("", prevIndex)
}

// returnIfClosed goes back from tabs that closed themselves; called before
// each step.
func (ts *tabSet) returnIfClosed(pg *tabPage) {
	for {
		ts.mu.Lock()
		var cur *openedTab
		if n := len(ts.stack); n > 0 {
			cur = ts.stack[n-1]
		}
		ts.mu.Unlock()
		if cur == nil {
			return
		}
		select {
		case <-cur.gone:
			ts.back(pg, false)
		default:
			return
		}
	}
}

// closedUnder reports whether the tab the flow is in, one a step opened,
// closed itself, waiting a moment for Chrome to say so: a step that failed
// because its tab went away is told of that a little after its error.
func (ts *tabSet) closedUnder(err error) bool {
	ts.mu.Lock()
	var cur *openedTab
	if n := len(ts.stack); n > 0 {
		cur = ts.stack[n-1]
	}
	ts.mu.Unlock()
	if cur == nil {
		return false
	}
	// Gone already (the watch of runInTab cut the step short for it):
	// checked on its own, as a select with a timer that has fired too
	// picks either at random.
	select {
	case <-cur.gone:
		return true
	default:
	}
	wait := time.Duration(0)
	if msg := err.Error(); strings.Contains(msg, "detached") || strings.Contains(msg, "navigated or closed") {
		wait = time.Second
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-cur.gone:
		return true
	case <-t.C:
		return false
	}
}

// rereadable are the actions that only read the page: one that the tab it
// ran in cut short by closing itself runs again in the tab before, where
// the user is now.
var rereadable = map[string]bool{"wait_for": true, "assert_text": true, "assert_visible": true, "assert_url": true, "assert_title": true, "extract": true}

// runInTab runs a step's action in the tab the flow is in. A tab that a
// step opened and that closes itself during the action (a page that
// closes its tab a moment after the step that asked for it) is noticed
// when it happens: the action is cut short, and a read of the page runs
// again in the tab before instead of waiting out its timeout in a tab
// that is gone. An action that gave the closing tab its input is not
// repeated; closedUnder decides for it.
func (ts *tabSet) runInTab(ctx context.Context, pg *tabPage, st scenarios.Step, run func(context.Context) error) error {
	for {
		actx, cancel := context.WithCancel(ctx)
		closed := ts.watchCurrent(cancel)
		err := run(actx)
		wasClosed := closed()
		cancel()
		if err == nil || !wasClosed || ctx.Err() != nil || pg.input != nil || !rereadable[st.Action.Kind()] {
			return err
		}
		ts.returnIfClosed(pg)
	}
}

// watchCurrent calls cancel when the tab the flow is in, one a step
// opened, closes. The returned function ends the watch and reports
// whether the tab closed.
func (ts *tabSet) watchCurrent(cancel context.CancelFunc) func() bool {
	ts.mu.Lock()
	var cur *openedTab
	if n := len(ts.stack); n > 0 {
		cur = ts.stack[n-1]
	}
	ts.mu.Unlock()
	if cur == nil {
		return func() bool { return false }
	}
	stop, done := make(chan struct{}), make(chan bool, 1)
	go func() {
		select {
		case <-cur.gone:
			cancel()
			done <- true
		case <-stop:
			done <- false
		}
	}()
	return func() bool {
		close(stop)
		return <-done
	}
}

// CloseTab implements scenarios.TabCloser.
func (p *tabPage) CloseTab(ctx context.Context) error {
	if p.tabs == nil || !p.tabs.inOpened() {
		return scenarios.Fail(scenarios.KindAssertion, "close_tab: the flow is in its first tab; close_tab closes a tab that a step opened")
	}
	p.tabs.back(p, true)
	return nil
}

func (ts *tabSet) inOpened() bool {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return len(ts.stack) > 0
}

func closeTab(ot *openedTab) {
	ctx, cancel := context.WithTimeout(ot.ctx, 2*time.Second)
	defer cancel()
	select {
	case <-ot.gone:
	default:
		_, _ = cdp.Call(ctx, ot.t, page.Close, cdp.Empty{}) // best effort: cancel below closes it too
	}
	ot.cancel()
}

// closeAll closes every tab the run opened, those it never followed too.
func (ts *tabSet) closeAll() {
	ts.mu.Lock()
	all := ts.all
	ts.all, ts.stack = nil, nil
	unfollowed := append(ts.stray, ts.opened...)
	ts.opened, ts.stray = nil, nil
	ts.mu.Unlock()
	for _, ot := range all {
		closeTab(ot)
	}
	b := chromedp.FromContext(ts.base).Browser
	for _, id := range unfollowed {
		ctx, cancel := context.WithTimeout(ts.base, 2*time.Second)
		_, _ = cdp.Call(ctx, b, target.CloseTarget, target.CloseTargetParams{TargetID: id}) // best effort: the browser context goes with the first tab
		cancel()
	}
}
