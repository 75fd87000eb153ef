package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uxprobe/uxprobe/exporters/prometheus/promtest"

	"github.com/chromedp/cdproto/har"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/uxprobe/uxprobe/agent/demoshop"
	"github.com/uxprobe/uxprobe/agent/history"
	"github.com/uxprobe/uxprobe/agent/result"
	promexp "github.com/uxprobe/uxprobe/exporters/prometheus"
	"github.com/uxprobe/uxprobe/scenarios"
	"github.com/uxprobe/uxprobe/scenarios/examples"
)

// The tests of check run the shipped example flows in real Chromium against
// the demo shop, as a CI job would. Chrome is the expensive part on the two
// shared cores of CI, so the browser cases share as few check invocations as
// possible (one passing, one failing) and every flag they need is given to
// those; the usage errors never get as far as Chrome.

// exampleFlowsDir copies the shipped flows out of the binary's embedded copy,
// so the test checks exactly what `uxprobe demo` runs, wherever the test
// runs from.
func exampleFlowsDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	// Every embedded file: the flows and what they upload beside them.
	entries, err := fs.Glob(examples.FS, "*")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatal("no example flows embedded")
	}
	for _, name := range entries {
		data, err := fs.ReadFile(examples.FS, name)
		if err != nil {
			t.Fatal(err)
		}
		writeFlowFile(t, filepath.Join(dir, name), string(data))
	}
	return dir
}

// runCheckWithChrome runs check and turns "Chrome cannot be started" into a
// message that says what to install, instead of a bare exit code 3.
func runCheckWithChrome(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	code, stdout, stderr = runCLI(t, append([]string{"check"}, args...)...)
	if code == exitRuntime {
		t.Fatalf("check could not run (exit 3); it needs Chromium: `apt-get install -y chromium` or set $UXPROBE_BROWSER\nstderr:\n%s", stderr)
	}
	return code, stdout, stderr
}

// checkTableRow is one line of the table that ends a check.
type checkTableRow struct {
	result string // ok, FAILED or ERROR
	line   string
}

// checkTable reads the final table of check's stdout, by flow/device.
func checkTable(t *testing.T, stdout string) map[string]checkTableRow {
	t.Helper()
	rows := map[string]checkTableRow{}
	inTable := false
	for line := range strings.SplitSeq(stdout, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) > 0 && f[0] == "FLOW":
			inTable = true
		case inTable && len(f) == 0:
			// The table ends at the blank line before the notes and the parity section.
			return rows
		case inTable && len(f) >= 3:
			rows[f[0]+"/"+f[1]] = checkTableRow{result: f[2], line: line}
		}
	}
	if !inTable {
		t.Fatalf("no result table in stdout:\n%s", stdout)
	}
	return rows
}

func readCheckJSON(t *testing.T, path string) []result.Result {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var results []result.Result
	if err := json.Unmarshal(data, &results); err != nil {
		t.Fatalf("--json file is not a list of results: %v\n%s", err, data)
	}
	return results
}

