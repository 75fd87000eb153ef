package junit

import (
	"fmt"
	"strings"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// auditCases are the test cases of a run's audit steps, one per step that
// ran: CI lists what each audit found under its own name. A step that
// failed is a <failure> (an <error> if uxprobe broke during it); findings
// of an audit without fail: true are listed, and the case passes.
func auditCases(r *result.Result) []testCase {
	var cases []testCase
	for _, s := range r.Steps {
		if s.Action != "audit" || s.Skipped {
			continue
		}
		tc := testCase{
			Name:      r.Flow + " on " + r.Device + ": audit " + s.Name,
			ClassName: "uxprobe." + r.Flow,
			Time:      seconds(s.DurationSeconds),
		}
		var b strings.Builder
		for _, f := range r.Findings {
			if f.Step != s.Name {
				continue
			}
			fmt.Fprintf(&b, "%s (%d) on %s: %s\n", f.Rule, f.Count, f.URL, f.Message)
			if f.Impact != "" || f.HelpURL != "" {
				// An accessibility finding: what axe-core says of it.
				fmt.Fprintf(&b, "  impact %s, WCAG %s, %s\n", f.Impact, strings.Join(f.WCAG, " "), f.HelpURL)
			}
			for _, e := range f.Examples {
				fmt.Fprintf(&b, "  %s at %g,%g size %gx%g\n", e.Selector, e.X, e.Y, e.Width, e.Height)
			}
		}
		if b.Len() > 0 {
			tc.SystemOut = &cdata{b.String()}
		}
		if !s.Success {
			kind := scenarios.KindAudit
			if r.Error != nil && r.Error.Step == s.Name {
				kind = r.Error.Kind
			}
			p := &problem{Message: fmt.Sprintf("step %q: %s: %s", s.Name, kind, s.Error), Type: string(kind), Text: s.Error + "\n"}
			if r.Outcome() == result.OutcomeError && r.Error != nil && r.Error.Step == s.Name {
				tc.Error = p
			} else {
				tc.Failure = p
			}
		}
		cases = append(cases, tc)
	}
	return cases
}
