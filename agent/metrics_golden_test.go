package agent

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/uxprobe/uxprobe/scenarios"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// healthFixture is an agent, wired as `uxprobe run` wires it, that has
// loaded two flows, run one, skipped the other and restarted Chrome once.
// Queue waits are left out of the golden text: their sum is a duration.
func healthFixture(t *testing.T) (*Agent, *prom.Registry) {
	t.Helper()
	a, reg := newWiredAgent(t, Options{Runner: newFakeRunner(0), Splay: -1})
	if err := a.Apply([]scenarios.FileResult{fileResult("flows.yaml",
		testFlow(t, "checkout", "@every 1h", "desktop"), testFlow(t, "search", "@every 1h"))}); err != nil {
		t.Fatal(err)
	}
	a.skipped(a.entry("search"), SkipOverlap)
	a.BrowserRestarted()
	a.ArtifactError()
	a.SetExternalURL("https://uxprobe.example.com/probe")
	return a, reg
}

// TestAgentMetricsGolden compares the agent's own metric families, help
// text included, with testdata/agent.prom; run with -update after a
// reviewed change.
func TestAgentMetricsGolden(t *testing.T) {
	_, reg := healthFixture(t)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	own := map[string]bool{}
	for _, n := range MetricNames() {
		own[n] = n != MetricRunQueueWait
	}
	var b bytes.Buffer
	for _, mf := range fams {
		if own[mf.GetName()] {
			if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
				t.Fatal(err)
			}
		}
	}
	path := filepath.Join("testdata", "agent.prom")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./agent -run TestAgentMetricsGolden -update to create it)", err)
	}
	if b.String() != string(want) {
		t.Errorf("metrics differ from %s (if intended, rerun with -update and review the diff):\n%s", path, b.String())
	}
}

// TestPromtoolCheckAgentMetrics lints everything the agent serves (its own
// families and the collector's) the way Prometheus' tooling does.
func TestPromtoolCheckAgentMetrics(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: install it (Debian: apt-get install -y prometheus; `make test` does) to lint the metrics")
	}
	a, reg := healthFixture(t)
	a.tick(a.entry("checkout"))
	text := scrapeText(t, reg)
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s\n--- input:\n%s", err, out, text)
	}
}
