package deploy_test

import (
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	uxagent "github.com/uxprobe/uxprobe/agent"
	"github.com/uxprobe/uxprobe/exporters/prometheus"
)

// ruleFile is the part of a Prometheus rule file the tests read.
type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []rule `yaml:"rules"`
	} `yaml:"groups"`
}

type rule struct {
	Record      string            `yaml:"record"`
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

// readRuleTests reads every promtool unit test file as one: their rule
// files must be the same, their tests add up.
func readRuleTests(t *testing.T) ruleTests {
	t.Helper()
	var all ruleTests
	for i, f := range rulesTestFiles {
		var one ruleTests
		decodeYAML(t, f, &one)
		if i > 0 && !slices.Equal(one.RuleFiles, all.RuleFiles) {
			t.Fatalf("%s tests rule files %v, %s %v: want the same", f, one.RuleFiles, rulesTestFiles[0], all.RuleFiles)
		}
		all.RuleFiles = one.RuleFiles
		all.Tests = append(all.Tests, one.Tests...)
	}
	return all
}

// ruleTests is the part of a promtool unit test file the tests read.
type ruleTests struct {
	RuleFiles []string `yaml:"rule_files"`
	Tests     []struct {
		Name        string `yaml:"name"`
		InputSeries []struct {
			Series string `yaml:"series"`
		} `yaml:"input_series"`
		AlertRuleTests []struct {
			Alertname string `yaml:"alertname"`
			ExpAlerts []struct {
				ExpLabels      map[string]string `yaml:"exp_labels"`
				ExpAnnotations map[string]string `yaml:"exp_annotations"`
			} `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
		PromQLExprTests []struct {
			Expr string `yaml:"expr"`
		} `yaml:"promql_expr_test"`
	} `yaml:"tests"`
}

// loadedRuleFiles returns the rule files prometheus.yml loads, as paths
// relative to this package.
func loadedRuleFiles(t *testing.T) []string {
	t.Helper()
	var cfg struct {
		RuleFiles []string `yaml:"rule_files"`
	}
	decodeYAML(t, promConfigFile, &cfg)
	var files []string
	for _, f := range cfg.RuleFiles {
		files = append(files, "prometheus/"+f)
	}
	return files
}

// rules returns every rule of the rule files prometheus.yml loads.
func rules(t *testing.T) []rule {
	t.Helper()
	var all []rule
	for _, path := range loadedRuleFiles(t) {
		var f ruleFile
		decodeYAML(t, path, &f)
		for _, g := range f.Groups {
			all = append(all, g.Rules...)
		}
	}
	return all
}

func alerts(t *testing.T) []rule {
	t.Helper()
	var as []rule
	for _, r := range rules(t) {
		if r.Alert != "" {
			as = append(as, r)
		}
	}
	if len(as) == 0 {
		t.Fatal("no alerting rules found")
	}
	return as
}

func recordedNames(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	for _, r := range rules(t) {
		if r.Record != "" {
			names[r.Record] = true
		}
	}
	return names
}

func TestRuleFilesLoadedEverywhere(t *testing.T) {
	tests := readRuleTests(t)
	var tested []string
	for _, f := range tests.RuleFiles {
		tested = append(tested, "prometheus/"+f)
	}
	loaded := loadedRuleFiles(t)
	slices.Sort(loaded)
	slices.Sort(tested)
	if !slices.Equal(loaded, tested) {
		t.Errorf("prometheus.yml loads %q but the rule tests load %q", loaded, tested)
	}
	if !slices.Contains(loaded, rulesFile) || !slices.Contains(loaded, thresholdsFile) {
		t.Errorf("prometheus.yml loads %q, want %s and %s among them", loaded, rulesFile, thresholdsFile)
	}
}

// metricToken matches a metric or recording rule name that mentions uxprobe,
// colons included, so that "flow:uxprobe_x:ratio" is one name, not "uxprobe_x".
var metricToken = regexp.MustCompile(`[a-zA-Z0-9_:]*uxprobe_[a-zA-Z0-9_:]*`)

// metricNames returns the uxprobe metric and recording rule names in texts.
func metricNames(texts ...string) []string {
	seen := map[string]bool{}
	for _, s := range texts {
		for _, m := range metricToken.FindAllString(s, -1) {
			seen[m] = true
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// dashboardQueries returns every PromQL expression and template variable
// query of the dashboard.
func dashboardQueries(t *testing.T) []string {
	t.Helper()
	var d any
	if err := json.Unmarshal(readFile(t, dashboardFile), &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	var qs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if s, ok := e.(string); ok && (k == "expr" || k == "query" || k == "definition") {
					qs = append(qs, s)
				}
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(d)
	return qs
}

func TestMetricNamesExist(t *testing.T) {
	exported := map[string]bool{}
	for _, n := range append(prometheus.MetricNames(), uxagent.MetricNames()...) {
		exported[n] = true
	}
	recorded := recordedNames(t)

	var ruleTexts []string
	for _, r := range rules(t) {
		ruleTexts = append(ruleTexts, r.Expr)
		ruleTexts = append(ruleTexts, slices.Collect(maps.Values(r.Annotations))...)
		ruleTexts = append(ruleTexts, slices.Collect(maps.Values(r.Labels))...)
	}
	tests := readRuleTests(t)
	var testTexts []string
	for _, tc := range tests.Tests {
		for _, s := range tc.InputSeries {
			testTexts = append(testTexts, s.Series)
		}
		for _, e := range tc.PromQLExprTests {
			testTexts = append(testTexts, e.Expr)
		}
	}

	sources := []struct {
		name  string
		texts []string
	}{
		{"rules", ruleTexts},
		{"rule tests", testTexts},
		{"dashboard", dashboardQueries(t)},
	}
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			names := metricNames(src.texts...)
			if len(names) == 0 {
				t.Fatal("found no uxprobe metric names; is the extraction broken?")
			}
			for _, n := range names {
				if recorded[n] || exported[n] {
					continue
				}
				if base, ok := histogramBase(n); ok && exported[base] {
					continue
				}
				t.Errorf("%s uses %s, which the agent does not export (exporters/prometheus.MetricNames, agent.MetricNames) "+
					"and no rule records", src.name, n)
			}
		})
	}
}

// histogramBase maps a histogram's series name to its family name.
func histogramBase(name string) (string, bool) {
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok {
			return base, true
		}
	}
	return "", false
}

func TestAlertsAreComplete(t *testing.T) {
	for _, a := range alerts(t) {
		t.Run(a.Alert, func(t *testing.T) {
			if s := a.Labels["severity"]; s != "critical" && s != "warning" {
				t.Errorf("severity = %q, want critical or warning", s)
			}
			component := a.Labels["component"]
			if component != "site" && component != "agent" {
				t.Errorf("component = %q, want site (the site failed its users) or agent (uxprobe broke)", component)
			}
			for _, k := range []string{"summary", "description"} {
				if strings.TrimSpace(a.Annotations[k]) == "" {
					t.Errorf("no %s annotation", k)
				}
			}
			if component == "site" {
				for _, l := range []string{"$labels.flow", "$labels.device"} {
					if !strings.Contains(a.Annotations["summary"], l) || !strings.Contains(a.Annotations["description"], l) {
						t.Errorf("summary and description must both name %s", l)
					}
				}
			}
		})
	}
}

// TestAlertsAreTested checks that the promtool tests cover each alert both
// firing and not firing, and that a firing site alert carries the labels
// that name what failed.
func TestAlertsAreTested(t *testing.T) {
	tests := readRuleTests(t)
	type coverage struct {
		fires, silent bool
		labels        []map[string]string
	}
	covered := map[string]*coverage{}
	for _, tc := range tests.Tests {
		for _, at := range tc.AlertRuleTests {
			c := covered[at.Alertname]
			if c == nil {
				c = &coverage{}
				covered[at.Alertname] = c
			}
			if len(at.ExpAlerts) == 0 {
				c.silent = true
			}
			for _, e := range at.ExpAlerts {
				c.fires = true
				c.labels = append(c.labels, e.ExpLabels)
			}
		}
	}
	wantLabels := map[string][]string{
		"UXProbeFlowFailing":              {"flow", "device", "step", "kind"},
		"UXProbeFlowFailingInOneLocation": {"flow", "device", "location"},
	}
	for _, a := range alerts(t) {
		t.Run(a.Alert, func(t *testing.T) {
			c := covered[a.Alert]
			if c == nil {
				t.Fatalf("%s has no test in %s", a.Alert, strings.Join(rulesTestFiles, " or "))
			}
			if !c.fires {
				t.Errorf("no test where %s fires", a.Alert)
			}
			if !c.silent {
				t.Errorf("no test where %s must not fire", a.Alert)
			}
			want := wantLabels[a.Alert]
			if a.Labels["component"] == "site" && want == nil {
				want = []string{"flow", "device"}
			}
			for _, got := range c.labels {
				for _, l := range want {
					if got[l] == "" {
						t.Errorf("a firing %s lacks the label %s: %v", a.Alert, l, got)
					}
				}
			}
		})
	}
}

// The end-to-end test shortens the site alerts' `for:` with the rewrite the
// rules file documents; it must reach every site alert and no agent alert.
func TestSiteForRewrite(t *testing.T) {
	siteFor := regexp.MustCompile(`(?m)^( *for:) [0-9a-z]+( *# site-for)$`)
	text := string(readFile(t, rulesFile))
	if !strings.Contains(text, "# site-for") {
		t.Fatalf("%s does not document the # site-for marker", rulesFile)
	}
	var before, after ruleFile
	if err := yaml.Unmarshal([]byte(text), &before); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal([]byte(siteFor.ReplaceAllString(text, "${1} 1s${2}")), &after); err != nil {
		t.Fatal(err)
	}
	for gi, g := range after.Groups {
		for ri, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			old := before.Groups[gi].Rules[ri].For
			switch site := r.Labels["component"] == "site"; {
			case site && r.For != "1s":
				t.Errorf("%s: the rewrite left for: %q; mark its for: line with # site-for", r.Alert, r.For)
			case !site && r.For != old:
				t.Errorf("%s: an agent alert's for: changed from %q to %q", r.Alert, old, r.For)
			}
		}
	}
}

// TestAlertRouting routes each alert by its labels: site problems reach the
// site's people, agent problems only uxprobe's operators.
func TestAlertRouting(t *testing.T) {
	receivers := map[[2]string]string{
		{"site", "critical"}:  "site-oncall",
		{"site", "warning"}:   "site-team",
		{"agent", "critical"}: "uxprobe-operators",
		{"agent", "warning"}:  "uxprobe-operators",
	}
	for _, a := range alerts(t) {
		t.Run(a.Alert, func(t *testing.T) {
			want, ok := receivers[[2]string{a.Labels["component"], a.Labels["severity"]}]
			if !ok {
				t.Fatalf("no receiver expected for labels %v", a.Labels)
			}
			args := []string{"config", "routes", "test", "--config.file=" + amConfigFile, "alertname=" + a.Alert}
			for k, v := range a.Labels {
				args = append(args, k+"="+v)
			}
			got := strings.TrimSpace(runTool(t, "amtool", args...))
			if got != want {
				t.Errorf("routed to %q, want %q", got, want)
			}
		})
	}
}
