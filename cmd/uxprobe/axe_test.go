package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/uxprobe/uxprobe/agent/audit"
)

// TestValidateAxe: without axe-core, a flow naming an accessibility rule is
// invalid at its file:line:column with the way to install it, and `audit:
// all` stays valid with one warning; with axe-core, a11y ids are checked
// against its rules.
func TestValidateAxe(t *testing.T) {
	installed, err := audit.FindAxe("")
	if err != nil {
		t.Fatalf("needs axe-core (make axe): %v", err)
	}
	dir := t.TempDir()
	writeFlowFile(t, filepath.Join(dir, "a11y.yaml"), "name: a11y\nsteps:\n  - goto: http://127.0.0.1:1/\n  - audit: [lazy-lcp, a11y-label]\n")
	writeFlowFile(t, filepath.Join(dir, "all.yaml"), "name: all\naudit: all\nsteps:\n  - goto: http://127.0.0.1:1/\n")
	writeFlowFile(t, filepath.Join(dir, "typo.yaml"), "name: typo\nsteps:\n  - goto: http://127.0.0.1:1/\n  - audit: a11y-colour-contrast\n")

	t.Run("missing", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, "validate", "--audit.axe-path", filepath.Join(dir, "nope", "axe.min.js"), dir)
		if code != exitFailed {
			t.Fatalf("exit %d, want 1\n%s\n%s", code, stdout, stderr)
		}
		want := filepath.Join(dir, "a11y.yaml") + `:4:23: flow "a11y": audit rules: "a11y-label" needs axe-core, which was not found`
		if !strings.Contains(stderr, want) || !strings.Contains(stderr, "make axe") {
			t.Errorf("stderr lacks %q and how to install:\n%s", want, stderr)
		}
		if !strings.Contains(stdout, "ok  all") {
			t.Errorf("audit: all is not valid without axe-core:\n%s", stdout)
		}
		if n := strings.Count(stderr, "warning: accessibility audits are off"); n != 1 {
			t.Errorf("%d warnings, want one:\n%s", n, stderr)
		}
	})
	t.Run("found", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, "validate", "--audit.axe-path", installed.Path, dir)
		if code != exitFailed || !strings.Contains(stdout, "ok  a11y") || !strings.Contains(stdout, "ok  all") {
			t.Fatalf("exit %d, want 1 with a11y and all valid\n%s\n%s", code, stdout, stderr)
		}
		want := filepath.Join(dir, "typo.yaml") + `:4:12: flow "typo": audit rules: "a11y-colour-contrast" is not a rule of axe-core (did you mean "a11y-color-contrast"?)`
		if !strings.Contains(stderr, want) || strings.Contains(stderr, "warning") {
			t.Errorf("stderr:\n%s\nwant %q and no warning", stderr, want)
		}
	})
}

// TestRunWithoutAxe: the agent without axe-core says so once at start,
// runs the flow whose `audit: all` needs no axe-core, and reports the flow
// that names an accessibility rule as invalid, with how to install it.
func TestRunWithoutAxe(t *testing.T) {
	dir := t.TempDir()
	writeFlowFile(t, filepath.Join(dir, "all.yaml"), "name: all\nschedule: \"@every 1h\"\ndevices: [desktop]\naudit: all\nsteps:\n  - goto: http://127.0.0.1:1/\n")
	writeFlowFile(t, filepath.Join(dir, "a11y.yaml"), "name: a11y\nschedule: \"@every 1h\"\ndevices: [desktop]\naudit: [accessibility]\nsteps:\n  - goto: http://127.0.0.1:1/\n")
	starter := fakeStarter(&agentTestRunner{delay: time.Millisecond, started: make(chan string, 10)})
	p := startAgentCmd(t, starter, "run", "--audit.axe-path", filepath.Join(dir, "nope.js"), dir)
	_, body := p.get(t, "GET", "/metrics")
	if !strings.Contains(body, `flow="all"`) || strings.Contains(body, `flow="a11y"`) {
		t.Errorf("want the flow all loaded and a11y not:\n%s", body)
	}
	stderr := p.stderr.String()
	if n := strings.Count(stderr, "accessibility audits are off"); n != 1 {
		t.Errorf("%d warnings about axe-core, want 1:\n%s", n, stderr)
	}
	if !strings.Contains(stderr, `\"accessibility\" needs axe-core, which was not found`) || !strings.Contains(stderr, "make axe") {
		t.Errorf("no load error for the flow that needs axe-core:\n%s", stderr)
	}
}
