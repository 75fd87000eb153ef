package runner

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/uxprobe/uxprobe/scenarios"
)

// TestSelectorCheckAgreesWithChrome: the load-time selector check must
// refuse only selectors Chrome refuses too, and catch the mistakes Chrome
// refuses. Each selector is tried in a real page with querySelector or
// document.evaluate.
func TestSelectorCheckAgreesWithChrome(t *testing.T) {
	t.Parallel()
	sels := []string{
		"h1", "#q", ".a.b", "div > p + ul ~ li", "a[href^=\"https://\"]", "input[type=checkbox i]",
		"[data-x=\"a,b\"]", ":is(h1, h2):not(.x)", "li:nth-child(2n+1)", "a:has(> img)", "#main .item::before",
		"*", "button:not([disabled])", `#\31 23`, `.a\:b`, "a, b , c", "[lang|=en]", ".ünïcode", "-x-y", "--var",
		"div[", "a[href", "[]", "a[=x]", "a[href=]", "a[href x]", "a]", "a,,b", "a,", "> a", "a >", "a > > b",
		"#1abc", "a.", "a:", "a:not(b", "a (b)", "a { color: red }", "div \"x\"", "a[title=\"x]", "a=b", `a\`, "a[=x", "a:not([)", "div:is(a, b", "a\nb",
		"xpath=//a[@id='x'", "xpath=//a[]", "xpath=//a)", "xpath=//a/", "xpath=| //a", "xpath=//a[@id='help']",
		"xpath=(//li)[last()]", "xpath=//div | //span", "xpath=/",
	}
	js, _ := json.Marshal(sels)
	// One evaluation in a blank page answers for every selector.
	expr := `JSON.stringify(` + string(js) + `.map(s => { try {
  if (s.startsWith('xpath=')) document.evaluate(s.slice(6), document, null, XPathResult.ANY_TYPE, null);
  else document.querySelector(s.startsWith('css=') ? s.slice(4) : s);
  return true; } catch (e) { return false; } }))`
	tab, err := testBrowser.NewTab(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer testBrowser.Release(tab)
	pg := &tabPage{t: chromedp.FromContext(tab.Ctx).Target, events: newTracker("", func(s string) string { return s }), flow: mustFlow(t, "name: t\nsteps:\n  - sleep: 1ms\n")}
	var out string
	if err := pg.call(context.Background(), expr, &out); err != nil {
		t.Fatal(err)
	}
	var accepted []bool
	if err := json.Unmarshal([]byte(out), &accepted); err != nil {
		t.Fatal(err)
	}
	for i, s := range sels {
		_, err := scenarios.ParseSelector(s)
		if ours := err == nil; ours != accepted[i] {
			t.Errorf("%q: Chrome accepts it: %v, uxprobe's check: %v (%v)", s, accepted[i], ours, err)
		}
	}
}
