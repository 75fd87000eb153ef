package runner

import (
	"fmt"

	"github.com/chromedp/cdproto/runtime"
)

// exceptionSource says where an uncaught exception was thrown, as
// " (url:line)", or "" when Chrome does not say: which script broke is the
// first thing to know about a JavaScript error.
func exceptionSource(ex *runtime.ExceptionDetails) string {
	if ex == nil {
		return ""
	}
	if s := stackSource(ex.StackTrace); s != "" {
		return s
	}
	if ex.URL == "" {
		return ""
	}
	return fmt.Sprintf(" (%s:%d)", ex.URL, ex.LineNumber+1)
}

// stackSource is the top frame of a stack as " (url:line)", or "".
func stackSource(st *runtime.StackTrace) string {
	if st == nil || len(st.CallFrames) == 0 || st.CallFrames[0].URL == "" {
		return ""
	}
	f := st.CallFrames[0]
	return fmt.Sprintf(" (%s:%d)", f.URL, f.LineNumber+1) // Chrome counts lines from 0
}
