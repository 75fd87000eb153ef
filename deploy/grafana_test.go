package deploy_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// dashboard is the part of a Grafana dashboard the tests read.
type dashboard struct {
	SchemaVersion int `json:"schemaVersion"`
	Templating    struct {
		List []struct {
			Type       string `json:"type"`
			Name       string `json:"name"`
			Query      any    `json:"query"`
			Definition string `json:"definition"`
			Multi      bool   `json:"multi"`
			IncludeAll bool   `json:"includeAll"`
		} `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
	FieldConfig struct {
		Defaults struct {
			Thresholds *struct {
				Steps []struct {
					Color string   `json:"color"`
					Value *float64 `json:"value"`
				} `json:"steps"`
			} `json:"thresholds"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	var d dashboard
	if err := json.Unmarshal(readFile(t, dashboardFile), &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	return d
}

// queryPanels returns the panels that show data (all but rows).
func queryPanels(d dashboard) []panel {
	var ps []panel
	for _, p := range d.Panels {
		if p.Type != "row" {
			ps = append(ps, p)
		}
	}
	return ps
}

func TestDashboardStructure(t *testing.T) {
	d := loadDashboard(t)
	if d.SchemaVersion < 36 {
		t.Errorf("schemaVersion = %d, want 36 or later (datasource references by uid)", d.SchemaVersion)
	}
	vars := map[string]int{}
	for i, v := range d.Templating.List {
		vars[v.Name] = i
	}
	t.Run("datasource variable", func(t *testing.T) {
		i, ok := vars["datasource"]
		if !ok {
			t.Fatal("no template variable named datasource")
		}
		v := d.Templating.List[i]
		if v.Type != "datasource" || v.Query != "prometheus" {
			t.Errorf("datasource variable is type %q query %v, want a datasource variable of Prometheus data sources", v.Type, v.Query)
		}
	})
	for _, name := range []string{"flow", "device", "location"} {
		t.Run(name+" variable", func(t *testing.T) {
			i, ok := vars[name]
			if !ok {
				t.Fatalf("no template variable named %s", name)
			}
			v := d.Templating.List[i]
			if v.Type != "query" || !v.Multi || !v.IncludeAll {
				t.Errorf("%s: type %q multi %v includeAll %v, want a query variable with multi and include all", name, v.Type, v.Multi, v.IncludeAll)
			}
			if !strings.HasPrefix(v.Definition, "label_values(") || !strings.HasSuffix(v.Definition, ", "+name+")") {
				t.Errorf("%s: definition %q, want label_values(..., %s)", name, v.Definition, name)
			}
		})
	}
	t.Run("panels", func(t *testing.T) {
		ids := map[int]bool{}
		for _, p := range d.Panels {
			if ids[p.ID] {
				t.Errorf("panel id %d is used twice", p.ID)
			}
			ids[p.ID] = true
		}
		for _, p := range queryPanels(d) {
			if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q does not use the datasource variable", p.Title)
			}
			if len(p.Targets) == 0 {
				t.Errorf("panel %q has no query", p.Title)
			}
			for _, tg := range p.Targets {
				if strings.TrimSpace(tg.Expr) == "" {
					t.Errorf("panel %q has an empty query", p.Title)
				}
			}
		}
	})
}

// TestDashboardShows checks that the dashboard answers the questions it is
// for, by a query that each needs.
func TestDashboardShows(t *testing.T) {
	tests := []struct {
		name  string
		query []string // all must appear in one expression
	}{
		{"success rate, 1h", []string{"flow_device:uxprobe_flow_success:ratio_rate1h"}},
		{"success rate, 24h", []string{"flow_device:uxprobe_flow_success:ratio_rate24h"}},
		{"task time on desktop", []string{"uxprobe_flow_duration_seconds", `device="desktop"`}},
		{"task time on mobile", []string{"uxprobe_flow_duration_seconds", `device="mobile"`}},
		{"step where runs fail", []string{"sum by (flow, device, location, step, kind)", "increase(uxprobe_flow_failures_total", "[$__range]"}},
		{"LCP per step", []string{"uxprobe_page_lcp_seconds", "step"}},
		{"CLS per step", []string{"uxprobe_page_cls", "step"}},
		{"TTFB per step", []string{"uxprobe_page_ttfb_seconds", "step"}},
		{"FCP per step", []string{"uxprobe_page_fcp_seconds", "step"}},
		{"INP per step", []string{"uxprobe_page_inp_seconds", "step"}},
		{"TBT per step", []string{"uxprobe_page_tbt_seconds", "step"}},
		{"interaction latency per step", []string{"uxprobe_step_interaction_seconds", "step"}},
		{"console errors", []string{"rate(uxprobe_console_errors_total"}},
		{"failed requests", []string{"rate(uxprobe_failed_requests_total"}},
		{"flows loaded", []string{"uxprobe_flows_loaded"}},
		{"config reload", []string{"uxprobe_config_last_reload_successful"}},
		{"browser restarts", []string{"uxprobe_browser_restarts_total"}},
		{"queue wait p95", []string{"histogram_quantile(0.95", "uxprobe_run_queue_wait_seconds_bucket"}},
		{"error runs", []string{"uxprobe_flow_runs_total", `result="error"`}},
		{"skipped runs", []string{"uxprobe_runs_skipped_total", "reason"}},
		{"audit findings by rule", []string{"uxprobe_audit_findings", "sum by (flow, device, location, rule)"}},
		{"last run per location, from its freshest agent", []string{"flow_device_location:uxprobe_flow_success:latest", `location=~"$location"`}},
	}
	var exprs []string
	for _, p := range queryPanels(loadDashboard(t)) {
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, e := range exprs {
				if containsAll(e, tt.query) {
					return
				}
			}
			t.Errorf("no panel query contains all of %q", tt.query)
		})
	}
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// TestDashboardVitalsThresholds checks the colours of the web vitals panels
// against the web.dev thresholds: green below "good", red from "poor" on.
func TestDashboardVitalsThresholds(t *testing.T) {
	tests := []struct {
		metric     string
		good, poor float64
	}{
		{"uxprobe_page_lcp_seconds", 2.5, 4},
		{"uxprobe_page_cls", 0.1, 0.25},
		{"uxprobe_page_ttfb_seconds", 0.8, 1.8},
		{"uxprobe_page_fcp_seconds", 1.8, 3},
		{"uxprobe_page_inp_seconds", 0.2, 0.5},
		{"uxprobe_step_interaction_seconds", 0.2, 0.5},
		{"uxprobe_page_tbt_seconds", 0.2, 0.6},
	}
	panels := queryPanels(loadDashboard(t))
	for _, tt := range tests {
		t.Run(tt.metric, func(t *testing.T) {
			found := false
			for _, p := range panels {
				if len(p.Targets) == 0 || !strings.Contains(p.Targets[0].Expr, tt.metric+"{") {
					continue
				}
				found = true
				th := p.FieldConfig.Defaults.Thresholds
				if th == nil {
					t.Fatalf("panel %q has no thresholds", p.Title)
				}
				var got []string
				for _, s := range th.Steps {
					v := "base"
					if s.Value != nil {
						v = fmt.Sprint(*s.Value)
					}
					got = append(got, s.Color+"@"+v)
				}
				want := []string{"green@base", fmt.Sprintf("orange@%v", tt.good), fmt.Sprintf("red@%v", tt.poor)}
				if strings.Join(got, " ") != strings.Join(want, " ") {
					t.Errorf("panel %q thresholds %q, want %q", p.Title, got, want)
				}
			}
			if !found {
				t.Errorf("no panel shows %s", tt.metric)
			}
		})
	}
}

// TestDashboardQueriesParse has promtool parse every panel query, with
// Grafana's variables replaced by values, as the expression of a recording
// rule.
func TestDashboardQueriesParse(t *testing.T) {
	vars := strings.NewReplacer(
		"$__rate_interval", "1m", "$__interval", "1m", "$__range", "1h",
		"$flow", ".+", "$device", ".+", "$location", ".*",
	)
	type ruleOut struct {
		Record string `yaml:"record"`
		Expr   string `yaml:"expr"`
	}
	var rs []ruleOut
	for _, p := range queryPanels(loadDashboard(t)) {
		for _, tg := range p.Targets {
			e := vars.Replace(tg.Expr)
			if strings.Contains(e, "$") {
				t.Errorf("panel %q: query uses a variable this test does not know: %s", p.Title, tg.Expr)
			}
			rs = append(rs, ruleOut{Record: fmt.Sprintf("dashboard:query:%d", len(rs)), Expr: e})
		}
	}
	out, err := yaml.Marshal(map[string]any{"groups": []any{map[string]any{"name": "dashboard", "rules": rs}}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dashboard.rules.yml")
	writeFile(t, path, out)
	runTool(t, "promtool", "check", "rules", path)
}
