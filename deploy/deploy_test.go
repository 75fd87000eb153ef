// Package deploy_test checks the deployment files under deploy/ and the
// top-level Dockerfile: that the tools which read them accept them, that they
// use only metrics the agent exports, and that they keep the promises other
// parts rely on (probe paths, ports, flags, the non-root user).
//
// The tests run promtool and amtool from the Debian packages prometheus and
// prometheus-alertmanager; `make test` installs them.
package deploy_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// rulesTestFiles are the promtool unit test files of the rules: one per
// evaluation interval (see uxprobe.rules.daily.test.yml).
var rulesTestFiles = []string{"prometheus/uxprobe.rules.test.yml", "prometheus/uxprobe.rules.daily.test.yml"}

// Paths of the files under test, relative to this package's directory (where
// `go test` runs).
const (
	rulesFile      = "prometheus/uxprobe.rules.yml"
	thresholdsFile = "prometheus/uxprobe.thresholds.yml"
	promConfigFile = "prometheus/prometheus.yml"
	amConfigFile   = "prometheus/alertmanager.yml"
	dashboardFile  = "grafana/uxprobe.json"
	kubernetesDir  = "kubernetes"
	dockerfile     = "../Dockerfile"
	dockerignore   = "../.dockerignore"
)

// tool finds a command-line tool the tests need. A missing tool fails the
// test rather than skipping it: a skipped check looks green in CI.
func tool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed (%v); `make test` installs it with apt-get "+
			"(Debian packages prometheus for promtool, prometheus-alertmanager for amtool)", name, err)
	}
	return path
}

// runTool runs a tool and returns its standard output; it fails the test
// with everything the tool printed when it exits non-zero.
func runTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(tool(t, name), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

func TestToolsAcceptFiles(t *testing.T) {
	tests := []struct {
		name string
		tool string
		args []string
	}{
		{"rules are valid", "promtool", []string{"check", "rules", rulesFile, thresholdsFile}},
		{"rule unit tests pass", "promtool", append([]string{"test", "rules"}, rulesTestFiles...)},
		{"prometheus config is valid", "promtool", []string{"check", "config", promConfigFile}},
		{"alertmanager config is valid", "amtool", []string{"check-config", amConfigFile}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runTool(t, tt.tool, tt.args...)
		})
	}
}

// argsFlags returns the names of the flags in a command line, without dashes
// or values, in order: ["run", "--shard=$(SHARD)/3", "-v", "/etc/flows"]
// gives ["shard", "v"]. Everything after "--" is an argument. It lets a test
// check the flags that deployment files pass against the binary's own.
func argsFlags(args []string) []string {
	var flags []string
	for _, a := range args {
		if a == "--" {
			break
		}
		if len(a) < 2 || a[0] != '-' {
			continue
		}
		name := strings.TrimLeft(a, "-")
		name, _, _ = strings.Cut(name, "=")
		if name != "" {
			flags = append(flags, name)
		}
	}
	return flags
}

func TestArgsFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"none", []string{"run", "/etc/uxprobe/flows"}, nil},
		{"with value", []string{"run", "--shard=$(SHARD)/3", "/etc/uxprobe/flows"}, []string{"shard"}},
		{"boolean and single dash", []string{"run", "--browser.no-sandbox", "-log.level", "debug"}, []string{"browser.no-sandbox", "log.level"}},
		{"after double dash", []string{"run", "--x=1", "--", "--not-a-flag"}, []string{"x"}},
		{"lone dash is stdin", []string{"validate", "-"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := argsFlags(tt.args)
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("argsFlags(%q) = %q, want %q", tt.args, got, tt.want)
			}
		})
	}
}

// readFile reads a file under test, failing the test when it cannot.
func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// decodeYAML decodes a single-document YAML file into v.
func decodeYAML(t *testing.T, path string, v any) {
	t.Helper()
	if err := yaml.Unmarshal(readFile(t, path), v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// yamlDocuments decodes every document of a multi-document YAML file, each
// with the node kept so that it can be decoded again into a typed value.
func yamlDocuments(t *testing.T, path string) []*yaml.Node {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(readFile(t, path)))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if len(n.Content) == 0 || n.Content[0].Kind == 0 {
			continue // an empty document, such as after a trailing ---
		}
		docs = append(docs, &n)
	}
}

// yamlFiles lists the *.yaml and *.yml files of a directory.
func yamlFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{"*.yaml", "*.yml"} {
		m, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatalf("no YAML files in %s", dir)
	}
	return files
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
