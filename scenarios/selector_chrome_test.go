package scenarios

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/uxprobe/uxprobe/agent/browser"
)

// selectorTable is every CSS selector whose verdict is checked against
// Chrome: what flows use, the mistakes people make, and each place where
// cascadia and Chrome disagree (selector_css.go).
var selectorTable = []string{
	// What flows use.
	"h1", "#q", ".a.b", "div > p + ul ~ li", `a[href^="https://"]`, "input[type=checkbox i]", `[data-x="a,b"]`,
	`[data-x='a]b']`, ":is(h1, h2):not(.x)", "li:nth-child(2n+1)", "a:has(> img)", "#main .item::before", "*",
	"button:not([disabled])", `#\31 23`, `.a\:b`, "ul li:first-child a", "a, b , c", "[lang|=en]",
	"p:nth-of-type(odd)", ".ünïcode", "-x-y", "--var", "input:checked + label", "html", "a /* c */ b",
	"g#uxedi42 .node", "form :is(input, select):focus-visible", "li:nth-child(2n+1 of .x)",
	"li:nth-child(odd of li.a, li.b)", "li:nth-child(2n + 1)", "li:nth-child( 2n+1 )", "li:nth-child(-n+3)",
	"li:nth-child(+5)", "li:nth-child(n)", ":nth-child(2N+1)", ":NOT(a)", ":Hover", ":lang(en-US)",
	"[ a = b ]", `[a="b" I]`, "a[b|=c]", ":root", ".a .b", "a>b", "a~b", "a+b",
	// The brief's mistakes, and others.
	"h1:foo", "p:nth-child(x)", "a:nth-child(", ":not(", "a:has()", "div::bar", "div[", "a[=x", "a:not([)",
	"[]", "a[=x]", "a[href=]", "a[href x]", "a]", "a,,b", "a,", "> a", "a >", "a > > b", "#1abc", "#-1", ".1a",
	"a.", "a:", "a (b)", "a { color: red }", `div "x"`, "a=b", "a\nb", "a||b", "[data-x=1]", "[data-x=a b]",
	"li:nth-child(- n+3)", "li:nth-of-type(2n of p)", "a:nth-child(1 of)", "a:nth-child(of a)",
	"a:nth-child(2n+1 of a, :foo)", ":lang()", `:lang("en")`, ":lang(en, fr)", ":dir()", ":dir(ltr rtl)",
	":state()", "[a=b s]", "[a=b x]", ":first", ":left", ":blank", ":heading", ":playing",
	// Chrome closes what is open at the end; cascadia needs it closed.
	"a[href", "a:not(b", `a[title="x]`, `a\`, "div:is(a, b", "a /* c",
	// Nesting and namespaces: Chrome takes them, cascadia does not know them.
	"&", "& > a", "a &", ".x&", "*|a", "|a", "*|*", "|*", "[*|href]", "[|a]", "--", "---a", "#--",
	"svg|a", "a|b", "[xlink|href]",
	// cascadia's extensions, which Chrome refuses.
	"[a!=b]", "a:contains(x)", "a:matches(b)", "a:input", "a:haschild(b)", "a:containsown(x)",
	// Relative and nested :has(), :is(), :where().
	"a:has(+ b, ~ c)", "a:has(:has(b))", "a:has(> b:has(c))", "a:not(:has(b))", ":has(a):has(b)",
	"a:has(:is(:has(b)))", "a:has(:not(:has(b)))", ":is()", ":where()", ":is(:foo)", ":is(a, :foo)",
	":not(a, b > c)", ":not(:is(a))", ":is(a):not(b)",
	// Chrome's functional pseudo-classes.
	":host(.a)", ":host(:hover)", ":host()", ":host-context(.a)", ":host-context()", ":-webkit-any(a, b)",
	":-webkit-any()", ":dir(ltr)", ":dir(foo)", ":state(x)", ":state(--x)", ":active-view-transition-type(x)",
	// Pseudo-elements.
	"a:not(::before)", "a:has(::before)", "::cue(b)", "::part(x)", "::part(x y)", "::part()", "::slotted(b)",
	"::slotted(a b)", "::slotted()", "::highlight(x)", "::highlight()", "::view-transition-group(x)",
	"::view-transition-old(*)", "::picker(select)", "::picker(x)", "::-webkit-scrollbar", "::-webkit-foo", "::-moz-selection",
	":before", ":after", ":first-line", ":first-letter", ":marker", ":placeholder", ":selection",
	"::before:hover", "::before.x", "::before::marker", "::before::after", "::before span", "a::before, b",
	"::part(x):hover", "::part(x)::before", "::slotted(a)::before", "::-webkit-scrollbar:horizontal",
	"::placeholder:hover", "::marker:hover",
}

// knownDisagreements are the selectors whose verdict differs from Chrome's,
// each with the reason it is left so. The test fails if one stops
// disagreeing, so the list cannot go stale.
var knownDisagreements = map[string]string{
	// Chrome takes a pseudo-element in the "of S" of :nth-child(), where
	// it can never match; refusing it tells the user so.
	"a:nth-child(2n+1 of ::before)": "a pseudo-element in :nth-child(... of S)",
}

// TestSelectorCheckAgreesWithChrome: each selector of the table, and each
// pseudo-class and pseudo-element the check knows beyond cascadia, is
// judged by Chrome's document.querySelector in a real headless Chrome, and
// the load-time check must give the same verdict. So the table proves
// agreement with Chrome, not with a guess of what Chrome does.
func TestSelectorCheckAgreesWithChrome(t *testing.T) {
	sels := append([]string(nil), selectorTable...)
	for _, set := range []map[string]bool{chromePseudoClasses, cascadiaPseudoClasses} {
		for name := range set {
			sels = append(sels, ":"+name, "a:"+name+" b")
		}
	}
	for name := range chromePseudoElements {
		sels = append(sels, "::"+name, "p::"+name)
	}
	for name, kind := range chromeFunctions {
		sels = append(sels, ":"+name+"("+map[string]string{"forgiving": "a, b", "selector": ".a", "ident": "ltr"}[kind]+")")
	}
	for name, kind := range chromeElementFunctions {
		sels = append(sels, "::"+name+"("+map[string]string{"idents": "x", "compound": "b.c", "selector": "b", "ident": "x", "select": "select"}[kind]+")")
	}
	for s := range knownDisagreements {
		sels = append(sels, s)
	}
	sort.Strings(sels)
	sels = slices.Compact(sels)

	accepted := chromeAccepts(t, sels)
	for i, s := range sels {
		_, err := ParseSelector(s)
		ours := err == nil
		if reason, known := knownDisagreements[s]; known {
			if ours == accepted[i] {
				t.Errorf("%q no longer disagrees with Chrome (%s): remove it from knownDisagreements", s, reason)
			}
			continue
		}
		if ours != accepted[i] {
			t.Errorf("%q: Chrome accepts it: %v, uxprobe's check: %v (%v)", s, accepted[i], ours, err)
		}
	}
	// The mistakes the check exists for: Chrome refuses each, so must we.
	for _, s := range []string{"h1:foo", "p:nth-child(x)", "a:nth-child(", ":not(", "a:has()", "div::bar"} {
		if i := slices.Index(sels, s); i < 0 || accepted[i] {
			t.Errorf("%q: Chrome accepts it or it is not in the table", s)
		}
	}
}

// chromeAccepts asks a real headless Chrome, in one evaluation in a blank
// page, whether document.querySelector throws for each selector.
func chromeAccepts(t *testing.T, sels []string) []bool {
	t.Helper()
	b, err := browser.Start(browser.Options{NoSandbox: os.Geteuid() == 0, ProfileDir: t.TempDir()})
	if err != nil {
		t.Fatalf("this test asks Chrome: %v", err)
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tab, err := b.NewTab(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release(tab)
	js, _ := json.Marshal(sels)
	expr := `JSON.stringify(` + string(js) + `.map(s => { try { document.querySelector(s); return true } catch (e) { return false } }))`
	out, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		t.Fatal(err)
	}
	var accepted []bool
	if err := json.Unmarshal([]byte(out), &accepted); err != nil || len(accepted) != len(sels) {
		t.Fatalf("Chrome's answer %.200q: %v", out, err)
	}
	if !strings.Contains(out, "true") || !strings.Contains(out, "false") {
		t.Fatalf("Chrome accepted all or none: %.200q", out)
	}
	return accepted
}
