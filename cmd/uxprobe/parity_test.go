package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/uxprobe/uxprobe/agent/result"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files under testdata/")

func f64p(v float64) *float64 { return &v }

// parityResults: checkout is slower on mobile (task 2.4x, one step 4x,
// LCP 2x) and has an overflow desktop does not have; the tablet is close
// to desktop; search ran on one device only and gets no section.
func parityResults() []*result.Result {
	steps := func(open, pay, menu float64, skipMenu bool) []result.Step {
		return []result.Step{
			{Name: "open product", Action: "goto", DurationSeconds: open, Success: true},
			{Name: "open menu", Action: "click", DurationSeconds: menu, Success: true, Skipped: skipMenu},
			{Name: "pay", Action: "click", DurationSeconds: pay, Success: true},
			{Name: "usable", Action: "audit", DurationSeconds: 0.1, Success: true},
		}
	}
	audited := []string{"horizontal-overflow", "tap-target-size", "help-link"}
	phoneAudited := []string{"horizontal-overflow", "tap-target-size", "text-size", "help-link"}
	return []*result.Result{
		{Flow: "checkout", Device: "desktop", DeviceClass: "desktop", Success: true, DurationSeconds: 1.0,
			Steps: steps(0.5, 0.4, 0, true), AuditedRules: audited,
			Pages:    []result.Page{{URL: "u1", Step: "open product", LCPSeconds: f64p(0.5), CLS: f64p(0.01)}},
			Findings: []result.Finding{{Rule: "tap-target-size", Step: "usable", URL: "u1", Count: 2}}},
		{Flow: "checkout", Device: "mobile", DeviceClass: "mobile", Success: true, DurationSeconds: 2.4,
			Steps: steps(0.6, 1.6, 0.1, false), AuditedRules: phoneAudited,
			Pages: []result.Page{{URL: "u1", Step: "open product", LCPSeconds: f64p(1.0), CLS: f64p(0.12)}},
			Findings: []result.Finding{
				{Rule: "horizontal-overflow", Step: "usable", URL: "u1", Count: 1},
				{Rule: "tap-target-size", Step: "usable", URL: "u1", Count: 3},
			}},
		{Flow: "checkout", Device: "tablet", DeviceClass: "tablet", Success: true, DurationSeconds: 1.1,
			Steps: steps(0.5, 0.45, 0, true), AuditedRules: phoneAudited,
			Pages: []result.Page{{URL: "u1", Step: "open product", LCPSeconds: f64p(0.55), CLS: f64p(0.01)}}},
		{Flow: "search", Device: "desktop", DeviceClass: "desktop", Success: true, DurationSeconds: 0.3,
			Steps: []result.Step{{Name: "search", Action: "fill", DurationSeconds: 0.3, Success: true}}},
	}
}

func TestParityGolden(t *testing.T) {
	var buf bytes.Buffer
	printParity(&buf, parityResults())
	got := buf.String()
	path := filepath.Join("testdata", "parity.golden")
	if *updateGolden {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/uxprobe -run TestParityGolden -update)", err)
	}
	if got != string(want) {
		t.Errorf("parity section differs from %s:\n--- got\n%s--- want\n%s", path, got, want)
	}
	// Checked apart from the golden file, so an -update cannot accept them
	// away: what the section is for.
	for _, line := range []struct{ prefix, want string }{
		{"  task time", "2.40s 2.4x !"},
		{"  step pay", "1.60s 4.0x !"},
		{"  slowest LCP", "1.00s 2.0x !"},
		{"  findings horizontal-overflow", "1 !"},
	} {
		found := false
		for l := range strings.SplitSeq(got, "\n") {
			if strings.HasPrefix(l, line.prefix) && strings.Contains(l, line.want) {
				found = true
			}
		}
		if !found {
			t.Errorf("no line %q... with %q", line.prefix, line.want)
		}
	}
	for _, notMarked := range []string{"  step open product", "  findings tap-target-size"} {
		for l := range strings.SplitSeq(got, "\n") {
			if strings.HasPrefix(l, notMarked) && strings.Contains(l, "!") {
				t.Errorf("%q is marked, but the phone is not worse by 1.5x and desktop has findings too: %q", notMarked, l)
			}
		}
	}
	if strings.Contains(got, "search") {
		t.Error("a flow run on one device has a parity section")
	}
}

func TestParityNothingToCompare(t *testing.T) {
	var buf bytes.Buffer
	printParity(&buf, parityResults()[3:])
	if buf.Len() != 0 {
		t.Errorf("printed %q for a single run", buf.String())
	}
}

// TestParityLeavesOutScreenshots: a screenshot or assert_screenshot step
// is uxprobe's work; a phone's larger picture is no slower task, so it
// gets no row and no "slower" mark.
func TestParityLeavesOutScreenshots(t *testing.T) {
	run := func(device, class string, shot float64) *result.Result {
		return &result.Result{Flow: "home", Device: device, DeviceClass: class, Success: true, DurationSeconds: 1.0,
			Steps: []result.Step{
				{Name: "open", Action: "goto", DurationSeconds: 1.0, Success: true},
				{Name: "picture", Action: "screenshot", DurationSeconds: shot, Success: true},
				{Name: "looks", Action: "assert_screenshot", DurationSeconds: shot, Success: true},
			}}
	}
	var buf bytes.Buffer
	printParity(&buf, []*result.Result{run("desktop", "desktop", 0.2), run("mobile", "mobile", 0.6)})
	got := buf.String()
	if !strings.Contains(got, "step open") {
		t.Fatalf("no parity section:\n%s", got)
	}
	if strings.Contains(got, "picture") || strings.Contains(got, "looks") {
		t.Errorf("screenshot steps compared across devices:\n%s", got)
	}
	for l := range strings.SplitSeq(got, "\n") {
		if strings.HasPrefix(l, "  ") && strings.HasSuffix(strings.TrimSpace(l), "!") {
			t.Errorf("marked slower: %q", l)
		}
	}
}
