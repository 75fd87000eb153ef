package statuspage

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/uxprobe/uxprobe/agent/history"
	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/agent/visual"
)

// visualView is a failed assert_screenshot step of a run: its baseline as
// it was, the run's picture and the diff, side by side.
type visualView struct {
	Step, Name string
	// Ratio is the share of changed pixels, e.g. "0.52 %".
	Ratio                  string
	Changed                int
	Baseline, Actual, Diff *shot
	// AcceptURL is where the run page's form posts to make Actual the
	// baseline; empty when the agent keeps no baselines or the picture is
	// not kept. Accepted says it just was.
	AcceptURL string
	Accepted  bool
}

// actualSuffix ends the artifact name of a failed comparison's picture,
// <name>.actual.png, as the runner keeps it: the rest is the check's name.
const actualSuffix = ".actual.png"

// visualViews are the run's failed comparisons that kept their pictures.
func visualViews(run history.Run, root string) []visualView {
	kept := map[string]bool{}
	for _, a := range run.Artifacts {
		if a.Kind == history.KindVisual {
			kept[a.Name] = true
		}
	}
	pic := func(path, what string) *shot {
		if path == "" || !kept[filepath.Base(path)] {
			return nil
		}
		return &shot{Name: what, URL: artifactURL(root, run.ID, filepath.Base(path))}
	}
	var out []visualView
	for _, s := range run.Result.Steps {
		v := s.Visual
		if v == nil || s.Success || v.Actual == "" {
			continue
		}
		out = append(out, visualView{
			Step: s.Name, Name: strings.TrimSuffix(filepath.Base(v.Actual), actualSuffix),
			Ratio: fmt.Sprintf("%.2f %%", 100*v.DiffRatio), Changed: v.ChangedPixels,
			Baseline: pic(v.Baseline, "baseline"), Actual: pic(v.Actual, "actual"), Diff: pic(v.Diff, "diff"),
		})
	}
	return out
}

// acceptForms offers the accept button on the run page when the agent
// keeps baselines, and marks the step just accepted.
func (v *runView) acceptForms(baselines bool, accepted string) {
	for i := range v.Visuals {
		vv := &v.Visuals[i]
		if baselines && vv.Actual != nil {
			vv.AcceptURL = "../api/v1/runs/" + v.ID + "/baselines"
		}
		vv.Accepted = accepted != "" && accepted == vv.Step
	}
}

// maxPicture bounds the picture read to become a baseline.
const maxPicture = 64 << 20

// acceptRequest names the step whose picture becomes the baseline.
type acceptRequest struct {
	Step string `json:"step"`
}

// acceptAnswer is what accepting answers to a program.
type acceptAnswer struct {
	Flow     string `json:"flow"`
	Device   string `json:"device"`
	Name     string `json:"name"`
	Baseline string `json:"baseline"`
}

// apiAcceptBaseline makes a failed visual step's picture (the run's
// actual) the baseline of its flow, device and name: the designer saw the
// change and wants it. A browser's form is sent back to the run page.
func (h *Handler) apiAcceptBaseline(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, format string, a ...any) {
		writeJSON(w, status, map[string]string{"error": fmt.Sprintf(format, a...)})
	}
	if h.storeMissing(w, false) {
		return
	}
	if h.opts.Baselines == "" {
		fail(http.StatusNotFound, "this agent keeps no baselines (--baselines)")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	var req acceptRequest
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/json" {
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			fail(http.StatusBadRequest, "the body: want {\"step\": \"<step name>\"}: %v", err)
			return
		}
	} else {
		if err := r.ParseForm(); err != nil {
			fail(http.StatusBadRequest, "the form: %v", err)
			return
		}
		req.Step = r.Form.Get("step")
	}
	if req.Step == "" {
		fail(http.StatusBadRequest, "name the step whose picture becomes the baseline: step=<step name>")
		return
	}
	id := r.PathValue("id")
	run, err := h.opts.Store.Run(r.Context(), id)
	if errors.Is(err, history.ErrNotFound) {
		fail(http.StatusNotFound, "no such run")
		return
	}
	if err != nil {
		fail(http.StatusInternalServerError, "%v", err)
		return
	}
	var step *result.Step
	for i := range run.Result.Steps {
		if run.Result.Steps[i].Name == req.Step {
			step = &run.Result.Steps[i]
		}
	}
	switch {
	case step == nil:
		fail(http.StatusNotFound, "run %s has no step %q", id, req.Step)
		return
	case step.Visual == nil:
		fail(http.StatusBadRequest, "step %q is not an assert_screenshot step", req.Step)
		return
	case step.Success || step.Visual.Actual == "":
		fail(http.StatusConflict, "step %q did not fail its comparison: there is no new picture to accept", req.Step)
		return
	}
	art := filepath.Base(step.Visual.Actual)
	name := strings.TrimSuffix(art, actualSuffix)
	bs := visual.Baselines{Dir: h.opts.Baselines}
	path, err := bs.Path(run.Result.Flow, run.Result.Device, name)
	if err != nil {
		fail(http.StatusBadRequest, "%v", err)
		return
	}
	f, _, err := h.opts.Store.OpenArtifact(r.Context(), id, art)
	if errors.Is(err, history.ErrNotFound) {
		fail(http.StatusConflict, "the picture of step %q is not kept with the run", req.Step)
		return
	}
	if err != nil {
		fail(http.StatusInternalServerError, "%v", err)
		return
	}
	data, err := io.ReadAll(io.LimitReader(f, maxPicture+1))
	f.Close()
	if err == nil && len(data) > maxPicture {
		err = fmt.Errorf("the picture is larger than %d bytes", maxPicture)
	}
	if err == nil {
		err = bs.Save(run.Result.Flow, run.Result.Device, name, data)
	}
	if err != nil {
		h.log.Error("accepting a baseline", "run", id, "step", req.Step, "err", err)
		fail(http.StatusInternalServerError, "%v", err)
		return
	}
	h.log.Info("a run's picture accepted as the baseline", "run", id, "step", req.Step, "baseline", path)
	if strings.Contains(r.Header.Get("Accept"), "text/html") {
		http.Redirect(w, r, h.opts.Prefix+"/runs/"+url.PathEscape(id)+"?accepted="+url.QueryEscape(req.Step), http.StatusSeeOther)
		return
	}
	writeJSON(w, http.StatusOK, acceptAnswer{Flow: run.Result.Flow, Device: run.Result.Device, Name: name, Baseline: path})
}
