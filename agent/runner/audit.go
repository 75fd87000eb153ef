package runner

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/uxprobe/uxprobe/agent/audit"
	"github.com/uxprobe/uxprobe/agent/redact"
	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/agent/runner/bridge"
	"github.com/uxprobe/uxprobe/scenarios"
)

// auditState is what a run's audits found so far.
type auditState struct {
	device   scenarios.Device
	findings []result.Finding
	// needsReview are what axe-core could not decide: kept apart, never
	// findings, so that they fail nothing.
	needsReview []result.Finding
	checked     []string
	// pages are the URLs the flow-level audit has done: a page the flow
	// opens again is not counted twice.
	pages map[string]bool
	// step is the step being run, for the findings of its audit.
	step string
	// world is the isolated world axe-core runs in (auditWorld).
	world isolatedWorld
}

// isolatedWorld is an isolated world of a tab's main frame, for the
// document the frame held when it was made: a world dies with its
// document, and a context id of a dead one may be reused by another
// renderer process after a navigation, so the id goes with the target and
// the document's loader it was made for.
type isolatedWorld struct {
	t      *chromedp.Target
	loader cdp.LoaderID
	id     runtime.ExecutionContextID
}

func newAuditState(d scenarios.Device) *auditState {
	return &auditState{device: d, findings: []result.Finding{}, pages: map[string]bool{}}
}

// pageEval lets the audit engine evaluate in the tab through the page's
// call, which survives navigations and a missing helper.
type pageEval struct{ p *tabPage }

func (e pageEval) Evaluate(ctx context.Context, expr string, out any) error {
	return e.p.call(ctx, expr, out)
}

var _ audit.IsolatedEvaluator = pageEval{}

// EvaluateIsolated evaluates in the isolated world of the tab's main frame
// that the audit keeps for the current document: axe-core goes there, out
// of the reach of the page's scripts (a page that defines window.axe, or
// patches the DOM's methods, cannot change what the audit finds). A world
// that went away with its document (a navigation during the audit) is
// made again for the new one, a few times at most.
func (e pageEval) EvaluateIsolated(ctx context.Context, expr string, out any) error {
	p := e.p
	for attempt := 0; ; attempt++ {
		id, err := p.auditWorld(ctx)
		if err != nil {
			return err
		}
		params := bridge.ByValue(bridge.Expr(expr))
		params.ContextID = id
		res, err := p.evaluate(ctx, params)
		text := ""
		if err != nil {
			text = err.Error()
		} else if res.ExceptionDetails != nil {
			text = bridge.ExceptionText(res.ExceptionDetails)
		}
		if text != "" && bridge.ContextGone(text) && ctx.Err() == nil && attempt < 3 {
			p.audit.world = isolatedWorld{}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
			continue
		}
		if err != nil {
			return p.wrap(ctx, err)
		}
		p.answered.Store(true)
		if res.ExceptionDetails != nil {
			return scenarios.Fail(scenarios.KindScript, "%s", text)
		}
		return bridge.Decode(res, out)
	}
}

// auditWorld returns the isolated world of the tab's current document,
// made on first use in each document.
func (p *tabPage) auditWorld(ctx context.Context) (runtime.ExecutionContextID, error) {
	tree, err := cdp.Call(ctx, p.t, page.GetFrameTree, cdp.Empty{})
	if err != nil {
		return 0, p.wrap(ctx, err)
	}
	if tree.FrameTree == nil || tree.FrameTree.Frame == nil {
		return 0, scenarios.Fail(scenarios.KindBrowser, "the tab has no main frame")
	}
	fr := tree.FrameTree.Frame
	if w := p.audit.world; w.t == p.t && w.loader == fr.LoaderID && w.id != 0 {
		return w.id, nil
	}
	w, err := cdp.Call(ctx, p.t, page.CreateIsolatedWorld, page.CreateIsolatedWorldParams{FrameID: fr.ID, WorldName: "uxprobe-audit"})
	if err != nil {
		return 0, p.wrap(ctx, err)
	}
	p.audit.world = isolatedWorld{t: p.t, loader: fr.LoaderID, id: w.ExecutionContextID}
	return w.ExecutionContextID, nil
}

// runAudit audits the current page and records the findings under step.
func (p *tabPage) runAudit(ctx context.Context, rules []string, step string) ([]result.Finding, error) {
	rep, err := audit.Run(ctx, pageEval{p}, p.audit.device.Class, rules)
	if err != nil {
		return nil, err
	}
	found := make([]result.Finding, 0, len(rep.Findings))
	for _, f := range rep.Findings {
		f.Step = step
		found = append(found, f)
	}
	p.audit.findings = append(p.audit.findings, found...)
	for _, f := range rep.NeedsReview {
		f.Step = step
		p.audit.needsReview = append(p.audit.needsReview, f)
	}
	for _, name := range rep.Checked {
		if !slices.Contains(p.audit.checked, name) {
			p.audit.checked = append(p.audit.checked, name)
		}
	}
	return found, nil
}

