package scenarios

import (
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// AuditRule is one check of the mobile UX audit. The names are part of the
// flow format and label the uxprobe_audit_findings metric, so they come only
// from this table and the metric's cardinality stays bounded.
type AuditRule struct {
	Name string
	// On lists the device classes where the rule means something: a
	// viewport meta matters to phones and tablets only.
	On  []DeviceClass
	Doc string
}

var everyClass = []DeviceClass{ClassDesktop, ClassMobile, ClassTablet}
var touchClasses = []DeviceClass{ClassMobile, ClassTablet}

// auditRules is the one list of audit rules, in the order of the reference.
// The engine (agent/audit), the loader, the JSON Schema and the README
// derive from it or are checked against it.
var auditRules = []AuditRule{
	{Name: "horizontal-overflow", On: everyClass, Doc: "the document is wider than the device's screen, so users must scroll sideways; examples are the widest elements that stick out"},
	{Name: "tap-target-size", On: everyClass, Doc: "links, buttons and inputs smaller than 24x24 CSS px whose 24 px circle overlaps another target (WCAG 2.2 AA, 2.5.8, with its inline-text and spacing exceptions)"},
	{Name: "text-size", On: touchClasses, Doc: "more than 40% of the visible text is set below 12 CSS px"},
	{Name: "viewport-meta", On: touchClasses, Doc: "no `<meta name=\"viewport\">` with `width=device-width`"},
	{Name: "zoom-disabled", On: touchClasses, Doc: "the viewport meta forbids zoom (`user-scalable=no`, or `maximum-scale` below 2)"},
	{Name: "help-link", On: everyClass, Doc: "no visible link or button whose text or accessible name says help, support or contact inside the first screen"},
	{Name: "image-dimensions", On: everyClass, Doc: "an `<img>` without width and height attributes or a CSS aspect ratio, which shifts the layout when it loads"},
	{Name: "lazy-lcp", On: everyClass, Doc: "the page's largest contentful paint element is an image with `loading=\"lazy\"`"},
	{Name: Accessibility, On: everyClass, Doc: "axe-core's rules for WCAG 2.0, 2.1 and 2.2 at levels A and AA (best practices off); each violation is a finding `a11y-<axe id>` with its impact and WCAG criteria. Single axe rules are named `a11y-<axe id>`, such as `a11y-color-contrast`. Needs axe-core (see --audit.axe-path)"},
}

// Accessibility is the rule that runs axe-core; A11yPrefix starts the names
// of single axe rules and of the findings of both.
const (
	Accessibility = "accessibility"
	A11yPrefix    = "a11y-"
)

// AxeImpacts are axe-core's impact levels, least first.
var AxeImpacts = []string{"minor", "moderate", "serious", "critical"}

// minImpactPrefix marks the element of an audit's rule list that carries
// min_impact: the runner hands the list to agent/audit as it is, which
// reads it with SplitAuditRules.
const minImpactPrefix = "min_impact="

// SplitAuditRules separates an audit's rule names from its min_impact
// ("minor", every violation, when not given).
func SplitAuditRules(names []string) (rules []string, minImpact string) {
	minImpact = AxeImpacts[0]
	for _, n := range names {
		if v, ok := strings.CutPrefix(n, minImpactPrefix); ok {
			minImpact = v
			continue
		}
		rules = append(rules, n)
	}
	return rules, minImpact
}

// IsAccessibilityRule reports whether the rule runs axe-core.
func IsAccessibilityRule(name string) bool {
	return name == Accessibility || strings.HasPrefix(name, A11yPrefix)
}

// KnownAxeRules returns the rule ids of the pinned axe-core (AxeVersion).
func KnownAxeRules() []string { return slices.Clone(knownAxeRules) }

// IsKnownAxeFinding reports whether a finding's rule names a rule of the
// pinned axe-core, the only ones that may become metric labels.
func IsKnownAxeFinding(rule string) bool {
	id, ok := strings.CutPrefix(rule, A11yPrefix)
	return ok && slices.Contains(knownAxeRules, id)
}

// Axe is what the loader knows of axe-core, the engine of the accessibility
// rules.
type Axe struct {
	// Rules are the rule ids of the axe-core that was found.
	Rules []string
	// Missing, when not empty, says that axe-core was not found and how to
	// install it: a flow naming an accessibility rule is then a load error,
	// and `all` leaves accessibility out.
	Missing string
}

// AuditRules returns the audit rules in the order of the reference.
func AuditRules() []AuditRule {
	out := make([]AuditRule, len(auditRules))
	for i, r := range auditRules {
		r.On = slices.Clone(r.On)
		out[i] = r
	}
	return out
}

// AuditRuleNames lists the names of the audit rules.
func AuditRuleNames() []string {
	names := make([]string, len(auditRules))
	for i, r := range auditRules {
		names[i] = r.Name
	}
	return names
}

// LookupAuditRule returns the rule with the name.
func LookupAuditRule(name string) (AuditRule, bool) {
	i := slices.IndexFunc(auditRules, func(r AuditRule) bool { return r.Name == name })
	if i < 0 {
		return AuditRule{}, false
	}
	return AuditRules()[i], true
}

// AppliesTo reports whether the rule checks devices of the class.
func (r AuditRule) AppliesTo(c DeviceClass) bool { return slices.Contains(r.On, c) }

// axeRules are the axe rule ids a flow may name, and whether axe-core is
// there: with LoadOptions.Axe nil the pinned ids, and `all` keeps to the
// page rules, as before accessibility existed.
func (p *parser) axeRules() (ids []string, all bool) {
	a := p.opts.Axe
	switch {
	case a == nil:
		return knownAxeRules, false
	case a.Missing != "":
		return nil, false
	case len(a.Rules) > 0:
		return a.Rules, true
	}
	return knownAxeRules, true
}

// auditRuleNames are the names `all` stands for.
func (p *parser) allAuditRules() []string {
	names := AuditRuleNames()
	if _, all := p.axeRules(); !all {
		names = slices.DeleteFunc(names, func(n string) bool { return n == Accessibility })
	}
	return names
}

// auditRuleHelp lists the rules for an error message.
const auditRuleHelp = "horizontal-overflow, tap-target-size, text-size, viewport-meta, zoom-disabled, help-link, image-dimensions, lazy-lcp, accessibility, a11y-<axe rule id>"

// auditRule checks one rule name; it reports the error at n.
func (p *parser) auditRule(n *yaml.Node, name, what string, scalar bool) bool {
	if IsAccessibilityRule(name) && p.opts.Axe != nil && p.opts.Axe.Missing != "" {
		p.errorf(n, "%s: %q needs axe-core, which was not found: %s", what, clip(name), p.opts.Axe.Missing)
		return false
	}
	if id, ok := strings.CutPrefix(name, A11yPrefix); ok {
		ids, _ := p.axeRules()
		if slices.Contains(ids, id) {
			return true
		}
		var names []string
		for _, id := range ids {
			names = append(names, A11yPrefix+id)
		}
		p.errorf(n, "%s: %q is not a rule of axe-core%s", what, clip(name), didYouMean(name, names))
		return false
	}
	if _, ok := LookupAuditRule(name); ok {
		return true
	}
	if scalar {
		p.errorf(n, "%s: %q is neither all nor an audit rule%s; rules: %s", what, clip(name), didYouMean(name, AuditRuleNames()), auditRuleHelp)
	} else {
		p.errorf(n, "unknown audit rule %q%s; rules: %s", clip(name), didYouMean(name, AuditRuleNames()), auditRuleHelp)
	}
	return false
}

// auditRules reads `all` or a list of rule names, and returns the names,
// every rule's for `all`, in the order given.
func (p *parser) auditRules(n *yaml.Node, what string) ([]string, bool) {
	n = p.resolve(n)
	if n.Kind == yaml.ScalarNode {
		s, ok := p.scalar(n, what)
		if !ok {
			return nil, false
		}
		if s == "all" {
			return p.allAuditRules(), true
		}
		if !p.auditRule(n, s, what, true) {
			return nil, false
		}
		return []string{s}, true
	}
	items, ok := p.stringList(n, what)
	if !ok {
		return nil, false
	}
	if len(items) == 0 {
		p.errorf(n, "%s: the list is empty; give all or some of: %s", what, auditRuleHelp)
		return nil, false
	}
	var out []string
	good := true
	for _, it := range items {
		if !p.auditRule(it, it.Value, what, false) {
			good = false
			continue
		}
		if slices.Contains(out, it.Value) {
			p.errorf(it, "audit rule %q is listed twice", it.Value)
			good = false
			continue
		}
		out = append(out, it.Value)
	}
	return out, good
}

// minImpact reads min_impact and returns the element that carries it in a
// rule list, "" for minor (every violation, the default).
func (p *parser) minImpact(n *yaml.Node, what string) (string, bool) {
	s, ok := p.scalar(p.resolve(n), what)
	if !ok {
		return "", false
	}
	if !slices.Contains(AxeImpacts, s) {
		p.errorf(n, "%s %q is not one of %s", what, clip(s), strings.Join(AxeImpacts, ", "))
		return "", false
	}
	if s == AxeImpacts[0] {
		return "", true
	}
	return minImpactPrefix + s, true
}

// flowAudit reads the flow key audit: all, a list, or {rules, min_impact}.
func (p *parser) flowAudit(n *yaml.Node) []string {
	n = p.resolve(n)
	if n.Kind != yaml.MappingNode {
		rules, _ := p.auditRules(n, "audit")
		return rules
	}
	var rules []string
	var impact string
	seenRules := false
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "rules":
			seenRules = true
			rules, _ = p.auditRules(v, "audit rules")
		case "min_impact":
			impact, _ = p.minImpact(v, "audit min_impact")
		default:
			p.errorf(k, "unknown key %q in audit; allowed keys: rules, min_impact", clip(k.Value))
		}
	}
	if !seenRules {
		p.errorf(n, "audit is missing rules; it takes {rules, min_impact}")
		return nil
	}
	if impact != "" && rules != nil {
		rules = append(rules, impact)
	}
	return rules
}

