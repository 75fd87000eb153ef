package bridge

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"

	"github.com/uxprobe/uxprobe/scenarios"
)

func TestExpressionsEncodeArgumentsAsJSON(t *testing.T) {
	hostile := scenarios.Selector{Kind: scenarios.SelectorCSS, Value: `a[title="x"]'); alert(1); ('` + "\u2028"}
	tests := []struct {
		got  Expr
		want string
	}{
		{Wait(hostile, CondClickable, 1500*time.Millisecond, true), `__uxprobe.wait("css","a[title=\"x\"]'); alert(1); ('\u2028","clickable",1500,true)`},
		{Check(scenarios.Selector{Kind: scenarios.SelectorText, Value: "Buy"}, CondInViewport), `__uxprobe.check("text","Buy","in_viewport")`},
		{Apply(scenarios.Selector{Kind: scenarios.SelectorCSS, Value: "#ship"}, `(el, v) => {}`, `exp"ress`), `__uxprobe.apply("css","#ship",((el, v) => {}),["exp\"ress"])`},
		{Apply(hostile, `(el) => {}`), `__uxprobe.apply("css","a[title=\"x\"]'); alert(1); ('\u2028",((el) => {}),[])`},
		{Settle(3 * time.Second), `__uxprobe.settle(3000)`},
		{NavsAfterTasks(), `__uxprobe.navsAfterTasks()`},
		{ChainFirst(`iframe#pay`), `__uxprobeSelect.all("chain","iframe#pay")[0]`},
		{FrameBoxAt(`iframe`, 1.5, 20), `__uxprobeSelect.frameBox("iframe",1.5,20)`},
		{Quiet(2 * time.Second), `__uxprobeAct.quiet(2000)`},
	}
	for _, tc := range tests {
		if string(tc.got) != tc.want {
			t.Errorf("got  %s\nwant %s", tc.got, tc.want)
		}
	}
}

// TestBundleOrder: each script of the bundle comes after those it uses,
// once each.
func TestBundleOrder(t *testing.T) {
	b := Bundle()
	at := map[string]int{}
	for _, marker := range []string{"window.__uxprobeSelect = {", "window.__uxprobeAct = {", "window.__uxprobeVitals = {", "window.__uxprobe = {"} {
		if strings.Count(b, marker) != 1 {
			t.Fatalf("%q is %d times in the bundle", marker, strings.Count(b, marker))
		}
		at[marker] = strings.Index(b, marker)
	}
	if !(at["window.__uxprobeSelect = {"] < at["window.__uxprobeAct = {"] && at["window.__uxprobeAct = {"] < at["window.__uxprobe = {"] &&
		at["window.__uxprobeVitals = {"] < at["window.__uxprobe = {"]) {
		t.Errorf("bundle order %v: helper.js must come after the scripts it uses", at)
	}
}

// TestEvaluateAfterACrashAsksNothing: a crashed renderer answers nothing,
// so an evaluation is not even sent (the nil session would panic if it
// were).
func TestEvaluateAfterACrashAsksNothing(t *testing.T) {
	crashed := make(chan struct{})
	close(crashed)
	_, err := Evaluate(context.Background(), nil, runtime.EvaluateParams{Expression: "1"}, crashed)
	if !errors.Is(err, ErrCrashed) {
		t.Errorf("err = %v, want ErrCrashed", err)
	}
}
