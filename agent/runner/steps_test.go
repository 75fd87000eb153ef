package runner

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// checkTimesRounded fails on a time of the result that is not a whole
// number of microseconds: float noise from sums of milliseconds
// (0.34620000000018625) must not reach the result.
func checkTimesRounded(t *testing.T, res *result.Result) {
	t.Helper()
	check := func(what string, v *float64) {
		if v != nil && math.Round(*v*1e6)/1e6 != *v {
			t.Errorf("%s = %v is not rounded to the microsecond", what, *v)
		}
	}
	check("duration_seconds", &res.DurationSeconds)
	check("setup_seconds", &res.SetupSeconds)
	for _, s := range res.Steps {
		check("step "+s.Name+" duration_seconds", &s.DurationSeconds)
		check("step "+s.Name+" interaction_seconds", s.InteractionSeconds)
	}
	for i, p := range res.Pages {
		for name, v := range map[string]*float64{"ttfb": p.TTFBSeconds, "dcl": p.DOMContentLoadedSeconds, "load": p.LoadSeconds,
			"fcp": p.FCPSeconds, "lcp": p.LCPSeconds, "inp": p.INPSeconds, "tbt": p.TBTSeconds, "observed": p.ObservedSeconds} {
			check(fmt.Sprintf("page %d %s", i, name), v)
		}
	}
}

func cleanupSteps(res *result.Result) []result.Step {
	var out []result.Step
	for _, s := range res.Steps {
		if s.Cleanup {
			out = append(out, s)
		}
	}
	return out
}

// TestFinallyHasTheStepsBounds: the finally steps run in the same loop as
// the steps, with the same bounds: a redirect loop ends the step at its cap
// instead of waiting out the step's timeout with a growing result; an audit
// step files its findings under its own name; a goto reads the page it
// leaves first, so that the page's late LCP is in its vitals.
func TestFinallyHasTheStepsBounds(t *testing.T) {
	t.Parallel()
	hostile := hostileSite(t)
	audits := auditSite(t)
	vitals := lateHeroSite(t)

	t.Run("redirect loop", func(t *testing.T) {
		t.Parallel()
		f := mustFlow(t, "name: loop\ntimeout: 10s\nsteps:\n  - goto: "+hostile.URL+"/ok\nfinally:\n  - goto: "+hostile.URL+"/meta-loop\n  - wait_for: h2\n    timeout: 1m\n  - goto: "+hostile.URL+"/ok\n")
		res := (&Runner{Browser: testBrowser}).Run(context.Background(), f, desktop(t))
		if !res.Success {
			t.Fatalf("a failed cleanup changed the outcome: %+v", res.Error)
		}
		cs := cleanupSteps(res)
		if len(cs) != 3 {
			t.Fatalf("cleanup steps %+v", cs)
		}
		want := fmt.Sprintf("redirect loop: %d navigations in step %s", maxNavsPerStep, cs[1].Name)
		if cs[1].Success || cs[1].Error != want {
			t.Errorf("looping cleanup step: success %v, error %q; want %q", cs[1].Success, cs[1].Error, want)
		}
		if !cs[2].Success {
			t.Errorf("the cleanup step after the loop: %+v", cs[2])
		}
		// The page goes on looping until the next step leaves it, so only
		// the list of pages kept is bounded here.
		if len(res.Pages) > maxPages {
			t.Errorf("%d pages kept", len(res.Pages))
		}
		checkTimesRounded(t, res)
	})
	t.Run("audit step", func(t *testing.T) {
		t.Parallel()
		f := mustFlow(t, "name: a\ntimeout: 20s\nsteps:\n  - name: home\n    goto: "+audits.URL+"/\nfinally:\n  - goto: "+audits.URL+"/promo\n  - name: final-check\n    audit: all\n")
		res := (&Runner{Browser: testBrowser}).Run(context.Background(), f, lookup(t, "mobile"))
		if !res.Success {
			t.Fatalf("run: %+v", res.Error)
		}
		if got := findingRules(res.Findings); fmt.Sprint(got) != "[final-check:horizontal-overflow]" {
			t.Errorf("findings %v, want the overflow filed under the audit step final-check", got)
		}
		checkTimesRounded(t, res)
	})
	t.Run("goto reads the page it leaves", func(t *testing.T) {
		t.Parallel()
		f := mustFlow(t, "name: two\nsteps:\n  - goto: "+vitals.URL+"/next\nfinally:\n  - goto: "+vitals.URL+"/\n  - goto: "+vitals.URL+"/next\n")
		res := (&Runner{Browser: testBrowser}).Run(context.Background(), f, desktop(t))
		if !res.Success || len(res.Pages) != 3 {
			t.Fatalf("run: %+v", res)
		}
		left := res.Pages[1]
		if !strings.HasPrefix(left.Step, "finally-") || left.LCPElement != "img#hero" || left.LCPFinal == nil || !*left.LCPFinal {
			t.Errorf("the page the finally goto left (step %q): lcp_element %q, lcp_final %s; want the hero that arrived before it was left, final",
				left.Step, left.LCPElement, show(left.LCPFinal))
		}
		checkTimesRounded(t, res)
	})
}

