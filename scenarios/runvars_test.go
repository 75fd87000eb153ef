package scenarios

import (
	"strings"
	"testing"
)

// TestBindRunVars checks that run-time variables reach every kind of value
// of an action, and that load-time vars were already substituted.
func TestBindRunVars(t *testing.T) {
	src := `name: bind
vars: {base: https://example.com}
steps:
  - extract: {var: id, selector: "#id"}
  - goto: ${base}/r/${id}?d=${device}&f=${flow}
  - click: role=button[name="Delete ${id}"]
  - assert_text: {selector: "#msg", matches: '^${id} deleted$'}
  - press: {selector: "label=${id}", key: Enter}
  - goto: ${base}/static
finally:
  - goto: ${base}/delete/${id}?run=${run_id}&t=${timestamp}
`
	flows, err := Parse("bind.yaml", []byte(src), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f := flows[0]
	vars := NewRunVars(map[string]string{VarFlow: "bind", VarDevice: "mobile", VarRunID: "r1", VarTimestamp: "1700000000"})
	vars.Set("id", "a.b")
	bind := func(st Step) Action {
		t.Helper()
		a, err := f.Bind(st, vars)
		if err != nil {
			t.Fatalf("Bind(%s): %v", st.Name, err)
		}
		return a
	}
	if got := bind(f.Steps[1]).(Goto).URL; got != "https://example.com/r/a.b?d=mobile&f=bind" {
		t.Errorf("goto URL = %q", got)
	}
	if got := bind(f.Steps[2]).(Click).Selector.String(); got != `role=button[name="Delete a.b"]` {
		t.Errorf("click selector = %q", got)
	}
	m := bind(f.Steps[3]).(AssertText).Match
	if !m.Match("a.b deleted") {
		t.Errorf("matches %q: the regexp was not rebuilt from the bound value, or not at all", m.Want)
	}
	if got := bind(f.Steps[4]).(Press).Selector.String(); got != "label=a.b" {
		t.Errorf("press selector = %q", got)
	}
	if f.Steps[5].dynamic {
		t.Error("a step with load-time vars only is marked dynamic")
	}
	if got := bind(f.Finally[0]).(Goto).URL; got != "https://example.com/delete/a.b?run=r1&t=1700000000" {
		t.Errorf("finally URL = %q", got)
	}
	// The flow's own action is untouched: the next run binds afresh.
	if got := f.Steps[1].Action.(Goto).URL; !strings.Contains(got, "${id}") {
		t.Errorf("Bind changed the flow's action: %q", got)
	}
	_, err = f.Bind(f.Steps[1], NewRunVars(map[string]string{VarFlow: "bind", VarDevice: "mobile"}))
	if se := AsStepError(err); se == nil || !strings.Contains(se.Message, "variable ${id} has no value") {
		t.Errorf("Bind without the extracted value = %v", err)
	}
}

func TestExtractedSecretsMaskPerRun(t *testing.T) {
	src := "name: s\nvars: {pw: hunter2}\nsecrets: [pw, token]\nsteps:\n  - extract: {var: token, eval: window.t}\n  - goto: https://example.com/${token}\n"
	flows, err := Parse("s.yaml", []byte(src), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f := flows[0]
	if !f.IsSecretVar("token") || f.IsSecretVar("pw") {
		t.Fatalf("IsSecretVar: token %v, pw %v", f.IsSecretVar("token"), f.IsSecretVar("pw"))
	}
	run := f.ForRun()
	run.AddSecretValue("tok-123")
	if got := run.Mask("hunter2 tok-123"); got != "*** ***" {
		t.Errorf("run Mask = %q", got)
	}
	if got := f.Mask("tok-123"); got != "tok-123" {
		t.Errorf("a run's secret leaks into the flow's mask: %q", got)
	}
}

// TestRuntimeVarInSelector: a run-time variable inside a CSS id or class is
// judged as a name at load, and the selector is judged again with the
// variable's value when the step is bound.
func TestRuntimeVarInSelector(t *testing.T) {
	src := `name: sel
steps:
  - extract: {var: id, selector: "#id"}
  - click: "g#uxedi${run_id} .node"
  - wait_for: "#item-${id} >> text=Done"
  - click: "#${id}"
`
	flows, err := Parse("sel.yaml", []byte(src), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f := flows[0]
	vars := NewRunVars(map[string]string{VarFlow: "sel", VarDevice: "desktop", VarRunID: "4f2a", VarTimestamp: "1"})
	vars.Set("id", "a1")
	for i, want := range map[int]string{1: "g#uxedi4f2a .node", 2: "#item-a1 >> text=Done", 3: "#a1"} {
		a, err := f.Bind(f.Steps[i], vars)
		if err != nil {
			t.Fatalf("Bind(step %d): %v", i, err)
		}
		var got string
		switch a := a.(type) {
		case Click:
			got = a.Selector.String()
		case WaitFor:
			got = a.Selector.String()
		}
		if got != want {
			t.Errorf("step %d selector = %q, want %q", i, got, want)
		}
	}
	// A value that makes the selector invalid is a step error that says so,
	// not a selector that never matches.
	vars.Set("id", "1st")
	_, err = f.Bind(f.Steps[3], vars)
	if se := AsStepError(err); se == nil || se.Kind != KindScript || !strings.Contains(se.Message, `selector #1st is not valid once its variables are substituted: the id at character 1 is not a name`) {
		t.Errorf("Bind with an invalid value = %v", err)
	}
}
