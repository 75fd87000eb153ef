package runner

import (
	"context"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/uxprobe/uxprobe/agent/browser"
	"github.com/uxprobe/uxprobe/agent/redact"
	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// session is one attempt of a flow on a device. It owns the attempt's state
// from the tab it opens to the result it returns: open prepares the tab,
// the step loop (steps.go) runs the flow's steps and then its finally
// steps, and finish builds the result, in one place, whichever way the
// attempt ended.
type session struct {
	r      *Runner
	f      *scenarios.Flow
	opts   RunOptions // state.go
	d      scenarios.Device
	parent context.Context // the caller's: its end cancels the run
	runCtx context.Context // the flow's timeout
	start  time.Time
	res    *result.Result

	// Set by open, as far as it got.
	gen         int // Chrome's generation when the attempt began
	tab         *browser.Tab
	tabRunCtx   context.Context // ends with the run or the tab, whichever first
	ev          *tracker
	pg          *tabPage
	dw          *dialogWatcher
	hr          *harRecorder
	film        *filmstripRecorder
	downloadDir string
	closers     []func() // undone in reverse order when the attempt ends

	marks    []stepMark    // the steps' inputs, for their interaction latency
	settle   time.Duration // bound of a page's final read
	taskTime time.Duration // set after the main steps
	shotErr  string        // why the failure has no screenshot (artifacts.go)
	last     lastStep      // the last of the flow's steps that ran (navbound.go)
	auditFor string        // the step whose page awaits its flow-level audit (audit.go)
}

func newSession(r *Runner, parent context.Context, f *scenarios.Flow, d scenarios.Device, opts RunOptions) *session {
	f = f.ForRun() // masks what this run extracts as secret
	start := time.Now()
	res := result.New(f.Name, d, start)
	if c := f.ConditionsOn(d).Clone(); !c.IsZero() {
		res.Conditions = &c // conditions.go; a copy, which redaction may rewrite
	}
	return &session{r: r, f: f, d: d, opts: opts, parent: parent, start: start, res: res, settle: r.settleBound(f.VitalsSettle)}
}

// onClose registers what close undoes.
func (s *session) onClose(fn func()) { s.closers = append(s.closers, fn) }

// close releases what open took, last first.
func (s *session) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

// runOnce is one attempt: open, the steps, the finally steps, the result.
// The result leaves through the one redaction boundary: inside the run,
// messages, URLs and page text stay whole; here every string of the result
// is masked with the flow's secrets (those the run extracted too, which
// only the attempt's copy of the flow knows), and only then clipped, so
// that no cut leaves a secret's first characters behind. Run returns the
// last attempt's result, so each result is redacted exactly once.
func (r *Runner) runOnce(ctx context.Context, f *scenarios.Flow, d scenarios.Device, opts RunOptions) *result.Result {
	s := newSession(r, ctx, f, d, opts)
	defer s.close()
	res := s.run()
	if res.Success && opts.Export != nil {
		// Before the redaction: the state is the agent's, never the
		// result's; and before close, while the tab is there.
		if st, err := s.exportState(res); err != nil {
			r.logger().Warn("keeping the session of a login flow failed", "flow", f.Name, "device", d.Name, "err", f.Mask(err.Error()))
		} else {
			opts.Export(st)
		}
	}
	redact.Result(res, s.f)
	return res
}

// run opens the tab and runs the attempt to its result.
func (s *session) run() *result.Result {
	ctx := s.parent
	runCtx, cancel := context.WithTimeout(ctx, s.f.Timeout)
	s.onClose(cancel)
	s.runCtx = runCtx
	end := s.r.beginPhase("tab")
	if se := s.open(); se != nil {
		end()
		return s.finishEarly(se)
	}
	end()
	failed := s.runMain()
	s.pg.backOnline(s.tab.Ctx) // offline.go
	end = s.r.beginPhase("final-read")
	failed = s.afterTask(failed)
	end()
	if cancelled := s.runFinally(failed); failed == nil {
		// A task that went through and whose clean-up the agent's
		// shutdown cut short is recorded as cancelled: the run was not
		// let to finish.
		failed = cancelled
	}
	defer s.r.beginPhase("finish")()
	return s.finish(failed)
}

// open prepares a tab for the run: a tab of its own, the event tracker,
// the emulation of the device, site access, downloads, dialogs and tabs.
// A failure is the run's, at no step.
func (s *session) open() *scenarios.StepError {
	r, f, d := s.r, s.f, s.d
	s.gen = r.Browser.Generation()
	tab, err := r.Browser.NewTab(s.runCtx)
	if err != nil {
		return r.classify(s.parent, s.runCtx, nil, nil, "opening a tab", err)
	}
	s.onClose(func() { r.Browser.Release(tab) })
	s.tab, s.gen = tab, tab.Generation
	t := chromedp.FromContext(tab.Ctx).Target
	s.ev = newTracker(string(t.TargetID), f.Mask)
	s.ev.record = r.record
	if r.record != nil {
		r.record("main_frame", string(t.TargetID))
	}
	if err := chromedp.Listen(tab.Ctx, s.ev.listen); err != nil {
		return scenarios.Fail(scenarios.KindBrowser, "listening to the tab: %v", err)
	}
	s.hr = r.recordHAR(tab.Ctx, s.ev, f)
	if s.hr != nil {
		s.ev.harBlocked = s.hr.markBlocked
	}
	s.film = r.recordFilmstrip(tab.Ctx, s.ev, f, s.start) // filmstrip.go
	tabRunCtx, stop := mergeCancel(s.runCtx, tab.Ctx)
	s.onClose(stop)
	s.tabRunCtx = tabRunCtx

	// Downloads are the browser's to set, beside the tab's own set-up:
	// both go out at once, a round trip less before the first step.
	type downloads struct {
		dir  string
		stop func()
		err  error
	}
	dl := make(chan downloads, 1)
	go func() {
		dir, stop, err := startDownloads(tabRunCtx, tab.Ctx, s.ev)
		dl <- downloads{dir, stop, err}
	}()
	// Permissions are the browser context's (conditions.go), granted
	// beside the tab's set-up too.
	granted := make(chan error, 1)
	go func() { granted <- grantPermissions(tabRunCtx, tab.Ctx, f.ConditionsOn(d)) }()
	err = setupTab(tabRunCtx, t, f, d, r.Browser.Version(), !tab.Prepared)
	if gerr := <-granted; err == nil {
		err = gerr
	}
	if err == nil {
		err = siteAccess(tabRunCtx, tab.Ctx, t, f, s.ev.markBlocked) // headers.go, request.go, routes.go
	}
	started := <-dl
	s.onClose(started.stop)
	if err != nil {
		return r.classify(s.parent, s.runCtx, tab, s.ev, "preparing the tab", err)
	}
	if started.err != nil {
		return r.classify(s.parent, s.runCtx, tab, s.ev, "preparing the tab for downloads", started.err)
	}
	s.downloadDir = started.dir
	save := func(path string, data []byte) bool { return r.saveArtifact(f, d, path, data) }
	s.pg = &tabPage{t: t, browser: r.Browser, events: s.ev, flow: f, shots: r.screenshotPath(f, d), save: save, runCtx: tabRunCtx, audit: newAuditState(d),
		vars: runVars(f, d, s.start), tabCtx: tab.Ctx, touch: d.Touch,
		baselines: r.baselineSet(f, d)}
	s.onClose(s.pg.closeFrames)
	s.dw = newDialogWatcher(tab.Ctx, t, f, s.ev)
	if err := chromedp.Listen(tab.Ctx, s.dw.listen); err != nil {
		return scenarios.Fail(scenarios.KindBrowser, "listening to the tab: %v", err)
	}
	closeTabs, err := r.watchTabs(tab.Ctx, t, s.pg, s.ev, s.dw, f, d)
	s.onClose(closeTabs)
	if err != nil {
		return scenarios.Fail(scenarios.KindBrowser, "listening to the browser: %v", err)
	}
	return s.applyState() // state.go
}

// runMain runs the flow's steps and returns the failure that ended the
// task, if one did. The task time is the user's: the sum of the steps'
// times, without our tab and emulation set-up, our own work between steps
// (a page's final read before a goto leaves it, the audit, classifying a
// failure) or the steps that are ours (screenshots).
func (s *session) runMain() *stepFailure {
	failed := s.runSteps(s.f.Steps, stepPolicy{ctx: s.tabRunCtx, flowAudit: true})
	var task float64
	for _, st := range s.res.Steps {
		if !st.Cleanup && !st.ProbeWork() {
			task += st.DurationSeconds
		}
	}
	s.taskTime = time.Duration(task * float64(time.Second))
	return failed
}

// afterTask reads the page where the task ended: the last page's vitals
// are final once it has settled; a failure's page is read as it is and
// pictured. Called between the steps and the finally steps, which may
// leave the page.
func (s *session) afterTask(failed *stepFailure) *stepFailure {
	// The task is done: the next run's tab opens beside the reads, which
	// mostly wait for the page's last frames (browser.Refill).
	s.r.Browser.Refill()
	if failed == nil {
		// The next run may start: what is left is a wait (taskdone.go).
		s.taskDone()
		if failed = s.lastRead(); failed == nil { // navbound.go
			s.auditNow(s.tabRunCtx) // the last page, now final (audit.go)
			return nil
		}
		s.auditFor = "" // a page that never stops navigating has no final state to audit
	}
	if why := s.pg.whyNoPicture(failed.StepError); why != "" {
		// A crashed, frozen or cancelled page is neither read nor
		// pictured: what it pushed of its vitals is already in.
		s.noFailureShot(failed.step, why)
		return failed
	}
	// The page where the user gave up is read as it is, without waiting
	// for it to settle. The read also waits for a document that the
	// failing step's navigation is still committing, which Chrome cannot
	// take a screenshot of.
	s.r.finalRead(s.tabRunCtx, s.pg, s.ev, 0)
	if s.r.ArtifactsDir != "" {
		s.failureShot(failed.step)
	}
	// The page where the user gave up is audited as it is, within the
	// run's time: a run that timed out is not audited past its bound.
	s.auditNow(s.tabRunCtx)
	return failed
}

// finishEarly is the result of an attempt that failed before its first
// step: its whole time is set-up.
func (s *session) finishEarly(se *scenarios.StepError) *result.Result {
	s.noFailureShot("", "the run failed before its first step, with no page to picture")
	s.fail("", se)
	s.r.recoverBrowser(s.gen)
	if s.dw != nil {
		s.res.Dialogs = s.dw.result()
	}
	s.res.SetupSeconds = time.Since(s.start).Seconds()
	s.res.RoundTimes()
	return s.res
}

// finish builds the result of an attempt that ran its steps.
func (s *session) finish(failed *stepFailure) *result.Result {
	r, f, d, res, pg := s.r, s.f, s.d, s.res, s.pg
	res.DurationSeconds = s.taskTime.Seconds()
	switch {
	case failed == nil:
		res.Success = true
	case failed.Kind == scenarios.KindBrowser:
		s.fail(failed.step, failed.StepError)
		s.ev.unread()
		r.recoverBrowser(s.tab.Generation)
	default:
		s.fail(failed.step, failed.StepError)
	}
	res.Dialogs = s.dw.result()
	res.Screenshots = append(res.Screenshots, pg.taken...)
	s.ev.collect(res, s.marks)
	pg.audit.record(res)
	r.saveHAR(s.hr, res, f, d)
	r.saveFilmstrip(s.film, res, f, d)
	if f.KeepDownloads {
		r.keepDownloads(f, d, s.downloadDir, s.ev, res)
	}
	res.SetupSeconds = max(time.Since(s.start).Seconds()-res.DurationSeconds, 0)
	res.RoundTimes()
	return res
}

// fail records the run's failure.
func (s *session) fail(step string, se *scenarios.StepError) {
	s.res.Success = false
	s.res.Error = &result.Error{Step: step, Kind: se.Kind, Message: se.Message, ScreenshotError: s.shotErr}
}
