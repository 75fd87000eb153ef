package result

// Latest is what is kept of one flow on one device between runs: its latest
// run of any outcome, and its latest verdict on the site. Add is the one rule
// for error runs that the agent's store, the metrics and the Pushgateway
// share.
type Latest struct {
	Flow, Device string
	// Last is the latest completed run, whatever its outcome; nil before
	// the first. /api/v1/results shows it, so that our own crash is visible.
	Last *Result
	// Verdict is the latest run that said something about the site (a
	// success or a failure); nil before the first. An error run never
	// replaces it, so that a crash of uxprobe or Chrome does not look like
	// the site being down.
	Verdict *Result
}

// Add makes r the latest run, and the latest verdict unless it ended in an
// error of uxprobe or Chrome.
func (l *Latest) Add(r *Result) {
	l.Last = r
	if r.Outcome() != OutcomeError {
		l.Verdict = r
	}
}
