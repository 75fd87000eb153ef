// Package runner drives a real Chrome tab through a flow on a device and
// returns what the user experienced: success, task time, per-step times,
// per-page web vitals and what went wrong.
package runner

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/css"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"golang.org/x/sync/errgroup"

	"github.com/uxprobe/uxprobe/agent/browser"
	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/agent/runner/bridge"
	"github.com/uxprobe/uxprobe/scenarios"
)

// Runner runs flows in one shared Chrome, each run in its own tab and
// browser context. It is safe for concurrent use.
type Runner struct {
	Browser *browser.Browser
	// ArtifactsDir receives screenshots, those of screenshot steps and one
	// at each failure. Empty writes none, and a screenshot step fails.
	ArtifactsDir string
	Logger       *slog.Logger
	// Progress, if set, hears each step as it starts, for live displays.
	Progress func(flow, device, step string)
	// HAR says when to write the run's requests as a HAR file beside its
	// screenshots (see har.go); the zero value writes none.
	HAR HARMode
	// Filmstrip says when to keep the run's screencast frames beside its
	// screenshots (see filmstrip.go); the zero value records none.
	Filmstrip FilmstripMode
	// OnArtifactError, if set, hears each artifact that could not be
	// written, for the artifact errors metric.
	OnArtifactError func()
	// VitalsSettle bounds the wait for a page to settle before its vitals
	// are final (--vitals.settle); zero means DefaultVitalsSettle, a
	// negative value reads at once. A flow's vitals_settle overrides it.
	VitalsSettle time.Duration
	// Baselines is the directory of assert_screenshot's baselines, as
	// <flow>/<device>/<name>.png (--baselines); empty fails those steps.
	// UpdateBaselines makes every picture the baseline (uxprobe check
	// --update-baselines).
	Baselines       string
	UpdateBaselines bool

	// record, set by tests only, hears what pagelog folds (the tabs' and
	// the browser's events, the step changes, the steps' input marks), to
	// record event sequences for pagelog's Chrome-free tests.
	record func(kind string, v any)
	// phase, set by benchmarks only, hears each phase of a run begin,
	// the tab ("tab"), the final read ("final-read") and the result
	// ("finish"), and returns what hears it end.
	phase func(name string) (end func())
}

// beginPhase tells the phase hook, if any, that a phase begins, and
// returns what ends it.
func (r *Runner) beginPhase(name string) (end func()) {
	if r.phase == nil {
		return func() {}
	}
	return r.phase(name)
}

// Run runs the flow on the device, with the flow's retries, and never
// panics or returns without a result: a broken browser is a recorded
// failure of kind browser.
func (r *Runner) Run(ctx context.Context, f *scenarios.Flow, d scenarios.Device) *result.Result {
	return r.RunWith(ctx, f, d, RunOptions{})
}

// RunWith is Run with what this run adds to the flow: a starting state,
// and a request to export the state after a success (state.go).
func (r *Runner) RunWith(ctx context.Context, f *scenarios.Flow, d scenarios.Device, opts RunOptions) *result.Result {
	// The next warm tab gets the helper while no run waits for it.
	r.Browser.SetPrepare(prepareTab)
	var res *result.Result
	for attempt := 1; attempt <= f.Retries+1; attempt++ {
		actx := ctx
		if attempt <= f.Retries {
			// A retry may follow: its task is not over (taskdone.go).
			actx = WithTaskDone(ctx, nil)
		}
		res = r.runOnce(actx, f, d, opts)
		res.Attempts = attempt
		if res.Success || ctx.Err() != nil || res.Outcome() == result.OutcomeError {
			break
		}
	}
	return res
}

func (r *Runner) logger() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}

func describeStep(st scenarios.Step) string { return "step " + st.Name }

// pageGone reports whether a failure left no page to read from: nothing
// after it (vitals, later steps, a screenshot) could get an answer.
func pageGone(k scenarios.ErrorKind) bool {
	return k == scenarios.KindBrowser || k == scenarios.KindPageCrash
}