// Audit implements scenarios.Page.
func (p *tabPage) Audit(ctx context.Context, rules []string, fail bool) error {
	found, err := p.runAudit(ctx, rules, p.audit.step)
	if err != nil || !fail || len(found) == 0 {
		return err
	}
	// The picture with the examples outlined is what a designer opens
	// first; the boxes come off again, an optional step lets the flow go
	// on. It gets the run's context: the step's may be nearly spent.
	shotCtx, cancel := context.WithTimeout(p.runCtx, 5*time.Second)
	defer cancel()
	if audit.Outline(shotCtx, pageEval{p}, found) == nil {
		_ = p.Screenshot(shotCtx, "audit-"+p.audit.step) // best effort: no artifacts directory means no picture
		_ = audit.ClearOutline(shotCtx, pageEval{p})
	}
	return scenarios.Fail(scenarios.KindAudit, "%s", audit.Summary(found))
}

// The flow-level audit of a page waits until the page is final, as the
// final read of its vitals does: before a goto leaves it and at the end of
// the task, after that read, so that lazy-lcp sees the page's real LCP and
// the other rules the page as the user saw it, with what its scripts added
// after the load event. A step that may leave the page some other way (a
// click, a key, a script) cannot wait for that: the page is audited just
// before it, as late as it is known to be there.

// auditLater marks the page the step opened as awaiting its flow-level
// audit, whose findings go under that step. A step that loaded a document
// and failed leaves no page to audit: the one awaiting was left.
func (s *session) auditLater(step string, navigated bool, pol stepPolicy) {
	if !navigated {
		return
	}
	s.auditFor = ""
	if pol.flowAudit && step != "" && len(s.f.Audit) > 0 {
		s.auditFor = step
	}
}

// auditNow runs the flow-level audit of the current page if it awaits one.
func (s *session) auditNow(ctx context.Context) {
	if s.auditFor == "" {
		return
	}
	step := s.auditFor
	s.auditFor = ""
	if ctx.Err() != nil {
		return
	}
	s.r.flowAudit(ctx, s.pg, s.f, step)
}

// staysOnPage says whether an action leaves the page where it is: waits,
// assertions and reads, and the input that fills a form without sending
// it. The audit of a page awaiting one is put off past them, to its final
// read; any other action may take the user to another page.
func staysOnPage(a scenarios.Action) bool {
	switch a.(type) {
	case scenarios.Sleep, scenarios.WaitFor, scenarios.AssertVisible, scenarios.AssertText, scenarios.AssertURL,
		scenarios.AssertTitle, scenarios.Screenshot, scenarios.AssertScreenshot, scenarios.Audit, scenarios.Extract,
		scenarios.Request, scenarios.ScrollTo, scenarios.Hover, scenarios.Fill, scenarios.Type:
		return true
	}
	return false
}

// flowAudit runs the flow-level audit on the current page, opened by step,
// if the audit has not seen its URL. Its findings never fail the run.
func (r *Runner) flowAudit(ctx context.Context, pg *tabPage, f *scenarios.Flow, step string) {
	if len(f.Audit) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, flowAuditTimeout(f.Audit))
	defer cancel()
	var url string
	if err := pg.call(ctx, string(bridge.Location()), &url); err != nil || pg.audit.pages[url] {
		return
	}
	pg.audit.pages[url] = true
	if _, err := pg.runAudit(ctx, f.Audit, step); err != nil {
		r.logger().Warn("audit of the page", "flow", f.Name, "device", pg.audit.device.Name, "step", step, "err", redact.String(err.Error(), f, 0))
	}
}

// flowAuditTimeout bounds the flow-level audit of one page: the page rules
// take tens of milliseconds, but axe-core's colour-contrast rule alone takes
// seconds on a page of thousands of elements (BenchmarkAxe: about 5 s for
// 5,000 on a loaded 2-core machine).
func flowAuditTimeout(rules []string) time.Duration {
	if slices.ContainsFunc(rules, scenarios.IsAccessibilityRule) {
		return 20 * time.Second
	}
	return 5 * time.Second
}

// recordAudit puts what the run's audits found into the result, in the
// order of the steps they are filed under: a page's flow-level audit runs
// when the page is final, after the steps that stayed on it (an audit
// step among them), but its findings are the step's that opened it.
func (a *auditState) record(res *result.Result) {
	at := map[string]int{}
	for i, st := range res.Steps {
		if _, ok := at[st.Name]; !ok {
			at[st.Name] = i
		}
	}
	byStep := func(x, y result.Finding) int { return cmp.Compare(at[x.Step], at[y.Step]) }
	slices.SortStableFunc(a.findings, byStep)
	slices.SortStableFunc(a.needsReview, byStep)
	res.Findings = append(res.Findings, a.findings...)
	res.NeedsReview = append(res.NeedsReview, a.needsReview...)
	if len(a.checked) > 0 {
		// In the table's order, whatever order the audits ran in.
		for _, name := range scenarios.AuditRuleNames() {
			if slices.Contains(a.checked, name) {
				res.AuditedRules = append(res.AuditedRules, name)
			}
		}
	}
}
