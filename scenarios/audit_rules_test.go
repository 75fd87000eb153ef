package scenarios

import (
	"slices"
	"testing"
)

func TestParseAudit(t *testing.T) {
	// Without word of axe-core (LoadOptions.Axe nil), all is the page rules.
	all := AuditRuleNames()[:8]
	withAxe := &Axe{Rules: []string{"color-contrast", "label"}}
	allWithAxe := AuditRuleNames()
	cases := []struct {
		name      string
		axe       *Axe
		flowAudit string // the flow-level key's value, "" for none
		step      string
		wantFlow  []string
		want      Audit
	}{
		{name: "all with axe-core", axe: withAxe, flowAudit: "all", step: "all", wantFlow: allWithAxe, want: Audit{Rules: allWithAxe}},
		{name: "all without axe-core", axe: &Axe{Missing: "install it"}, flowAudit: "all", step: "all", wantFlow: all, want: Audit{Rules: all}},
		{name: "single axe rules", axe: withAxe, flowAudit: "[a11y-label, lazy-lcp]", step: "a11y-color-contrast",
			wantFlow: []string{"a11y-label", "lazy-lcp"}, want: Audit{Rules: []string{"a11y-color-contrast"}}},
		{name: "pinned ids without word of axe-core", step: "[a11y-image-alt, accessibility]", want: Audit{Rules: []string{"a11y-image-alt", "accessibility"}}},
		{name: "min_impact", axe: withAxe, flowAudit: "{rules: [accessibility], min_impact: serious}", step: "{rules: a11y-label, min_impact: critical, fail: true}",
			wantFlow: []string{"accessibility", "min_impact=serious"}, want: Audit{Rules: []string{"a11y-label", "min_impact=critical"}, Fail: true}},
		{name: "min_impact minor is the default", axe: withAxe, flowAudit: "{rules: all, min_impact: minor}", step: "{rules: accessibility, min_impact: minor}",
			wantFlow: allWithAxe, want: Audit{Rules: []string{"accessibility"}}},
		{name: "all", step: "all", want: Audit{Rules: all}},
		{name: "one rule", step: "help-link", want: Audit{Rules: []string{"help-link"}}},
		{name: "a list", step: "[text-size, horizontal-overflow]", want: Audit{Rules: []string{"text-size", "horizontal-overflow"}}},
		{name: "mapping with fail", step: "{rules: all, fail: true}", want: Audit{Rules: all, Fail: true}},
		{name: "mapping with a list", step: "{rules: [lazy-lcp], fail: false}", want: Audit{Rules: []string{"lazy-lcp"}}},
		{name: "flow-level all", flowAudit: "all", step: "all", wantFlow: all, want: Audit{Rules: all}},
		{name: "flow-level list", flowAudit: "[viewport-meta, zoom-disabled]", step: "all", wantFlow: []string{"viewport-meta", "zoom-disabled"}, want: Audit{Rules: all}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := "name: a\n"
			if tc.flowAudit != "" {
				src += "audit: " + tc.flowAudit + "\n"
			}
			src += "steps:\n  - goto: http://127.0.0.1/\n  - audit: " + tc.step + "\n"
			flows, err := Parse("a.yaml", []byte(src), LoadOptions{Axe: tc.axe})
			if err != nil {
				t.Fatal(err)
			}
			f := flows[0]
			if !slices.Equal(f.Audit, tc.wantFlow) {
				t.Errorf("flow audit %v, want %v", f.Audit, tc.wantFlow)
			}
			got, ok := f.Steps[1].Action.(Audit)
			if !ok || !slices.Equal(got.Rules, tc.want.Rules) || got.Fail != tc.want.Fail {
				t.Errorf("step %#v, want %#v", f.Steps[1].Action, tc.want)
			}
			if f.Steps[1].Name != "2-audit" {
				t.Errorf("step name %q", f.Steps[1].Name)
			}
		})
	}
}

// TestParseAuditAxe: an accessibility rule without axe-core is a load error
// that says how to install it, and a11y ids are those of the axe-core found.
func TestParseAuditAxe(t *testing.T) {
	cases := []struct {
		name, audit string
		axe         *Axe
		want        string // "" for no error
	}{
		{"accessibility without axe-core", "accessibility", &Axe{Missing: "run make axe"}, `a.yaml:4:12: flow "a": audit rules: "accessibility" needs axe-core, which was not found: run make axe`},
		{"a single rule without axe-core", "[lazy-lcp, a11y-label]", &Axe{Missing: "run make axe"}, `a.yaml:4:23: flow "a": audit rules: "a11y-label" needs axe-core, which was not found: run make axe`},
		{"page rules without axe-core", "[lazy-lcp]", &Axe{Missing: "run make axe"}, ""},
		{"an id the installed axe-core lacks", "a11y-label", &Axe{Rules: []string{"color-contrast"}}, `a.yaml:4:12: flow "a": audit rules: "a11y-label" is not a rule of axe-core`},
		{"an id of the installed axe-core", "a11y-new-rule", &Axe{Rules: []string{"new-rule"}}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := "name: a\nsteps:\n  - goto: http://127.0.0.1/\n  - audit: " + tc.audit + "\n"
			_, err := Parse("a.yaml", []byte(src), LoadOptions{Axe: tc.axe})
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("error %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSplitAuditRules(t *testing.T) {
	rules, mi := SplitAuditRules([]string{"accessibility", "min_impact=serious", "lazy-lcp"})
	if !slices.Equal(rules, []string{"accessibility", "lazy-lcp"}) || mi != "serious" {
		t.Errorf("got %v %q", rules, mi)
	}
	if _, mi := SplitAuditRules([]string{"a11y-label"}); mi != "minor" {
		t.Errorf("default min_impact %q, want minor", mi)
	}
}

func TestAuditRuleTable(t *testing.T) {
	for _, r := range AuditRules() {
		if r.Doc == "" || len(r.On) == 0 || !nameRe.MatchString(r.Name) {
			t.Errorf("rule %+v needs a doc, device classes and a label-safe name", r)
		}
		for _, c := range r.On {
			if c != ClassDesktop && c != ClassMobile && c != ClassTablet {
				t.Errorf("rule %s: unknown class %q", r.Name, c)
			}
		}
	}
	if _, ok := LookupAuditRule("nope"); ok {
		t.Error("LookupAuditRule found an unknown rule")
	}
}
