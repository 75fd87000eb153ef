// Package audit checks a page for mobile UX defects: content wider than the
// screen, targets too small for a finger, unreadable text, a missing or
// zoom-blocking viewport, no Help link in sight, images that shift the
// layout, a lazily loaded largest paint; and for accessibility barriers
// with axe-core (the accessibility and a11y-<axe id> rules). The rules are
// scenarios' table; the checks run in the page as one script, and axe-core
// is injected only where an accessibility rule runs, through whatever can
// evaluate JavaScript there (the runner's tab).
package audit

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

//go:embed audit.js
var auditJS string

//go:embed outline.js
var outlineJS string

// MaxExamples is how many elements a finding names at most: enough to show
// the pattern, few enough to read.
const MaxExamples = 5

// Evaluator evaluates a JavaScript expression in the page, awaits it if it
// is a promise, and decodes its JSON value into out.
type Evaluator interface {
	Evaluate(ctx context.Context, expr string, out any) error
}

// IsolatedEvaluator is an Evaluator that can also evaluate in an isolated
// world of the page's main frame: the same DOM, but globals and built-ins
// of its own, out of the page's scripts' reach, kept for the document's
// life. axe-core runs there when the Evaluator offers one, so that a page
// cannot replace window.axe, its results or the DOM methods it calls; the
// page rules stay in the page's world, where the runner's helper is.
type IsolatedEvaluator interface {
	Evaluator
	EvaluateIsolated(ctx context.Context, expr string, out any) error
}

// Report is one audit of one page.
type Report struct {
	URL string
	// Checked are the rules that ran, found something or not.
	Checked []string
	// Findings have no Step: the caller knows it.
	Findings []result.Finding
	// NeedsReview are what axe-core could not decide (its incomplete
	// results, such as contrast over an image): never findings.
	NeedsReview []result.Finding
	// Errors are rules that could not run on this page, such as on a page
	// whose scripts replaced the browser's built-ins.
	Errors []RuleError
}

// RuleError is a rule that threw in the page.
type RuleError struct {
	Rule  string `json:"rule"`
	Error string `json:"error"`
}

// Applicable returns the page rules (those of the in-page script, not
// axe-core's) among names that apply on devices of the class, in the
// table's order; no names means every page rule. Unknown names are left
// out: the loader has rejected them already.
func Applicable(names []string, class scenarios.DeviceClass) []string {
	var out []string
	for _, r := range scenarios.AuditRules() {
		if scenarios.IsAccessibilityRule(r.Name) {
			continue
		}
		if (len(names) == 0 || slices.Contains(names, r.Name)) && r.AppliesTo(class) {
			out = append(out, r.Name)
		}
	}
	return out
}

type pageReport struct {
	URL      string   `json:"url"`
	Checked  []string `json:"checked"`
	Findings []struct {
		Rule     string           `json:"rule"`
		Count    int              `json:"count"`
		Message  string           `json:"message"`
		Examples []result.Example `json:"examples"`
	} `json:"findings"`
	Errors []RuleError `json:"errors"`
}

// Run audits the current page with the rules that apply on the class; no
// names means every page rule, not accessibility. names may carry the
// audit's min_impact (see scenarios.SplitAuditRules).
func Run(ctx context.Context, ev Evaluator, class scenarios.DeviceClass, names []string) (*Report, error) {
	names, minImpact := scenarios.SplitAuditRules(names)
	rep := &Report{Checked: []string{}, Findings: []result.Finding{}, NeedsReview: []result.Finding{}}
	if err := runPage(ctx, ev, rep, Applicable(names, class)); err != nil {
		return nil, err
	}
	if err := runAxe(ctx, ev, rep, names, minImpact); err != nil {
		return nil, err
	}
	return rep, nil
}

// runPage runs the in-page script's rules.
func runPage(ctx context.Context, ev Evaluator, rep *Report, rules []string) error {
	if len(rules) == 0 {
		return nil
	}
	opts, err := json.Marshal(map[string]any{"rules": rules, "examples": MaxExamples})
	if err != nil {
		return err
	}
	var pr pageReport
	if err := ev.Evaluate(ctx, "("+auditJS+")("+string(opts)+")", &pr); err != nil {
		return err
	}
	rep.URL, rep.Errors = pr.URL, pr.Errors
	// Only names of the table leave the page: rule names become metric
	// labels.
	for _, name := range pr.Checked {
		if slices.Contains(rules, name) {
			rep.Checked = append(rep.Checked, name)
		}
	}
	for _, f := range pr.Findings {
		if !slices.Contains(rep.Checked, f.Rule) {
			continue
		}
		ex := f.Examples
		if len(ex) > MaxExamples {
			ex = ex[:MaxExamples]
		}
		if ex == nil {
			ex = []result.Example{}
		}
		rep.Findings = append(rep.Findings, result.Finding{Rule: f.Rule, URL: pr.URL, Count: f.Count, Message: f.Message, Examples: ex})
	}
	return nil
}

// Summary says in one line what the findings are, for the message of a
// failed audit step: each rule with its count and first elements.
func Summary(findings []result.Finding) string {
	parts := make([]string, 0, len(findings))
	for _, f := range findings {
		s := fmt.Sprintf("%s (%d)", f.Rule, f.Count)
		var sels []string
		for i, e := range f.Examples {
			if i == 3 {
				break
			}
			sels = append(sels, e.Selector)
		}
		if len(sels) > 0 {
			s += ": " + strings.Join(sels, ", ")
		}
		parts = append(parts, s)
	}
	return "the audit found " + strings.Join(parts, "; ")
}

// Outline draws a box around every example of the findings, labelled with
// its rule, for a screenshot; ClearOutline removes the boxes again.
func Outline(ctx context.Context, ev Evaluator, findings []result.Finding) error {
	type box struct {
		Rule string `json:"rule"`
		result.Example
	}
	var boxes []box
	for _, f := range findings {
		for _, e := range f.Examples {
			boxes = append(boxes, box{f.Rule, e})
		}
	}
	arg, err := json.Marshal(boxes)
	if err != nil {
		return err
	}
	return ev.Evaluate(ctx, "("+outlineJS+")("+string(arg)+")", nil)
}

// ClearOutline removes what Outline drew.
func ClearOutline(ctx context.Context, ev Evaluator) error {
	return ev.Evaluate(ctx, "("+outlineJS+")(null)", nil)
}
