package runner

import (
	"fmt"
	"os"
	"path/filepath"

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

// canPicture reports whether a failure screenshot can be taken after the
// failure: not of a crashed page, nor of one whose main thread stopped
// answering (the capture would wait out its bound for a frame that never
// comes), nor of a cancelled run, whose time belongs to the shutdown.
func (p *tabPage) canPicture(failed *scenarios.StepError) bool {
	switch failed.Kind {
	case scenarios.KindPageCrash, scenarios.KindCancelled:
		return false
	}
	return !p.unresponsive.Load()
}