// classify turns any error of a step into a StepError. Deadlines become
// timeouts that say whose deadline it was; a parent context that ended means
// the agent cancelled the run; a dead browser is a browser error.
func (r *Runner) classify(parent, runCtx context.Context, tab *browser.Tab, ev *tracker, what string, err error) *scenarios.StepError {
	// Whatever a step made of it, a Chrome that died or hung under it is
	// our failure, not the site's: an unanswered read is no observation.
	if parent.Err() == nil && tab != nil && (tab.Ctx.Err() != nil || r.Browser.Generation() != tab.Generation) {
		why := r.Browser.LostReason(tab.Generation)
		if why == "" {
			why = "Chrome stopped responding"
		}
		return scenarios.Fail(scenarios.KindBrowser, "%s during %s", why, what)
	}
	// A renderer that died while Chrome answers is the page's doing; a
	// crash during a page load looks like a load that never finishes.
	if parent.Err() == nil && (ev != nil && ev.isCrashed()) {
		if r.Browser.Alive(context.Background()) {
			return scenarios.Fail(scenarios.KindPageCrash, "the page crashed during %s (its renderer died; Chrome stayed up)", what)
		}
		return scenarios.Fail(scenarios.KindBrowser, "Chrome stopped responding during %s", what)
	}
	se := scenarios.AsStepError(err)
	if se == nil || se.Kind == scenarios.KindTimeout || se.Kind == scenarios.KindElementNotFound {
		if parent.Err() == nil && !r.Browser.Alive(context.Background()) {
			return scenarios.Fail(scenarios.KindBrowser, "Chrome stopped responding during %s", what)
		}
	}
	if se != nil {
		switch {
		case se.Kind == scenarios.KindBrowser || se.Kind == scenarios.KindScript || se.Kind == scenarios.KindNavigation:
		case parent.Err() != nil:
			return scenarios.Fail(scenarios.KindCancelled, "the run was cancelled during %s", what)
		case runCtx.Err() != nil:
			return scenarios.Fail(scenarios.KindTimeout, "the flow's timeout ran out during %s: %s", what, se.Message)
		}
		return se
	}
	switch {
	case parent.Err() != nil:
		return scenarios.Fail(scenarios.KindCancelled, "the run was cancelled during %s", what)
	case errors.Is(err, context.DeadlineExceeded) && runCtx.Err() != nil:
		return scenarios.Fail(scenarios.KindTimeout, "the flow's timeout ran out during %s: %v", what, err)
	case errors.Is(err, context.DeadlineExceeded):
		return scenarios.Fail(scenarios.KindTimeout, "%s timed out: %v", what, err)
	default:
		return scenarios.Fail(scenarios.KindBrowser, "%s: %v", what, err)
	}
}

// recoverBrowser restarts Chrome when it is dead, so the next run works.
func (r *Runner) recoverBrowser(gen int) {
	if r.Browser.Alive(context.Background()) {
		return
	}
	if err := r.Browser.Restart(gen); err != nil {
		r.logger().Error("restarting Chrome", "err", err)
	} else {
		r.logger().Warn("Chrome was restarted after it stopped responding")
	}
}

// setup emulates the device, the user's conditions, network and CPU, and installs the helper. The
// commands are independent of one another, so they go out concurrently:
// sequential round trips are most of a tab's fixed cost.
func setup(ctx context.Context, t *chromedp.Target, f *scenarios.Flow, d scenarios.Device, chromeVersion string) error {
	return setupTab(ctx, t, f, d, chromeVersion, true)
}

// prepareTab is the part of setup that is the same for every run, done by
// the browser to a warm tab ahead of need (browser.SetPrepare).
func prepareTab(ctx context.Context, tab *browser.Tab) error {
	g, ctx := errgroup.WithContext(ctx)
	installHelper(ctx, g, chromedp.FromContext(tab.Ctx).Target)
	return g.Wait()
}

