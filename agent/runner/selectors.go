package runner

import (
	_ "embed"
	"fmt"
	"strings"
)

// selectorsJS is the page's selector engine, and actionsJS where a person
// aims and whether an element stands still. They live in files of their
// own, apart from helper.js, and go in front of it: helper.js calls them.
var (
	//go:embed selectors.js
	selectorsJS string
	//go:embed actions.js
	actionsJS string
)

func init() { helperJS = selectorsJS + "\n" + actionsJS + "\n" + helperJS }

// multiMatchWarning describes an action whose selector matched more than
// one element, or returns "".
func multiMatchWarning(sel fmt.Stringer, r checkResult) string {
	if r.Count <= 1 {
		return ""
	}
	return fmt.Sprintf("%s matches %d elements (%s); the step used the first", sel, r.Count, strings.Join(r.Matches, ", "))
}
