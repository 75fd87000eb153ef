package statuspage

import (
	"slices"
	"strings"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// a11yView is what the accessibility audits (axe-core) of one run found:
// the violations grouped by impact, worst first, and apart from them what
// axe could not decide.
type a11yView struct {
	Groups      []impactGroup
	NeedsReview []a11yFinding
}

// impactGroup is the violations of one axe impact. Elements is the
// elements at fault, counted as uxprobe_accessibility_violations counts
// them (a page audited twice counts once).
type impactGroup struct {
	Impact   string
	Elements int
	Findings []a11yFinding
}

type a11yFinding struct {
	result.Finding
	// Criteria are the WCAG success criteria, as one text ("1.4.3, 4.1.2").
	Criteria string
}

func isA11y(f result.Finding) bool { return strings.HasPrefix(f.Rule, scenarios.A11yPrefix) }

// accessibilityView groups the run's accessibility findings by impact;
// nil when accessibility was not audited, so that "audited, nothing
// found" (no groups) differs from "not audited" (no section).
func accessibilityView(r *result.Result) *a11yView {
	audited := slices.Contains(r.AuditedRules, scenarios.Accessibility)
	v := &a11yView{}
	byImpact := r.ViolationsByImpact()
	for i := len(scenarios.AxeImpacts) - 1; i >= 0; i-- {
		impact := scenarios.AxeImpacts[i]
		g := impactGroup{Impact: impact, Elements: byImpact[impact]}
		for _, f := range r.Findings {
			if isA11y(f) && f.Impact == impact {
				g.Findings = append(g.Findings, a11yFinding{f, strings.Join(f.WCAG, ", ")})
			}
		}
		if len(g.Findings) > 0 {
			audited = true
			slices.SortStableFunc(g.Findings, func(a, b a11yFinding) int { return b.Count - a.Count })
			v.Groups = append(v.Groups, g)
		}
	}
	// A finding of an impact axe does not name still shows.
	other := impactGroup{Impact: "unrated"}
	for _, f := range r.Findings {
		if isA11y(f) && !slices.Contains(scenarios.AxeImpacts, f.Impact) {
			other.Findings = append(other.Findings, a11yFinding{f, strings.Join(f.WCAG, ", ")})
			other.Elements += f.Count
		}
	}
	if len(other.Findings) > 0 {
		audited = true
		v.Groups = append(v.Groups, other)
	}
	for _, f := range r.NeedsReview {
		v.NeedsReview = append(v.NeedsReview, a11yFinding{f, strings.Join(f.WCAG, ", ")})
	}
	if !audited && len(v.NeedsReview) == 0 {
		return nil
	}
	return v
}