// TestRendererCrashDuringExtractFailsFast: a renderer that dies during an
// extract's evaluation never answers it; the step fails at once as a page
// crash instead of waiting out its timeout. The test crashes the renderer
// itself (Page.crash) once the extract's evaluation is under way.
func TestRendererCrashDuringExtractFailsFast(t *testing.T) {
	t.Parallel()
	evaluating := make(chan struct{}, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><title>crash me</title><h1>crash me</h1>`)
	})
	mux.HandleFunc("/evaluating", func(w http.ResponseWriter, r *http.Request) {
		select {
		case evaluating <- struct{}{}:
		default:
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	const stepTimeout = 90 * time.Second
	f := mustFlow(t, "name: crash\ntimeout: 2m\nsteps:\n  - goto: "+srv.URL+"/\n"+
		"  - extract: {var: x, eval: \"fetch('/evaluating').then(() => new Promise(() => {}))\"}\n    timeout: 90s\n")
	crashed := make(chan struct{})
	go func() {
		defer close(crashed)
		select {
		case <-evaluating:
		case <-time.After(time.Minute):
			return
		}
		crashTab(t, srv.URL+"/")
	}()
	res := (&Runner{Browser: testBrowser}).Run(context.Background(), f, desktop(t))
	<-crashed
	checkOutcome(t, res, scenarios.KindPageCrash, "the page crashed during step 2-extract")
	// The bug waited the whole 90 s; a crash is seen at once.
	if d := res.Steps[1].DurationSeconds; d > (stepTimeout / 3).Seconds() {
		t.Errorf("the extract took %.1fs to fail after the crash; its timeout is %s", d, stepTimeout)
	}
}

// crashTab crashes the renderer of the page target at url, as a renderer
// that died would.
func crashTab(t *testing.T, url string) {
	ctx := testBrowser.Context()
	infos, err := cdp.Call(ctx, chromedp.FromContext(ctx).Browser, target.GetTargets, target.GetTargetsParams{})
	if err != nil {
		t.Errorf("listing targets: %v", err)
		return
	}
	for _, info := range infos.TargetInfos {
		if info.Type != "page" || info.URL != url {
			continue
		}
		tctx, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(info.TargetID), chromedp.WithDetachOnCancel())
		defer cancel()
		if err := chromedp.Do(tctx); err != nil {
			t.Errorf("attaching to the tab: %v", err)
			return
		}
		callCtx, cancelCall := context.WithTimeout(tctx, 5*time.Second)
		defer cancelCall()
		// No answer is expected: the crash cuts it off.
		_, _ = cdp.Call(callCtx, chromedp.FromContext(tctx).Target, page.Crash, cdp.Empty{})
		return
	}
	t.Errorf("no page target at %s", url)
}
