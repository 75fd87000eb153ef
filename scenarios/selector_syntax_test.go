package scenarios

import (
	"strings"
	"testing"
)

// TestSelectorSyntax: what Chrome accepts must pass (the check is only
// allowed to refuse what is certainly invalid; CSS closes what is open at
// the end, so "a[href" is valid), and common mistakes must be refused
// with a message that says where. TestSelectorCheckAgreesWithChrome in
// agent/runner holds the same judgements against Chrome itself.
func TestSelectorSyntax(t *testing.T) {
	valid := []string{
		"h1", "#q", ".a.b", "div > p + ul ~ li", "a[href^=\"https://\"]", "input[type=checkbox i]",
		"[data-x=\"a,b\"]", "[data-x='a]b']", ":is(h1, h2):not(.x)", "li:nth-child(2n+1)", "a:has(> img)",
		"#main .item::before", "*", "button:not([disabled])", `#\31 23`, `.a\:b`, "ul li:first-child a",
		"a, b , c", "a[href", "a:not(b", "a[title=\"x]", `a\`, "div:is(a, b", "input:checked + label", "[lang|=en]", "p:nth-of-type(odd)", ".ünïcode", "-x-y", "--var",
		"text=Sign in", "text=  ]]] weird (text", "xpath=//a[@id='help']", "xpath=/", "xpath=(//li)[last()]",
		"xpath=//a[contains(., \"]\")]", "xpath=//div | //span", "css=h1 > a", "html",
	}
	for _, s := range valid {
		if _, err := ParseSelector(s); err != nil {
			t.Errorf("ParseSelector(%q): %v, want it accepted", s, err)
		}
	}
	invalid := []struct{ sel, want string }{
		{"div[", `CSS selector "div[" is not valid: the attribute selector at character 4 is empty`},
		{"a[=x", `the attribute selector at character 2 has no attribute name`},
		{"a:not([)", `')' at character 8 does not close the '[' at character 7`},
		{"[]", `the attribute selector at character 1 is empty`},
		{"a[=x]", `the attribute selector at character 2 has no attribute name`},
		{"a[href=]", `has no value after =`},
		{"a[href x]", `has "x" where =, ~=, |=, ^=, $= or *= belongs`},
		{"a]", `']' at character 2 closes nothing`},
		{"a,,b", `the selector list has an empty item at character 3`},
		{"a,", `the selector list ends in an empty item`},
		{"> a", `the combinator '>' at character 1 has no selector before it`},
		{"a >", `it ends in a combinator`},
		{"a > > b", `the combinator '>' at character 5 has no selector before it`},
		{"#1abc", `the id at character 1 is not a name`},
		{"a.", `the class at character 2 is not a name`},
		{"a:", `the pseudo-class at character 2 has no name`},
		{"a (b)", `the parenthesis at character 3 follows no pseudo-class`},
		{"a { color: red }", `'{' at character 3 cannot be part of a selector`},
		{"div \"x\"", `a string at character 5 belongs inside an attribute selector`},
		{"a=b", `'=' at character 2 cannot be part of a selector`},
		{"css=h1 >", `it ends in a combinator`},
		{"xpath=//a[@id='x'", `XPath "//a[@id='x'" is not valid: the '[' at character 4 is not closed`},
		{"xpath=//a[]", `the predicate at character 4 is empty`},
		{"xpath=//a)", `')' at character 4 closes nothing`},
		{"xpath=//a/", `it ends in "/"`},
		{"xpath=//a[@id=\"x]", `the string opened at character 9 is not closed`},
		{"xpath=| //a", `it starts with "|"`},
		// Judged by cascadia's grammar, with Chrome's differences.
		{"h1:foo", `CSS selector "h1:foo" is not valid: unknown pseudo-class :foo at character 3`},
		{"p:nth-child(x)", `:nth-child(x) at character 2: the argument must be An+B`},
		{"a:nth-child(", `:nth-child() at character 2: the argument must be An+B`},
		{":not(", `:not() at character 1 is empty`},
		{"a:has()", `:has() at character 2 is empty`},
		{"div::bar", `unknown pseudo-element ::bar at character 4`},
		{"a:has(> b:has(c))", `:has() at character 10 cannot be inside :has()`},
		{"a:contains(Buy)", `:contains at character 2 is not CSS (a jQuery extension; match the text with text=`},
		{"li:marker", `:marker at character 3 is a pseudo-element: write ::marker`},
		{"a::before span", `::before must end its selector`},
		{"li:nth-child(2n of :foo)", `unknown pseudo-class :foo at character 20`},
		{"#x >> div::bar", `segment 2 ("div::bar"): CSS selector "div::bar" is not valid: unknown pseudo-element ::bar at character 4`},
	}
	for _, tc := range invalid {
		_, err := ParseSelector(tc.sel)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseSelector(%q) = %v, want an error containing %q", tc.sel, err, tc.want)
		}
	}
}

// FuzzSelectorGrammar feeds arbitrary text to the selector parser, the
// hand-written pass and cascadia's grammar behind it (selector_css.go):
// user input, so it must never panic, and its verdict must not depend on
// anything but the text.
func FuzzSelectorGrammar(f *testing.F) {
	for _, s := range selectorTable {
		f.Add(s)
	}
	for s := range knownDisagreements {
		f.Add(s)
	}
	f.Add(`a:not(:not(:not(:has(> b:nth-child(2n+1 of .c, :is(d)))))) >> text=x >> nth=1`)
	f.Add("#${id} .x")
	f.Fuzz(func(t *testing.T, s string) {
		sel, err := ParseSelector(s)
		sel2, err2 := ParseSelector(s)
		if (err == nil) != (err2 == nil) || sel != sel2 {
			t.Fatalf("two verdicts for %q: %v, %v", s, err, err2)
		}
		if err != nil && err.Error() == "" {
			t.Fatalf("empty message for %q", s)
		}
		// A run-time variable's stand-in keeps the text's length, so the
		// positions in a message stay the user's.
		if p := runtimePlaceholder(s); len([]rune(p)) != len([]rune(s)) {
			t.Fatalf("placeholder %q for %q changes the length", p, s)
		}
		_, _ = parseSelectorText(s, runtimePlaceholder)
	})
}
