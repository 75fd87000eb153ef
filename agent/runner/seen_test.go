package runner

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/uxprobe/uxprobe/scenarios"
)

// seenPage holds text a person sees next to text they do not: not
// rendered, invisible, in an empty clipping box, in a closed <details>,
// and an input's typed value.
const seenPage = `<!doctype html><link rel="icon" href="data:,"><title>seen</title>
<h1>Debug</h1>
<div id="none" style="display:none">deployed none</div>
<div id="vis" style="visibility:hidden">deployed vis</div>
<div id="zero" style="width:0;height:0;overflow:hidden">deployed zero</div>
<div id="inzero" style="height:0;overflow:hidden"><p id="deep">deployed deep</p></div>
<details id="det"><summary id="sum">More</summary><p id="inner">deployed inside</p></details>
<div id="mixed">shown <span style="display:none">secret-none</span><span style="visibility:hidden">secret-vis</span><span style="display:inline-block;width:0;height:0;overflow:hidden">secret-zero</span> <b>end</b></div>
<div id="blocks"><div>one</div><div>two</div></div>
<label>User <input id="user" value="alice"></label>
<p id="upper" style="text-transform:uppercase">loud</p>
<input type="submit" id="go" value="Log in">
<div id="float"><div style="float:left">floated text</div></div>
<div id="host"></div>
<script>document.getElementById('host').attachShadow({mode: 'open'}).innerHTML = '<p id="shadowed">in the shadow</p>';</script>`

func TestTextIsWhatAPersonSees(t *testing.T) {
	// Not parallel with the other tests: its runs, in parallel among
	// themselves, would slow the pages whose timings other tests check.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, seenPage)
	}))
	t.Cleanup(srv.Close)
	tests := []struct {
		name     string
		steps    string
		wantKind scenarios.ErrorKind // empty: the flow succeeds
		wantMsg  string
	}{
		{"display none is not seen", `- assert_text: {selector: "#none", contains: deployed}`, scenarios.KindAssertion, "div#none is not visible (display: none)"},
		{"visibility hidden is not seen", `- assert_text: {selector: "#vis", contains: deployed}`, scenarios.KindAssertion, "div#vis is not visible (visibility: hidden)"},
		{"zero size is not seen", `- assert_text: {selector: "#zero", contains: deployed}`, scenarios.KindAssertion, "div#zero is not visible (zero size)"},
		{"inside a zero size box is not seen", `- assert_text: {selector: "#deep", contains: deployed}`, scenarios.KindAssertion, "p#deep is not visible (inside an element of zero size)"},
		{"closed details is not seen", `- assert_text: {selector: "#inner", contains: deployed}`, scenarios.KindAssertion, "p#inner is not visible (inside a closed <details>)"},
		{"opened details is seen", "- click: \"#sum\"\n- assert_text: {selector: \"#inner\", equals: deployed inside}", "", ""},
		{"summary of closed details is seen", `- assert_text: {selector: "#sum", equals: More}`, "", ""},
		{"hidden parts are left out", `- assert_text: {selector: "#mixed", equals: shown end}`, "", ""},
		{"blocks are apart", `- assert_text: {selector: "#blocks", equals: one two}`, "", ""},
		{"text-transform as shown", `- assert_text: {selector: "#upper", equals: LOUD}`, "", ""},
		{"an input's value through assert_text on it", `- assert_text: {selector: "#user", equals: alice}`, "", ""},
		{"a floated child of an empty box is seen", `- assert_text: {selector: "#float", equals: floated text}`, "", ""},
		{"text= does not match an input's value", `- wait_for: text=alice`, scenarios.KindElementNotFound, "no element matches text=alice"},
		{"text= does not match hidden text", `- wait_for: {selector: "text=deployed", state: present}`, scenarios.KindElementNotFound, "no element matches text=deployed"},
		{"text= does not match a hidden part", `- wait_for: {selector: "text=secret", state: present}`, scenarios.KindElementNotFound, "no element matches text=secret"},
		{"text= matches a button input's label", "- click: text=Log in", "", ""},
		{"text= matches in a shadow root", `- assert_text: {selector: "text=in the shadow", equals: in the shadow}`, "", ""},
		{"text= in a chain looks inside its scope", `- assert_text: {selector: "#blocks >> text=two", equals: two}`, "", ""},
		{"text= in a chain is not its scope", `- wait_for: {selector: "#blocks >> text=one two", state: present}`, scenarios.KindElementNotFound, "no element matches"},
		{"text= matches after details open", "- click: text=More\n- assert_text: {selector: \"text=deployed inside\", equals: deployed inside}", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			steps := "- goto: " + srv.URL + "/\n" + tc.steps
			if tc.wantKind != "" {
				steps += "\n  timeout: 400ms"
			}
			f := mustFlow(t, "name: t\ntimeout: 20s\nsteps:\n"+indent(steps))
			res := (&Runner{Browser: testBrowser}).Run(context.Background(), f, desktop(t))
			if tc.wantKind == "" {
				if !res.Success {
					t.Fatalf("flow failed: %+v", res.Error)
				}
				return
			}
			if res.Success {
				t.Fatalf("flow succeeded, want a %s failure", tc.wantKind)
			}
			if res.Error.Kind != tc.wantKind || !strings.Contains(res.Error.Message, tc.wantMsg) {
				t.Fatalf("error = %s: %q\nwant %s containing %q", res.Error.Kind, res.Error.Message, tc.wantKind, tc.wantMsg)
			}
		})
	}
}
