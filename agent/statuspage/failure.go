package statuspage

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/uxprobe/uxprobe/agent/history"
	"github.com/uxprobe/uxprobe/agent/result"
)

// failureShotPrefix starts the name of the screenshot the runner takes when
// a step fails.
const failureShotPrefix = "failure-"

// failureShot answers GET /flows/{flow}/failure.png?device=&location=: the
// failure screenshot of the flow's latest failed run, while its latest run
// has not succeeded. It is the picture an alert links to (the screenshot
// annotation of the shipped rules), so its URL stays the same while the
// picture changes: never cached, and 404 once the flow works again, so
// that an old notification does not show a failure that is over as if it
// were current. Device and location narrow the runs; empty means any.
func (h *Handler) failureShot(w http.ResponseWriter, r *http.Request) {
	if h.storeMissing(w, false) {
		return
	}
	q := history.Query{Flow: r.PathValue("flow"), Device: r.URL.Query().Get("device"), Limit: 1}
	if loc := r.URL.Query().Get("location"); loc != "" {
		if !locationPattern.MatchString(loc) {
			http.Error(w, fmt.Sprintf("location %q: want letters a-z, digits and -", loc), http.StatusBadRequest)
			return
		}
		q.Location = loc
	}
	run, err := h.failedRun(r, q)
	if errors.Is(err, history.ErrNotFound) {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	if err != nil {
		h.log.Error("reading the run history for a failure screenshot", "err", err)
		http.Error(w, "the run history could not be read", http.StatusInternalServerError)
		return
	}
	name := ""
	for _, a := range run.Artifacts {
		if a.Kind == history.KindScreenshot && strings.HasPrefix(a.Name, failureShotPrefix) {
			name = a.Name
		}
	}
	if name == "" {
		http.Error(w, "the latest failed run of this flow has no failure screenshot", http.StatusNotFound)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	// Where the picture stays once this URL shows a newer one.
	w.Header().Set("Link", "<"+h.rel(r, artifactURL("/", run.ID, name))+`>; rel="canonical"`)
	h.serveArtifact(w, r, run.ID, name, "image/png")
}

// failedRun returns the latest run that q selects if it did not succeed and
// has a failure screenshot; if it ended in an agent error instead (which
// says nothing about the site), the latest failed run since the last
// success. ErrNotFound, with a reason, otherwise.
func (h *Handler) failedRun(r *http.Request, q history.Query) (history.Run, error) {
	ctx := r.Context()
	what := "flow " + q.Flow
	if q.Device != "" {
		what += " on " + q.Device
	}
	if q.Location != "" {
		what += " in " + q.Location
	}
	runs, err := h.opts.Store.Runs(ctx, q)
	if err != nil {
		return history.Run{}, err
	}
	if len(runs) == 0 {
		return history.Run{}, fmt.Errorf("%w: %s has no runs", history.ErrNotFound, what)
	}
	last := runs[0]
	switch last.Result.Outcome() {
	case result.OutcomeSuccess:
		return history.Run{}, fmt.Errorf("%w: the last run of %s succeeded", history.ErrNotFound, what)
	case result.OutcomeFailure:
		return last, nil
	}
	fq := q
	fq.Outcome = result.OutcomeFailure
	failed, err := h.opts.Store.Runs(ctx, fq)
	if err != nil {
		return history.Run{}, err
	}
	sq := q
	sq.Outcome = result.OutcomeSuccess
	good, err := h.opts.Store.Runs(ctx, sq)
	if err != nil {
		return history.Run{}, err
	}
	if len(failed) == 0 || len(good) > 0 && !failed[0].Result.StartedAt.After(good[0].Result.StartedAt) {
		return history.Run{}, fmt.Errorf("%w: %s has not failed since its last success", history.ErrNotFound, what)
	}
	return failed[0], nil
}

// rel makes an absolute path of the handler's (root "/") relative to the
// request's, so that it holds under a prefix too.
func (h *Handler) rel(r *http.Request, p string) string {
	depth := strings.Count(strings.TrimPrefix(r.URL.Path, "/"), "/")
	return strings.Repeat("../", depth) + strings.TrimPrefix(p, "/")
}