// checkJUnit is the part of a JUnit report CI systems read.
type checkJUnit struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Suites   []struct {
		Name  string `xml:"name,attr"`
		Cases []struct {
			Name      string            `xml:"name,attr"`
			Failure   *checkJUnitReason `xml:"failure"`
			Error     *checkJUnitReason `xml:"error"`
			SystemOut string            `xml:"system-out"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

type checkJUnitReason struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

func readCheckJUnit(t *testing.T, path string) checkJUnit {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc checkJUnit
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("--junit file is not JUnit XML: %v\n%s", err, data)
	}
	return doc
}

// pushedSamples returns the labels of every sample of a metric on the
// Pushgateway's /metrics, each with its value.
func pushedSamples(t *testing.T, url, metric string) []map[string]string {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var samples []map[string]string
	for _, m := range fams[metric].GetMetric() {
		labels := map[string]string{"__value__": fmt.Sprint(metricValue(m))}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		samples = append(samples, labels)
	}
	return samples
}

func metricValue(m *dto.Metric) float64 {
	return m.GetGauge().GetValue() + m.GetCounter().GetValue() + m.GetUntyped().GetValue()
}

// TestCheckExamplesPass is what a CI job does with the shipped flows against
// a healthy shop: everything passes, and every report (table, JSON, JUnit,
// Pushgateway) says so for every flow and device. Tablets are left out only
// to save CPU; desktop and mobile are the two layouts of the shop.
func TestCheckExamplesPass(t *testing.T) {
	demo := demoshop.New()
	shop := httptest.NewServer(demo)
	defer shop.Close()
	gateway := promtest.StartPushgateway(t)
	out := t.TempDir()
	jsonFile := filepath.Join(out, "results.json")
	junitFile := filepath.Join(out, "report.xml")

	start := time.Now()
	code, stdout, stderr := runCheckWithChrome(t, "--parallel", "2", "--device", "desktop,mobile",
		"--var", "base_url="+shop.URL, "--json", jsonFile, "--junit", junitFile, "--push.url", gateway,
		"--baselines", filepath.Join(out, "baselines"), exampleFlowsDir(t))
	t.Logf("check of the examples took %s", time.Since(start).Round(time.Millisecond))
	if code != exitOK {
		t.Fatalf("exit code %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}

	// flow/device, in the order check reports them; the account flows run
	// on a phone only.
	want := []string{"account-avatar/mobile", "account-login/mobile", "account-overview/mobile"}
	for _, flow := range []string{"checkout-visual", "checkout", "help-topics", "help-visible", "mobile-audit", "search"} {
		for _, device := range []string{"desktop", "mobile"} {
			want = append(want, flow+"/"+device)
		}
	}

	// account-login signs in with a one-time code once on the phone (the
	// demo account's password and seed come from the environment's
	// fallback, as in `uxprobe demo`); account-overview and account-avatar
	// start with its saved session, the avatar goes up, and all three run
	// in German, Berlin time and dark mode.
	t.Run("sessions", func(t *testing.T) {
		if n := demo.Logins(); n != 1 {
			t.Errorf("the shop saw %d logins, want 1: the two flows with a session must reuse account-login's", n)
		}
		for _, r := range readCheckJSON(t, jsonFile) {
			if !strings.HasPrefix(r.Flow, "account-") {
				continue
			}
			if c := r.Conditions; c == nil || c.Locale != "de-DE" || c.Timezone != "Europe/Berlin" || c.ColorScheme != "dark" {
				t.Errorf("%s: conditions %+v, want de-DE, Europe/Berlin, dark", r.Flow, c)
			}
			switch {
			case r.Flow == "account-login" && r.Session != nil:
				t.Errorf("account-login: session %+v, want none (it provides one)", r.Session)
			case r.Flow != "account-login" && (r.Session == nil || r.Session.Flow != "account-login"):
				t.Errorf("%s: session %+v, want account-login's", r.Flow, r.Session)
			}
			if r.Flow == "account-avatar" && !slices.ContainsFunc(r.Steps, func(s result.Step) bool {
				return s.Name == "choose picture" && strings.HasPrefix(s.Value, "avatar.png (")
			}) {
				t.Errorf("account-avatar steps %+v, want the upload's value naming avatar.png and its size", r.Steps)
			}
		}
		if strings.Contains(stdout+stderr, demoshop.DemoPassword) || strings.Contains(stdout+stderr, demoshop.DemoTOTPSeed) {
			t.Error("the demo password or seed reached check's output")
		}
	})

	t.Run("table", func(t *testing.T) {
		rows := checkTable(t, stdout)
		if len(rows) != len(want) {
			t.Errorf("table has %d rows, want %d:\n%s", len(rows), len(want), stdout)
		}
		for _, k := range want {
			if row, ok := rows[k]; !ok || row.result != "ok" {
				t.Errorf("%s: table row %q, want result ok", k, row.line)
			}
		}
	})
	t.Run("json", func(t *testing.T) {
		results := readCheckJSON(t, jsonFile)
		var got []string
		for _, r := range results {
			got = append(got, r.Flow+"/"+r.Device)
			if !r.Success || r.Error != nil {
				t.Errorf("%s/%s: success %v, error %+v", r.Flow, r.Device, r.Success, r.Error)
			}
			if len(r.Steps) == 0 || r.DurationSeconds <= 0 {
				t.Errorf("%s/%s: %d steps, %.3fs: not a real run", r.Flow, r.Device, len(r.Steps), r.DurationSeconds)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("results for %v, want %v in that order", got, want)
		}
	})
	t.Run("junit", func(t *testing.T) {
		doc := readCheckJUnit(t, junitFile)
		var wantCases []string
		for _, k := range want {
			flow, device, _ := strings.Cut(k, "/")
			wantCases = append(wantCases, flow+" on "+device)
			// An audit step is a case of its own.
			if flow == "mobile-audit" {
				wantCases = append(wantCases, flow+" on "+device+": audit checkout is usable")
			}
		}
		if doc.Tests != len(wantCases) || doc.Failures != 0 || doc.Errors != 0 {
			t.Errorf("testsuites tests=%d failures=%d errors=%d, want %d, 0, 0", doc.Tests, doc.Failures, doc.Errors, len(wantCases))
		}
		var got []string
		for _, s := range doc.Suites {
			for _, c := range s.Cases {
				got = append(got, c.Name)
				if c.Failure != nil || c.Error != nil {
					t.Errorf("case %q has a failure or error: %+v %+v", c.Name, c.Failure, c.Error)
				}
			}
		}
		if !slices.Equal(got, wantCases) {
			t.Errorf("test cases %q, want %q", got, wantCases)
		}
	})
	t.Run("pushgateway", func(t *testing.T) {
		samples := pushedSamples(t, gateway, promexp.MetricFlowSuccess)
		for _, k := range want {
			flow, device, _ := strings.Cut(k, "/")
			found := slices.ContainsFunc(samples, func(l map[string]string) bool {
				return l["job"] == "uxprobe" && l["flow"] == flow && l["device"] == device && l["__value__"] == "1"
			})
			if !found {
				t.Errorf("pushgateway has no %s{job=\"uxprobe\",flow=%q,device=%q} 1; samples: %v", promexp.MetricFlowSuccess, flow, device, samples)
			}
		}
	})
}

// TestCheckCheckoutFault breaks checkout on the shop's side (POST /checkout
// answers 500) and checks that every report points at the step and the cause
// a person needs to see first, and that the failure is a site failure (exit
// 1, JUnit <failure>), not an error of uxprobe. One device is enough: the
// fault is on the server.
func TestCheckCheckoutFault(t *testing.T) {
	shop := demoshop.New()
	shop.SetFaults(demoshop.Faults{CheckoutError: true})
	srv := httptest.NewServer(shop)
	defer srv.Close()
	out := t.TempDir()
	artifacts := filepath.Join(out, "artifacts")
	jsonFile := filepath.Join(out, "results.json")
	junitFile := filepath.Join(out, "report.xml")
	storage := filepath.Join(out, "history")

	start := time.Now()
	code, stdout, stderr := runCheckWithChrome(t, "--flow", "checkout", "--device", "desktop", "--parallel", "2",
		"--var", "base_url="+srv.URL, "--artifacts", artifacts, "--json", jsonFile, "--junit", junitFile,
		"--storage.path", storage, exampleFlowsDir(t))
	t.Logf("check of the broken checkout took %s", time.Since(start).Round(time.Millisecond))
	if code != exitFailed {
		t.Fatalf("exit code %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	// What a person reads: the step, what kind of failure, and the status.
	wantInMessage := []string{`"place order"`, string(scenarios.KindNavigation), "HTTP 500"}
	shot := filepath.Join(artifacts, "checkout", "desktop", "failure-place_order.png")

	t.Run("table", func(t *testing.T) {
		rows := checkTable(t, stdout)
		row, ok := rows["checkout/desktop"]
		if !ok || row.result != "FAILED" || len(rows) != 1 {
			t.Fatalf("table rows %v, want only checkout/desktop FAILED:\n%s", rows, stdout)
		}
		for _, w := range wantInMessage {
			if !strings.Contains(row.line, w) {
				t.Errorf("table row lacks %s: %q", w, row.line)
			}
		}
	})
	t.Run("progress", func(t *testing.T) {
		if w := `checkout on desktop: FAILED at step "place order"`; !strings.Contains(stdout, w) {
			t.Errorf("stdout lacks the progress line %q:\n%s", w, stdout)
		}
	})
	t.Run("json", func(t *testing.T) {
		results := readCheckJSON(t, jsonFile)
		if len(results) != 1 {
			t.Fatalf("%d results, want 1", len(results))
		}
		r := results[0]
		if r.Success || r.Error == nil || r.Error.Step != "place order" || r.Error.Kind != scenarios.KindNavigation || !strings.Contains(r.Error.Message, "HTTP 500") {
			t.Errorf("result success=%v error=%+v, want a navigation failure at place order with HTTP 500", r.Success, r.Error)
		}
		if r.Outcome() != result.OutcomeFailure {
			t.Errorf("outcome %s, want %s: the site failed, not uxprobe", r.Outcome(), result.OutcomeFailure)
		}
		if !slices.Contains(r.Screenshots, shot) {
			t.Errorf("screenshots %v lack %s", r.Screenshots, shot)
		}
	})
	t.Run("junit", func(t *testing.T) {
		doc := readCheckJUnit(t, junitFile)
		if doc.Tests != 1 || doc.Failures != 1 || doc.Errors != 0 || len(doc.Suites) != 1 || len(doc.Suites[0].Cases) != 1 {
			t.Fatalf("report %+v, want one case with one failure", doc)
		}
		c := doc.Suites[0].Cases[0]
		if c.Error != nil || c.Failure == nil {
			t.Fatalf("case %q: failure %+v, error %+v; want a <failure>", c.Name, c.Failure, c.Error)
		}
		for _, w := range wantInMessage {
			if !strings.Contains(c.Failure.Message, w) {
				t.Errorf("failure message lacks %s: %q", w, c.Failure.Message)
			}
		}
		if c.Failure.Type != string(scenarios.KindNavigation) {
			t.Errorf("failure type %q, want %q", c.Failure.Type, scenarios.KindNavigation)
		}
		if !strings.Contains(c.SystemOut, "screenshot: "+shot) {
			t.Errorf("system-out does not point at the failure screenshot:\n%s", c.SystemOut)
		}
	})
	t.Run("history", func(t *testing.T) {
		// --storage.path: the run is in the history the agent reads, under
		// the id the JSON report carries, with its own copy of the
		// failure screenshot.
		h, err := history.Open(context.Background(), storage, history.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		runs, err := h.Runs(context.Background(), history.Query{})
		if err != nil {
			t.Fatal(err)
		}
		results := readCheckJSON(t, jsonFile)
		if len(runs) != 1 || len(results) != 1 || runs[0].ID == "" || runs[0].ID != results[0].ID {
			t.Fatalf("history %v, JSON ids %v: want the one run under one id", runs, results)
		}
		if runs[0].Result.Error == nil || runs[0].Result.Error.Step != "place order" {
			t.Errorf("stored result %+v", runs[0].Result)
		}
		if _, ok := runs[0].Artifact("failure-place_order.png"); !ok {
			t.Errorf("artifacts %v lack the failure screenshot", runs[0].Artifacts)
		}
		// --artifacts.filmstrip's default, on-failure: the failed run's
		// frames are in the history, each with its time.
		if frames := runs[0].Frames(); len(frames) == 0 || frames[0].T == nil {
			t.Errorf("no filmstrip kept with the failed run: %v", runs[0].Artifacts)
		}
		// --artifacts.har's default, on-failure: the HAR is in the history
		// too, with the order's HTTP 500.
		f, _, err := h.OpenArtifact(context.Background(), runs[0].ID, "network.har")
		if err != nil {
			t.Fatalf("no HAR kept with the failed run: %v", err)
		}
		defer f.Close()
		var doc har.HAR
		if err := json.NewDecoder(f).Decode(&doc); err != nil {
			t.Fatalf("the HAR does not decode: %v", err)
		}
		found := false
		for _, e := range doc.Log.Entries {
			if e.Request.Method == "POST" && strings.HasSuffix(e.Request.URL, "/checkout") && e.Response.Status == 500 {
				found = true
			}
		}
		if !found {
			t.Errorf("the HAR lacks POST /checkout with HTTP 500 (%d entries)", len(doc.Log.Entries))
		}
	})
	t.Run("failure screenshot", func(t *testing.T) {
		data, err := os.ReadFile(shot)
		if err != nil {
			t.Fatalf("no failure screenshot: %v", err)
		}
		if !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) {
			t.Errorf("%s is not a PNG", shot)
		}
	})
}

// TestCheckUsageErrors covers exit code 2: the caller's mistake, reported
// before anything runs. Every case names a Chrome that does not exist, so a
// case that got as far as starting Chrome would exit 3 instead: the test
// holds check to "nothing runs" without paying for a browser.
func TestCheckUsageErrors(t *testing.T) {
	flows := exampleFlowsDir(t)
	broken := t.TempDir()
	writeFlowFile(t, filepath.Join(broken, "good.yaml"), validateGoodFlow)
	badFile := filepath.Join(broken, "bad.yaml")
	writeFlowFile(t, badFile, validateBadFlowTwoErrors)
	noChrome := "--browser.path=" + filepath.Join(t.TempDir(), "no-such-chrome")

	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr []string
	}{
		{"no paths", []string{noChrome}, exitUsage, []string{"give at least one flow file or directory"}},
		{"unknown flag", []string{noChrome, "--nope", flows}, exitUsage, []string{"flag provided but not defined: -nope", "Usage: uxprobe check"}},
		{"bad flag value", []string{noChrome, "--parallel", "many", flows}, exitUsage, []string{"--parallel"}},
		{"malformed var", []string{noChrome, "--var", "base_url", flows}, exitUsage, []string{"want name=value"}},
		{"parallel 0", []string{noChrome, "--parallel", "0", flows}, exitUsage, []string{"--parallel must be at least 1"}},
		{"invalid flow file", []string{noChrome, broken}, exitUsage, []string{
			badFile + `:2:1: flow "bad-one": unknown key "schedul"`,
			badFile + `:3:10: flow "bad-one": timeout "fast"`,
			"nothing was run",
		}},
		{"missing path", []string{noChrome, filepath.Join(broken, "missing.yaml")}, exitUsage, []string{"missing.yaml"}},
		{"unknown flow", []string{noChrome, "--flow", "nosuch", flows}, exitUsage, []string{`--flow "nosuch" matches no loaded flow`}},
		{"unknown device", []string{noChrome, "--device", "nosuch", flows}, exitUsage, []string{`--device "nosuch" matches no device`}},
		// tablet exists, but not among the devices of checkout.
		{"device not in the flow", []string{noChrome, "--flow", "checkout", "--device", "tablet", flows}, exitUsage, []string{`--device "tablet"`}},
		// The control case: the same flags with a valid selection do get to
		// Chrome, which proves that noChrome would have shown up as exit 3.
		{"chrome missing", []string{noChrome, "--flow", "search", flows}, exitRuntime, []string{"no-such-chrome"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, append([]string{"check"}, tt.args...)...)
			if code != tt.wantCode {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, stdout, stderr)
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			// Nothing ran, so there is no progress and no result table.
			if stdout != "" {
				t.Errorf("stdout should be empty, got:\n%s", stdout)
			}
		})
	}
}

// TestCheckHelp keeps the help text complete: it is the reference CI authors
// read, so every flag must be in it.
func TestCheckHelp(t *testing.T) {
	code, stdout, stderr := runCLI(t, "check", "--help")
	if code != exitOK {
		t.Fatalf("exit code %d, want 0\n%s", code, stderr)
	}
	if stdout != "" {
		t.Errorf("help went to stdout:\n%s", stdout)
	}
	for _, f := range []string{"--browser.path", "--browser.no-sandbox", "--device", "--flow", "--parallel", "--json", "--junit",
		"--artifacts", "--push.url", "--push.job", "--var", "--storage.path", "--storage.retention", "--storage.retention.size", "--artifacts.har", "--artifacts.filmstrip"} {
		if !strings.Contains(stderr, "  "+f+"\n") {
			t.Errorf("help lacks %s:\n%s", f, stderr)
		}
	}
}
