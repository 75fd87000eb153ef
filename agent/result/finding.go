package result

import (
	"slices"
	"strings"
)

// Finding is what one audit rule found on one page: the record a designer
// reads to fix it.
type Finding struct {
	Rule string `json:"rule"`
	// Step is the step whose audit found it: an audit step, or for the
	// flow-level audit the step that opened the page.
	Step    string `json:"step"`
	URL     string `json:"url"`
	Count   int    `json:"count"`
	Message string `json:"message"`
	// Examples are up to five elements at fault (none for a rule about the
	// page as a whole, such as a missing Help link).
	Examples []Example `json:"examples"`
	// Impact, WCAG and HelpURL are axe-core's, for the a11y-<id> rules:
	// minor, moderate, serious or critical; the success criteria ("1.4.3");
	// the rule's page at Deque.
	Impact  string   `json:"impact,omitempty"`
	WCAG    []string `json:"wcag,omitempty"`
	HelpURL string   `json:"help_url,omitempty"`
}

// Example is one element at fault, with its rectangle in CSS px from the
// top left corner of the document.
type Example struct {
	Selector string  `json:"selector"`
	X        float64 `json:"x"`
	Y        float64 `json:"y"`
	Width    float64 `json:"width"`
	Height   float64 `json:"height"`
}

// FindingsByRule sums the findings' counts per rule over the pages, with a
// 0 for every rule that was audited and found nothing, so that a clean rule
// is told apart from one that was not checked. A page audited twice (by the
// flow-level audit and by an audit step) counts once, with its larger count.
func (r *Result) FindingsByRule() map[string]int {
	if len(r.AuditedRules) == 0 && len(r.Findings) == 0 {
		return nil
	}
	m := make(map[string]int, len(r.AuditedRules))
	for _, name := range r.AuditedRules {
		m[name] = 0
	}
	type page struct{ rule, url string }
	most := map[page]int{}
	for _, f := range r.Findings {
		k := page{f.Rule, f.URL}
		most[k] = max(most[k], f.Count)
	}
	for k, n := range most {
		m[k.rule] += n
	}
	// accessibility stands for all of axe's rules: its count is theirs.
	if _, ok := m["accessibility"]; ok {
		for rule, n := range m {
			if strings.HasPrefix(rule, "a11y-") {
				m["accessibility"] += n
			}
		}
	}
	return m
}

// ViolationsByImpact sums the accessibility findings' counts (elements at
// fault) by axe impact, with a 0 for every impact when accessibility was
// audited; nil when it was not. A page audited twice counts once, as in
// FindingsByRule.
func (r *Result) ViolationsByImpact() map[string]int {
	if !slices.Contains(r.AuditedRules, "accessibility") {
		return nil
	}
	m := map[string]int{"minor": 0, "moderate": 0, "serious": 0, "critical": 0}
	type page struct{ rule, url, impact string }
	most := map[page]int{}
	for _, f := range r.Findings {
		if _, ok := m[f.Impact]; ok && strings.HasPrefix(f.Rule, "a11y-") {
			k := page{f.Rule, f.URL, f.Impact}
			most[k] = max(most[k], f.Count)
		}
	}
	for k, n := range most {
		m[k.impact] += n
	}
	return m
}
