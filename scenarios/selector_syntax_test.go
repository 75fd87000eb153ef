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
	}
	for _, tc := range invalid {
		_, err := ParseSelector(tc.sel)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseSelector(%q) = %v, want an error containing %q", tc.sel, err, tc.want)
		}
	}
}
