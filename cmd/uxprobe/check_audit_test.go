package main

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/uxprobe/uxprobe/agent/demoshop"
	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// TestCheckMobileAuditFault is the designer's check end to end: with the
// shop's mobile-overflow fault on, the mobile-audit example flow finds the
// 720 px banner on the phone only, the parity section shows it against
// desktop, and the audit step's fail: true makes the phone's run a failure
// of kind audit, with the outlined screenshot.
func TestCheckMobileAuditFault(t *testing.T) {
	shop := demoshop.New()
	shop.SetFaults(demoshop.Faults{MobileOverflow: true})
	srv := httptest.NewServer(shop)
	defer srv.Close()
	out := t.TempDir()
	artifacts := filepath.Join(out, "artifacts")
	jsonFile := filepath.Join(out, "results.json")
	junitFile := filepath.Join(out, "report.xml")
	code, stdout, stderr := runCheckWithChrome(t, "--flow", "mobile-audit", "--device", "desktop,mobile,tablet", "--parallel", "2",
		"--var", "base_url="+srv.URL, "--artifacts", artifacts, "--json", jsonFile, "--junit", junitFile, exampleFlowsDir(t))
	if code != exitFailed {
		t.Fatalf("exit code %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}

	t.Run("results", func(t *testing.T) {
		byDevice := map[string]result.Result{}
		for _, r := range readCheckJSON(t, jsonFile) {
			byDevice[r.Device] = r
		}
		for _, d := range []string{"desktop", "tablet"} {
			r := byDevice[d]
			if !r.Success || len(r.Findings) != 0 {
				t.Errorf("%s: success %v, findings %+v; the banner fits a %s", d, r.Success, r.Findings, d)
			}
			if len(r.AuditedRules) == 0 {
				t.Errorf("%s: no audited rules", d)
			}
		}
		m := byDevice["mobile"]
		if m.Success || m.Error == nil || m.Error.Kind != scenarios.KindAudit || m.Error.Step != "checkout is usable" ||
			!strings.Contains(m.Error.Message, "horizontal-overflow") || !strings.Contains(m.Error.Message, "#promo") {
			t.Fatalf("mobile: success %v error %+v, want an audit failure at checkout naming #promo", m.Success, m.Error)
		}
		// The flow-level audit finds the banner on every page it opens
		// (adding to the cart opens the cart), the audit step on checkout
		// once more.
		var pages []string
		for _, f := range m.Findings {
			if f.Rule != "horizontal-overflow" || f.Count < 1 || len(f.Examples) == 0 || f.Examples[0].Selector != "#promo" {
				t.Errorf("mobile finding %+v, want the overflowing #promo", f)
			}
			pages = append(pages, f.Step)
		}
		if want := []string{"open home", "open product", "add to cart", "go to checkout", "checkout is usable"}; !slices.Equal(pages, want) {
			t.Errorf("mobile findings at steps %v, want %v", pages, want)
		}
		shot := filepath.Join(artifacts, "mobile-audit", "mobile", "audit-checkout_is_usable.png")
		if _, err := os.Stat(shot); err != nil || !slices.Contains(m.Screenshots, shot) {
			t.Errorf("no outlined audit screenshot %s (%v) in %v", shot, err, m.Screenshots)
		}
	})
	t.Run("parity", func(t *testing.T) {
		_, section, ok := strings.Cut(stdout, "DEVICE PARITY")
		if !ok {
			t.Fatalf("no parity section:\n%s", stdout)
		}
		var row string
		for l := range strings.SplitSeq(section, "\n") {
			if strings.HasPrefix(l, "  findings horizontal-overflow") {
				row = l
			}
		}
		// Columns: desktop, mobile, tablet, in the order check ran them.
		f := strings.Fields(strings.TrimPrefix(row, "  findings horizontal-overflow"))
		if len(f) != 4 || f[0] != "0" || f[1] != "4" || f[2] != "!" || f[3] != "0" {
			t.Errorf("parity row %q, want 0 on desktop, 4 ! on mobile (four pages, checkout's two audits counted once), 0 on tablet\n%s", row, section)
		}
	})
	t.Run("junit", func(t *testing.T) {
		doc := readCheckJUnit(t, junitFile)
		var failed []string
		for _, s := range doc.Suites {
			for _, c := range s.Cases {
				if c.Failure != nil {
					failed = append(failed, c.Name+" ("+c.Failure.Type+")")
				}
			}
		}
		want := []string{"mobile-audit on mobile (audit)", "mobile-audit on mobile: audit checkout is usable (audit)"}
		if doc.Tests != 6 || !slices.Equal(failed, want) {
			t.Errorf("tests=%d failed cases %v, want 6 cases and %v", doc.Tests, failed, want)
		}
	})
}

// TestCheckA11yFault: with the shop's a11y fault on, the mobile-audit
// example flow finds the dropped labels of the three text fields and the pale button at checkout on
// the phone only, with axe's impact and WCAG criteria; desktop and tablet
// were audited for accessibility and are clean; the parity section flags
// both barriers on mobile, and JUnit's audit step case fails on mobile.
func TestCheckA11yFault(t *testing.T) {
	shop := demoshop.New()
	shop.SetFaults(demoshop.Faults{A11y: true})
	srv := httptest.NewServer(shop)
	defer srv.Close()
	out := t.TempDir()
	jsonFile := filepath.Join(out, "results.json")
	junitFile := filepath.Join(out, "report.xml")
	code, stdout, stderr := runCheckWithChrome(t, "--flow", "mobile-audit", "--device", "desktop,mobile,tablet", "--parallel", "2",
		"--var", "base_url="+srv.URL, "--artifacts", filepath.Join(out, "artifacts"), "--json", jsonFile, "--junit", junitFile, exampleFlowsDir(t))
	if code != exitFailed {
		t.Fatalf("exit code %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	byDevice := map[string]result.Result{}
	for _, r := range readCheckJSON(t, jsonFile) {
		byDevice[r.Device] = r
	}
	for _, d := range []string{"desktop", "tablet"} {
		r := byDevice[d]
		if !r.Success || len(r.Findings) != 0 || !slices.Contains(r.AuditedRules, "accessibility") {
			t.Errorf("%s: success %v, findings %+v, audited %v; want accessibility audited and clean", d, r.Success, r.Findings, r.AuditedRules)
		}
	}
	m := byDevice["mobile"]
	if m.Success || m.Error == nil || m.Error.Kind != scenarios.KindAudit || !strings.Contains(m.Error.Message, "a11y-label (3): #email, #name, #address") ||
		!strings.Contains(m.Error.Message, "a11y-color-contrast (1): #place-order") {
		t.Errorf("mobile: success %v error %+v, want an audit failure naming the three unlabelled fields and the button", m.Success, m.Error)
	}
	var got []string
	for _, f := range m.Findings {
		got = append(got, f.Step+":"+f.Rule)
		switch f.Rule {
		case "a11y-label":
			if f.Count != 3 || f.Impact != "critical" || !slices.Contains(f.WCAG, "4.1.2") || len(f.Examples) != 3 || f.Examples[0].Selector != "#email" {
				t.Errorf("label finding %+v, want the 3 fields, critical, WCAG 4.1.2", f)
			}
		case "a11y-color-contrast":
			if f.Count != 1 || f.Impact != "serious" || !slices.Equal(f.WCAG, []string{"1.4.3"}) || f.Examples[0].Selector != "#place-order" ||
				f.HelpURL != "https://dequeuniversity.com/rules/axe/4.10/color-contrast" {
				t.Errorf("contrast finding %+v, want the button, serious, WCAG 1.4.3", f)
			}
		}
	}
	want := []string{"go to checkout:a11y-color-contrast", "go to checkout:a11y-label", "checkout is usable:a11y-color-contrast", "checkout is usable:a11y-label"}
	if !slices.Equal(got, want) {
		t.Errorf("mobile findings %v, want %v", got, want)
	}
	if !slices.Contains(m.AuditedRules, "accessibility") {
		t.Errorf("mobile audited %v, want accessibility", m.AuditedRules)
	}

	_, section, _ := strings.Cut(stdout, "DEVICE PARITY")
	for _, rule := range []string{"a11y-color-contrast", "a11y-label"} {
		var row string
		for l := range strings.SplitSeq(section, "\n") {
			if strings.HasPrefix(l, "  findings "+rule+" ") {
				row = l
			}
		}
		n := "1"
		if rule == "a11y-label" {
			n = "3"
		}
		if f := strings.Fields(strings.TrimPrefix(row, "  findings "+rule)); !slices.Equal(f, []string{"0", n, "!", "0"}) {
			t.Errorf("parity row %q, want 0 on desktop, %s ! on mobile, 0 on tablet\n%s", row, n, section)
		}
	}

	doc := readCheckJUnit(t, junitFile)
	var failed []string
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			if c.Failure != nil {
				failed = append(failed, c.Name+" ("+c.Failure.Type+")")
				if strings.HasSuffix(c.Name, "audit checkout is usable") && !strings.Contains(c.Failure.Message+c.Failure.Text, "a11y-label") {
					t.Errorf("JUnit case %q does not show the axe finding: %+v", c.Name, c.Failure)
				}
			}
		}
	}
	if w := []string{"mobile-audit on mobile (audit)", "mobile-audit on mobile: audit checkout is usable (audit)"}; !slices.Equal(failed, w) {
		t.Errorf("JUnit failed cases %v, want %v", failed, w)
	}
}
