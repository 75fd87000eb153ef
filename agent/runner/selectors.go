package runner

import (
	"fmt"
	"strings"
)

// multiMatchWarning describes an action whose selector matched more than
// one element, or returns "".
func multiMatchWarning(sel fmt.Stringer, r checkResult) string {
	if r.Count <= 1 {
		return ""
	}
	return fmt.Sprintf("%s matches %d elements (%s); the step used the first", sel, r.Count, strings.Join(r.Matches, ", "))
}