// setupTab is setup, with the helper's installation only if withHelper
// (a tab that prepareTab prepared has it).
func setupTab(ctx context.Context, t *chromedp.Target, f *scenarios.Flow, d scenarios.Device, chromeVersion string, withHelper bool) error {
	g, ctx := errgroup.WithContext(ctx)
	call := func(fn func() error) { g.Go(fn) }
	call(func() error {
		_, err := cdp.Call(ctx, t, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: d.Width, Height: d.Height, DeviceScaleFactor: d.Scale, Mobile: d.Mobile,
			ScreenWidth: d.Width, ScreenHeight: d.Height,
		})
		return err
	})
	if d.Touch {
		call(func() error {
			_, err := cdp.Call(ctx, t, emulation.SetTouchEmulationEnabled, emulation.SetTouchEmulationEnabledParams{Enabled: true, MaxTouchPoints: 5})
			return err
		})
	}
	conds := f.ConditionsOn(d)
	for _, fn := range conditionCalls(ctx, t, conds) { // conditions.go
		call(fn)
	}
	if ua := withAcceptLanguage(userAgentOverride(d, chromeVersion), conds.Locale); ua != nil {
		call(func() error {
			_, err := cdp.Call(ctx, t, emulation.SetUserAgentOverride, *ua)
			return err
		})
	}
	if f.Network.Throttled() {
		call(func() error {
			// cdproto no longer generates Network.emulateNetworkConditions,
			// but Chrome still applies it to the whole page, which its
			// rule-based successor did not here.
			params := map[string]any{
				"offline": false, "latency": f.Network.LatencyMillis,
				"downloadThroughput": f.Network.DownloadBytesPerSec, "uploadThroughput": f.Network.UploadBytesPerSec,
			}
			err := t.Call(ctx, "Network.emulateNetworkConditions", params, nil)
			return err
		})
	}
	if f.CPUSlowdown > 1 {
		call(func() error {
			_, err := cdp.Call(ctx, t, emulation.SetCPUThrottlingRate, emulation.SetCPUThrottlingRateParams{Rate: f.CPUSlowdown})
			return err
		})
	}
	if withHelper {
		installHelper(ctx, g, t)
	}
	return g.Wait()
}

// installHelper adds the page bridge's binding and bundle to every new
// document of the tab, and turns off the domains chromedp enabled that the
// runner does not use.
func installHelper(ctx context.Context, g *errgroup.Group, t *chromedp.Target) {
	g.Go(func() error {
		// Before the helper, which takes the binding when it starts.
		_, err := cdp.Call(ctx, t, runtime.AddBinding, runtime.AddBindingParams{Name: reportBinding})
		if err != nil {
			return err
		}
		_, err = cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: bridge.Bundle()})
		return err
	})
	// chromedp enables DOM, CSS and Log for its node-based queries; ours run
	// in the page, so those domains would only make Chrome track every node
	// and style sheet, and chromedp re-read the document on each update.
	for _, method := range []string{dom.CommandDisable, css.CommandDisable, log.CommandDisable} {
		g.Go(func() error {
			_ = t.Call(ctx, method, nil, nil) // best effort: a domain left on costs time, not truth
			return nil
		})
	}
}

// mergeCancel returns a context that ends when either a or b ends.
func mergeCancel(a, b context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(a)
	stop := context.AfterFunc(b, cancel)
	return ctx, func() { stop(); cancel() }
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// screenshotPath names screenshots <dir>/<flow>/<device>/<name>.png. The
// same name is overwritten by the next run, so an agent that runs for months
// keeps a bounded set: the latest picture of each. Names come from the flow
// file and pass through the flow's mask, so a secret never becomes part of a
// file name.
func (r *Runner) screenshotPath(f *scenarios.Flow, d scenarios.Device) func(string) (string, error) {
	return func(name string) (string, error) {
		if r.ArtifactsDir == "" {
			return "", errors.New("no artifacts directory (--artifacts) to save screenshots in")
		}
		safe := func(s string) string { return safeName(f, s) }
		file := safe(name) + ".png"
		return filepath.Join(r.ArtifactsDir, safe(f.Name), safe(d.Name), file), nil
	}
}

// safeName makes s a file name: masked, with anything but letters, digits,
// dots, dashes and underscores replaced.
func safeName(f *scenarios.Flow, s string) string {
	s = strings.Trim(unsafeChars.ReplaceAllString(f.Mask(s), "_"), "_")
	if strings.Trim(s, ".") == "" {
		return "_" // "", "." and ".." name no file of their own
	}
	return s
}
