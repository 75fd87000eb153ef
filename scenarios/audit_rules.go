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

// auditRules reads `all` or a list of rule names, and returns the names,
// every rule's for `all`, in the order given.
func (p *parser) auditRules(n *yaml.Node, what string) ([]string, bool) {
	n = p.resolve(n)
	names := AuditRuleNames()
	if n.Kind == yaml.ScalarNode {
		s, ok := p.scalar(n, what)
		if !ok {
			return nil, false
		}
		if s != "all" {
			if _, ok := LookupAuditRule(s); ok {
				return []string{s}, true
			}
			p.errorf(n, "%s: %q is neither all nor an audit rule%s; rules: %s", what, clip(s), didYouMean(s, names), strings.Join(names, ", "))
			return nil, false
		}
		return names, true
	}
	items, ok := p.stringList(n, what)
	if !ok {
		return nil, false
	}
	if len(items) == 0 {
		p.errorf(n, "%s: the list is empty; give all or some of: %s", what, strings.Join(names, ", "))
		return nil, false
	}
	var out []string
	good := true
	for _, it := range items {
		if _, ok := LookupAuditRule(it.Value); !ok {
			p.errorf(it, "unknown audit rule %q%s; rules: %s", clip(it.Value), didYouMean(it.Value, names), strings.Join(names, ", "))
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

func auditRulesSchema() obj {
	return obj{
		"description": "all, or a list of audit rules.",
		"anyOf": []obj{
			{"const": "all"},
			{"enum": AuditRuleNames()},
			{"type": "array", "minItems": 1, "uniqueItems": true, "items": obj{"enum": AuditRuleNames()}},
		},
	}
}
