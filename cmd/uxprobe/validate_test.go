package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/common/version"
	"github.com/uxprobe/uxprobe/agent/demoshop"
)

// cliBuffer is a stdout or stderr that a command's goroutines (check's
// progress lines) and the test may share.
type cliBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *cliBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *cliBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// runCLI runs `uxprobe args...` in-process, the way main does, and returns
// the exit code and what the command wrote. The environment is empty so
// that the tester's own variables cannot change a flow.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut cliBuffer
	// An empty environment but for the demo account's password and seed,
	// which the shipped examples read as a deployment's secrets.
	env := &environment{stdout: &out, stderr: &errOut, lookupEnv: demoshop.DemoEnv(func(string) (string, bool) { return "", false })}
	code = run(t.Context(), env, args)
	return code, out.String(), errOut.String()
}

func writeFlowFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Flows for validate: one valid, and broken ones whose errors sit at known
// positions, so the test can hold the loader to file:line:column.
const (
	validateGoodFlow = `name: good
schedule: "@every 5m"
devices: [desktop, mobile]
steps:
  - goto: http://127.0.0.1:1/
  - click: "#buy"
`
	// Two errors in one file: both must be reported, not just the first.
	validateBadFlowTwoErrors = `name: bad-one
schedul: "@every 5m"
timeout: fast
steps:
  - goto: http://127.0.0.1:1/
`
	validateBadFlowOneError = `name: bad-two
steps:
  - clikc: "#buy"
`
)

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	writeFlowFile(t, good, validateGoodFlow)
	broken := filepath.Join(dir, "broken")
	if err := os.Mkdir(broken, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFlowFile(t, filepath.Join(broken, "good.yaml"), validateGoodFlow)
	writeFlowFile(t, filepath.Join(broken, "bad-one.yaml"), validateBadFlowTwoErrors)
	writeFlowFile(t, filepath.Join(broken, "bad-two.yml"), validateBadFlowOneError)
	withVar := filepath.Join(dir, "with-var.yaml")
	writeFlowFile(t, withVar, "name: with-var\nschedule: \"@hourly\"\ndevices: [tablet]\nsteps:\n  - goto: ${base_url}/\n")

	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string // regular expressions, each matching a whole line
		wantStderr []string // substrings
		noStdout   bool
	}{
		{
			name:       "valid file",
			args:       []string{"validate", good},
			wantCode:   exitOK,
			wantStdout: []string{`ok  good\s+devices=desktop,mobile steps=2 schedule="@every 5m"`},
		},
		{
			name:       "var given on the command line",
			args:       []string{"validate", "--var", "base_url=http://127.0.0.1:1", withVar},
			wantCode:   exitOK,
			wantStdout: []string{`ok  with-var\s+devices=tablet steps=1 schedule="@hourly"`},
		},
		{
			// Every error of every file, each with its position, and the
			// valid file still summarised.
			name:       "directory with broken files",
			args:       []string{"validate", broken},
			wantCode:   exitFailed,
			wantStdout: []string{`ok  good\s+devices=desktop,mobile steps=2 schedule="@every 5m"`},
			wantStderr: []string{
				filepath.Join(broken, "bad-one.yaml") + `:2:1: flow "bad-one": unknown key "schedul"`,
				filepath.Join(broken, "bad-one.yaml") + `:3:10: flow "bad-one": timeout "fast" is not a positive duration`,
				filepath.Join(broken, "bad-two.yml") + `:3:5: flow "bad-two": unknown key "clikc" in step 1`,
			},
		},
		{
			name:       "undefined var",
			args:       []string{"validate", withVar},
			wantCode:   exitFailed,
			wantStderr: []string{withVar + ":5:"},
			noStdout:   true,
		},
		{
			// A path that is not there is an error of that file, as the
			// loader reports it on reload too: exit 1 with the path named.
			name:       "missing path",
			args:       []string{"validate", filepath.Join(dir, "missing.yaml")},
			wantCode:   exitFailed,
			wantStderr: []string{"cannot read flows", "missing.yaml"},
			noStdout:   true,
		},
		{
			name:       "no paths",
			args:       []string{"validate"},
			wantCode:   exitUsage,
			wantStderr: []string{"give at least one flow file or directory"},
			noStdout:   true,
		},
		{
			name:       "unknown flag",
			args:       []string{"validate", "--nope", good},
			wantCode:   exitUsage,
			wantStderr: []string{"flag provided but not defined: -nope", "Usage: uxprobe validate"},
			noStdout:   true,
		},
		{
			name:       "malformed var",
			args:       []string{"validate", "--var", "base_url", good},
			wantCode:   exitUsage,
			wantStderr: []string{"want name=value"},
			noStdout:   true,
		},
		{
			// Help is asked for, not a mistake: exit 0, and every flag is
			// listed with the Prometheus-style double dash users type.
			name:       "help",
			args:       []string{"validate", "--help"},
			wantCode:   exitOK,
			wantStderr: []string{"Usage: uxprobe validate [flags] PATH...", "file:line:column", "--var"},
			noStdout:   true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, stdout, stderr)
			}
			for _, w := range tt.wantStdout {
				if !regexp.MustCompile(`(?m)^` + w + `$`).MatchString(stdout) {
					t.Errorf("stdout has no line matching %q:\n%s", w, stdout)
				}
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if tt.noStdout && stdout != "" {
				t.Errorf("stdout should be empty, got:\n%s", stdout)
			}
		})
	}
}