// auditRuleSchema is one rule name: a page rule or an axe rule of the
// pinned axe-core.
func auditRuleSchema() obj {
	var a11y []string
	for _, id := range knownAxeRules {
		a11y = append(a11y, A11yPrefix+id)
	}
	return obj{"anyOf": []obj{{"enum": AuditRuleNames()}, {"enum": a11y}}}
}

func auditRulesSchema() obj {
	return obj{
		"description": "all, or a list of audit rules.",
		"anyOf": []obj{
			{"const": "all"},
			ref("auditRule"),
			{"type": "array", "minItems": 1, "uniqueItems": true, "items": ref("auditRule")},
		},
	}
}

func impactSchema() obj {
	return obj{"enum": AxeImpacts, "default": AxeImpacts[0], "description": "Leave out axe violations of a lesser impact; default minor: every violation."}
}

// flowAuditSchema is the flow key: all, a list, or {rules, min_impact}.
func flowAuditSchema() obj {
	return obj{
		"description": "all, a list of audit rules, or {rules, min_impact}.",
		"anyOf": []obj{
			auditRulesSchema(),
			{"type": "object", "required": []string{"rules"}, "additionalProperties": false,
				"properties": obj{"rules": auditRulesSchema(), "min_impact": impactSchema()}},
		},
	}
}
