package runner

import (
	_ "embed"
	"fmt"
	"strings"
)

// selectorsJS is the page's selector engine. It lives in a file of its own,
// apart from helper.js, and goes in front of it: helper.js's find calls it.
//
//go:embed selectors.js
var selectorsJS string

func init() { helperJS = selectorsJS + "\n" + helperJS }

// multiMatchWarning describes an action whose selector matched more than
// one element, or returns "".
func multiMatchWarning(sel fmt.Stringer, r checkResult) string {
	if r.Count <= 1 {
		return ""
	}
	return fmt.Sprintf("%s matches %d elements (%s); the step used the first", sel, r.Count, strings.Join(r.Matches, ", "))
}