// TestValidateExamples keeps the shipped flows valid through the command a
// user would run on them first.
func TestValidateExamples(t *testing.T) {
	code, stdout, stderr := runCLI(t, "validate", exampleFlowsDir(t))
	if code != exitOK {
		t.Fatalf("exit code %d, want 0\n%s", code, stderr)
	}
	for _, name := range []string{"checkout", "help-visible", "mobile-audit", "search"} {
		if !regexp.MustCompile(`(?m)^ok  ` + regexp.QuoteMeta(name) + `\s+devices=\S+ steps=\d+ schedule="@every 1m"$`).MatchString(stdout) {
			t.Errorf("no ok line for %s:\n%s", name, stdout)
		}
	}
}

// TestTopLevel covers the dispatcher in main.go: it has no test file of its
// own and is small enough to share this Chrome-free one.
func TestTopLevel(t *testing.T) {
	// The version output is prometheus/common's, as every Prometheus
	// exporter prints it (issue 10 replaced the one-line form).
	versionLine := regexp.MustCompile(`^uxprobe, version \S+ \(branch: \S*, revision: \S+\)\n(  .*\n)+$`)
	commandNames := []string{"check", "demo", "run", "validate", "version"}
	tests := []struct {
		name      string
		args      []string
		wantCode  int
		wantUsage bool   // the usage text listing every command, on stdout or stderr
		wantOut   string // substring of stdout+stderr
		version   bool
	}{
		{name: "version", args: []string{"version"}, wantCode: exitOK, version: true},
		{name: "--version", args: []string{"--version"}, wantCode: exitOK, version: true},
		// No command is a mistake (exit 2), an explicit request for help is
		// not (exit 0).
		{name: "no args", args: nil, wantCode: exitUsage, wantUsage: true},
		{name: "help", args: []string{"help"}, wantCode: exitOK, wantUsage: true},
		{name: "-h", args: []string{"-h"}, wantCode: exitOK, wantUsage: true},
		{name: "--help", args: []string{"--help"}, wantCode: exitOK, wantUsage: true},
		{name: "unknown command", args: []string{"nosuch"}, wantCode: exitUsage, wantUsage: true, wantOut: `unknown command "nosuch"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, stdout, stderr)
			}
			all := stdout + stderr
			if tt.version {
				if stdout != version.Print("uxprobe")+"\n" || !versionLine.MatchString(stdout) {
					t.Errorf("version output %q, want version.Print(\"uxprobe\"), such as \"uxprobe, version dev (branch: , revision: abc)\" and the build details", stdout)
				}
				if !strings.HasPrefix(stdout, "uxprobe, version "+version.Version+" ") || version.Version != unstampedVersion {
					t.Errorf("version output %q does not start with the version %q", stdout, version.Version)
				}
			}
			if tt.wantUsage {
				if !strings.Contains(all, "Usage: uxprobe COMMAND") {
					t.Errorf("no usage text:\n%s", all)
				}
				for _, c := range commandNames {
					if !regexp.MustCompile(`(?m)^  ` + c + `\s+\S`).MatchString(all) {
						t.Errorf("usage does not list command %s:\n%s", c, all)
					}
				}
			}
			if tt.wantOut != "" && !strings.Contains(all, tt.wantOut) {
				t.Errorf("output lacks %q:\n%s", tt.wantOut, all)
			}
		})
	}
}
