package result

import (
	"testing"

	"github.com/uxprobe/uxprobe/scenarios"
)

// TestLatestAdd is the one rule for error runs: an error run is the latest
// run but never the latest verdict on the site.
func TestLatestAdd(t *testing.T) {
	ok := &Result{Success: true}
	failed := &Result{Error: &Error{Kind: scenarios.KindAssertion}}
	crashed := &Result{Error: &Error{Kind: scenarios.KindBrowser}}
	cancelled := &Result{Error: &Error{Kind: scenarios.KindCancelled}}
	tests := []struct {
		name              string
		runs              []*Result
		wantLast, wantVer *Result
	}{
		{"nothing yet", nil, nil, nil},
		{"a success", []*Result{ok}, ok, ok},
		{"a failure after a success", []*Result{ok, failed}, failed, failed},
		{"a crash after a success keeps the success", []*Result{ok, crashed}, crashed, ok},
		{"a cancel after a failure keeps the failure", []*Result{failed, cancelled}, cancelled, failed},
		{"only errors give no verdict", []*Result{crashed, cancelled}, cancelled, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l Latest
			for _, r := range tt.runs {
				l.Add(r)
			}
			if l.Last != tt.wantLast || l.Verdict != tt.wantVer {
				t.Errorf("Last %p Verdict %p, want %p and %p", l.Last, l.Verdict, tt.wantLast, tt.wantVer)
			}
		})
	}
}
