package main

import (
	"fmt"
	"io"

	"github.com/uxprobe/uxprobe/agent/result"
)

// printNotes follows check's table with what the runs saw besides their
// verdict, one line each, after a blank line: the first console error (a
// green run with a broken script is still worth a look), the warnings of
// steps, failed cleanup steps and the dialogs the pages opened.
func printNotes(w io.Writer, results []*result.Result) {
	var lines []string
	for _, r := range results {
		who := r.Flow + " on " + r.Device
		if len(r.ConsoleErrors) > 0 {
			lines = append(lines, fmt.Sprintf("%s: first console error: %s", who, r.ConsoleErrors[0]))
		}
		for _, s := range r.Steps {
			for _, warn := range s.Warnings {
				lines = append(lines, fmt.Sprintf("%s: step %q: warning: %s", who, s.Name, warn))
			}
		}
		for _, s := range r.CleanupFailures() {
			lines = append(lines, fmt.Sprintf("%s: cleanup step %q failed: %s", who, s.Name, s.Error))
		}
		for _, d := range r.Dialogs {
			lines = append(lines, fmt.Sprintf("%s: step %q: the page opened a %s dialog: %q", who, d.Step, d.Type, d.Message))
		}
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintln(w)
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
}
