package runner

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/uxprobe/uxprobe/scenarios"
)

// runnerActionSteps is one step of each action that works on the test
// site's home page, in an order that keeps each one meaningful. Its keys
// are the runner's list of actions; TestEveryActionRuns requires it to be
// the loader's list, so an action cannot be added to the table without
// being run here in Chrome.
var runnerActionSteps = []struct{ action, step string }{
	{"goto", "goto: ${u}/"},
	{"audit", "audit: {rules: [horizontal-overflow, image-dimensions], fail: true}"},
	{"hover", "hover: '#hoverme'"},
	{"assert_text", "assert_text: {selector: '#hoverme', equals: hovered}"},
	{"drag", "drag: {from: '#hoverme', to: '#title'}"},
	{"scroll_to", "scroll_to: '#far'"},
	{"assert_visible", "assert_visible: {selector: '#far', in_viewport: true}"},
	{"fill", "fill: {selector: '#q', value: lamp}"},
	{"select", "select: {selector: '#ship', value: exp}"},
	{"wait_for", "wait_for: {selector: '#late', state: visible}"},
	{"sleep", "sleep: 10ms"},
	{"click", "click: '#counter'"},
	{"dblclick", "dblclick: '#counter'"},
	{"assert_url", "assert_url: {equals: '${u}/'}"},
	{"assert_title", "assert_title: Home"},
	{"eval", "eval: document.querySelector('#q').value === 'lamp' && !!window.open('/help')"}, // opens a tab for close_tab
	{"close_tab", "close_tab:"},
	{"request", "request: {url: '${u}/help', status: 200}"},
	{"network", "network: online"},
	{"screenshot", "screenshot: home"},
	{"assert_screenshot", "assert_screenshot: {name: home, mask: ['#late']}"},
	{"extract", "extract: {var: title, selector: '#title'}"},
	{"upload", "upload: {selector: '#file', files: main_test.go}"}, // relative to the flow's test.yaml, here
	{"type", "type: {selector: '#q', text: s}"},
	{"press", "press: {selector: '#q', key: Enter}"},
}

// TestEveryActionRuns runs every action of the table in one flow in Chrome:
// each has an implementation in the runner (through the Page it drives),
// and each step of the result names its action as the table does.
func TestEveryActionRuns(t *testing.T) {
	t.Parallel()
	var keys []string
	for _, s := range runnerActionSteps {
		keys = append(keys, s.action)
	}
	slices.Sort(keys)
	if want := slices.Sorted(slices.Values(scenarios.ActionNames())); !slices.Equal(keys, want) {
		t.Fatalf("the runner's actions %v differ from the loader's %v", keys, want)
	}
	srv := testSite(t)
	var steps strings.Builder
	for _, s := range runnerActionSteps {
		steps.WriteString("  - " + strings.ReplaceAll(s.step, "${u}", srv.URL) + "\n")
	}
	f := mustFlow(t, "name: every-action\ntimeout: 30s\nsteps:\n"+steps.String())
	r := &Runner{Browser: testBrowser, ArtifactsDir: t.TempDir(), Baselines: t.TempDir()}
	res := r.Run(context.Background(), f, desktop(t))
	if !res.Success {
		t.Fatalf("the flow of every action failed: %+v", res.Error)
	}
	if len(res.Steps) != len(runnerActionSteps) {
		t.Fatalf("%d steps in the result, want %d", len(res.Steps), len(runnerActionSteps))
	}
	for i, s := range runnerActionSteps {
		if got := res.Steps[i]; got.Action != s.action || !got.Success {
			t.Errorf("step %d: action %q success %v, want %q succeeded", i+1, got.Action, got.Success, s.action)
		}
	}
}
