package scenarios

import (
	"slices"
	"testing"
)

func TestParseAudit(t *testing.T) {
	all := AuditRuleNames()
	cases := []struct {
		name      string
		flowAudit string // the flow-level key's value, "" for none
		step      string
		wantFlow  []string
		want      Audit
	}{
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
			flows, err := Parse("a.yaml", []byte(src), LoadOptions{})
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
