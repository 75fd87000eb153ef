package runner

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"os"
	"path/filepath"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/agent/visual"
	"github.com/uxprobe/uxprobe/scenarios"
)

// baselineSet is what a run's assert_screenshot steps compare with: the
// baselines of its flow and device, and whether to rewrite them.
type baselineSet struct {
	dir    string
	update bool
	flow   *scenarios.Flow
	device string
	// artifact names an artifact of the run, beside its screenshots.
	artifact func(name string) (string, error)
}

func (r *Runner) baselineSet(f *scenarios.Flow, d scenarios.Device) *baselineSet {
	return &baselineSet{dir: r.Baselines, update: r.UpdateBaselines, flow: f, device: d.Name, artifact: r.screenshotPath(f, d)}
}

// takeVisual returns the current step's comparison and forgets it.
func (p *tabPage) takeVisual() *result.Visual {
	v := p.visual
	p.visual = nil
	return v
}

// CompareBaseline implements scenarios.Baseliner: the picture against the
// baseline of the flow, the device and the name. A missing baseline (or
// every one, with UpdateBaselines) is recorded and the step passes with a
// warning; more changed pixels than threshold, or a baseline of another
// size, fail it with kind visual and keep the picture, the baseline as it
// was and the diff among the run's artifacts.
func (p *tabPage) CompareBaseline(ctx context.Context, name string, shot []byte, threshold float64) error {
	bs := p.baselines
	if bs == nil || bs.dir == "" {
		return scenarios.Fail(scenarios.KindVisual, "no baselines directory (--baselines) to compare %s with", name)
	}
	f := bs.flow
	// A name with a secret is refused when the flow loads; a value the
	// run extracted as secret is known only now, and a baseline's file
	// name, kept in git, must not hold it either.
	if f.Mask(name) != name {
		return scenarios.Fail(scenarios.KindVisual, "the check name %s contains a secret value this run extracted: a baseline's file name must not hold a secret", name)
	}
	store := visual.Baselines{Dir: bs.dir}
	v, err := store.Check(f.Name, bs.device, name, shot, visual.CheckOptions{
		MaxDiffRatio: threshold,
		Pixel:        visual.Options{Threshold: visual.DefaultThreshold},
		Update:       bs.update,
	})
	var sizeErr *visual.SizeError
	switch {
	case errors.As(err, &sizeErr):
		path, _ := store.Path(f.Name, bs.device, name)
		p.visual = &result.Visual{DiffRatio: 1}
		p.keepVisual(name, shot, path, nil)
		return scenarios.Fail(scenarios.KindVisual,
			"the picture %s is %dx%d pixels, its baseline %dx%d: the viewport or the page's size changed; if that is intended, rewrite the baseline with uxprobe check --update-baselines",
			name, sizeErr.B.X, sizeErr.B.Y, sizeErr.A.X, sizeErr.A.Y)
	case err != nil:
		return scenarios.Fail(scenarios.KindVisual, "comparing %s with its baseline: %v", name, err)
	case v.Recorded:
		p.visual = &result.Visual{Baseline: v.Baseline, Recorded: true}
		p.warnings = append(p.warnings, "baseline recorded: "+v.Baseline)
		return nil
	}
	res := v.Result
	p.visual = &result.Visual{DiffRatio: res.DiffRatio, ChangedPixels: res.ChangedPixels, Baseline: v.Baseline}
	if v.Passed {
		return nil
	}
	var diff bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&diff, res.Diff); err != nil {
		return err
	}
	p.keepVisual(name, shot, v.Baseline, diff.Bytes())
	return scenarios.Fail(scenarios.KindVisual, "%s differs from its baseline in %d pixels (%.4f%% of the picture, %.4f%% allowed)",
		name, res.ChangedPixels, 100*res.DiffRatio, 100*threshold)
}

// keepVisual saves the pictures of a failed comparison among the run's
// artifacts, as <name>.actual.png, <name>.baseline.png (a copy: the
// baseline may be rewritten before anyone looks) and <name>.diff.png, and
// points the step's visual at them. A picture that could not be saved is
// left out, as a screenshot is (saveArtifact).
func (p *tabPage) keepVisual(name string, actual []byte, baselinePath string, diff []byte) {
	bs, v := p.baselines, p.visual
	keep := func(suffix string, data []byte) string {
		if data == nil {
			return ""
		}
		path, err := bs.artifact(name + "." + suffix)
		if err != nil || !p.save(path, data) {
			return ""
		}
		return path
	}
	v.Actual = keep("actual", actual)
	if base, err := os.ReadFile(baselinePath); err == nil {
		if kept := keep("baseline", base); kept != "" {
			v.Baseline = kept
		}
	} else if v.Baseline == "" {
		v.Baseline = filepath.Clean(baselinePath)
	}
	v.Diff = keep("diff", diff)
}
