package runner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/uxprobe/uxprobe/agent/redact"

	"github.com/uxprobe/uxprobe/scenarios"
)

// saveArtifact writes a screenshot. A file that cannot be written (a full
// disk, an artifacts path that is a file) is the agent's problem, not the
// site's and not a reason to stop the flow, whose later steps may find
// the site's real failure: it is logged and counted, and the run goes on
// without the picture. It reports whether the file was written.
func (r *Runner) saveArtifact(f *scenarios.Flow, d scenarios.Device, path string, data []byte) bool {
	err := os.MkdirAll(filepath.Dir(path), 0o755)
	if err == nil {
		err = os.WriteFile(path, data, 0o644)
	}
	if err == nil {
		return true
	}
	// The path went through the flow's mask; an error of the file system
	// names nothing else.
	r.logger().Error("could not write an artifact; the run goes on without it",
		"flow", f.Name, "device", d.Name, "path", path, "err", f.Mask(fmt.Sprint(err)))
	if r.OnArtifactError != nil {
		r.OnArtifactError()
	}
	return false
}

// failureShotBound bounds the failure screenshot: the picture of the
// moment of failure is what people look at first, so a page slow to
// answer under load gets longer than a step's screenshot would.
const failureShotBound = 10 * time.Second

// whyNoPicture says why no failure screenshot can be taken after the
// failure, or "": not of a crashed page, nor of one whose main thread
// stopped answering (the capture would wait out its bound for a frame that
// never comes), nor of a cancelled run, whose time belongs to the
// shutdown, nor when Chrome itself broke.
func (p *tabPage) whyNoPicture(failed *scenarios.StepError) string {
	switch failed.Kind {
	case scenarios.KindPageCrash:
		return "the page crashed"
	case scenarios.KindCancelled:
		return "the run was cancelled"
	case scenarios.KindBrowser:
		return "Chrome broke"
	}
	if p.unresponsive.Load() {
		return "the page stopped answering"
	}
	return ""
}

// failureShot takes the failure screenshot of step, with a bound of its
// own (the step's may be spent), and records why when it could not.
func (s *session) failureShot(step string) {
	shotCtx, cancel := context.WithTimeout(s.tab.Ctx, failureShotBound)
	defer cancel()
	before := len(s.pg.taken)
	err := s.pg.Screenshot(shotCtx, "failure-"+step)
	switch {
	case err != nil:
		why := "taking it failed: " + err.Error()
		if shotCtx.Err() != nil {
			why = fmt.Sprintf("the page did not give a picture within %s", failureShotBound)
		}
		s.noFailureShot(step, why)
	case len(s.pg.taken) == before:
		s.noFailureShot(step, "the file could not be written (see the agent's log)")
	}
}

// noFailureShot records, in the result and the log, why a failure has
// no screenshot, when screenshots are on.
func (s *session) noFailureShot(step, why string) {
	if s.r.ArtifactsDir == "" {
		return
	}
	s.shotErr = why
	s.r.logger().Warn("no failure screenshot", "flow", s.f.Name, "device", s.d.Name, "step", step, "reason", redact.String(why, s.f, 0))
}
