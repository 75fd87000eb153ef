package scenarios

import (
	"context"
	"strconv"

	"gopkg.in/yaml.v3"
)

// KindVisual means an assert_screenshot step saw more changed pixels than
// its threshold allows against its baseline, or a baseline of another
// size: the page looks different, a site failure like an assertion.
const KindVisual ErrorKind = "visual"

// DefaultVisualThreshold is the share of changed pixels assert_screenshot
// allows by default: 0.1 %.
const DefaultVisualThreshold = 0.001

// AssertScreenshot compares a still picture of the page with the baseline
// of the flow, the device and Name, as Playwright's toHaveScreenshot does
// in code: a promo banner over a button, a font that did not load, a
// layout that collapsed on one device.
type AssertScreenshot struct {
	Name string
	// Mask are painted over in one solid colour before the picture:
	// dynamic content (dates, carousels, ads) that would differ each run.
	Mask []Selector
	// Threshold is the share of changed pixels allowed, 0 to 1.
	Threshold float64
	// FullPage pictures the whole page instead of the viewport.
	FullPage bool
}

// SnapshotOptions say what Page.Snapshot pictures.
type SnapshotOptions struct {
	// Mask are painted over in a solid colour for the picture only.
	Mask []Selector
	// FullPage pictures the whole scrollable page, not the viewport.
	FullPage bool
}

// Baseliner is what assert_screenshot needs besides Page: the runner's
// page knows the flow, the device and the baselines, and records the
// comparison on the step.
type Baseliner interface {
	// CompareBaseline compares the picture (PNG) with the baseline of the
	// check name, recording a missing one; more changed pixels than
	// threshold (a share) is an error of kind visual.
	CompareBaseline(ctx context.Context, name string, png []byte, threshold float64) error
}

// Kind implements Action.
func (a AssertScreenshot) Kind() string { return kindOf(a) }

// Do takes a still picture of the page and compares it with the baseline.
func (a AssertScreenshot) Do(ctx context.Context, p Page) error {
	b, ok := p.(Baseliner)
	if !ok {
		return Fail(KindScript, "assert_screenshot needs a page that keeps baselines")
	}
	shot, err := p.Snapshot(ctx, SnapshotOptions{Mask: a.Mask, FullPage: a.FullPage})
	if err != nil {
		return err
	}
	return b.CompareBaseline(ctx, a.Name, shot, a.Threshold)
}

var assertScreenshotSpec = actionSpec{
	name: "assert_screenshot", doc: "Compare a still picture of the viewport (or the full page) with the baseline of this flow, device and name (--baselines DIR, as DIR/<flow>/<device>/<name>.png), pixelmatch's way; more changed pixels than threshold fails the step with kind visual. A missing baseline is recorded and the step passes.",
	scalar: "name",
	params: []param{
		{name: "name", typ: typeFileName, required: true, doc: "the baseline's name, file-safe"},
		{name: "mask", typ: typeSelectors, doc: "elements painted over in a solid colour before the picture: dates, carousels, ads"},
		{name: "threshold", typ: typeRatio, doc: "the share of changed pixels allowed, 0 to 1; default 0.001 (0.1 %)"},
		{name: "full_page", typ: typeBool, doc: "picture the whole page, not only the viewport; default false"},
	},
	zero: AssertScreenshot{},
	build: func(a args) Action {
		s := AssertScreenshot{Name: a.str("name"), Threshold: DefaultVisualThreshold}
		if m, ok := a["mask"].([]Selector); ok {
			s.Mask = m
		}
		if t, ok := a["threshold"].(float64); ok {
			s.Threshold = t
		}
		s.FullPage, _ = a["full_page"].(bool)
		return s
	},
}

// selectors reads a selector or a list of them.
func (p *parser) selectors(n *yaml.Node, what string) ([]Selector, bool) {
	items := []*yaml.Node{n}
	if r := p.resolve(n); r.Kind == yaml.SequenceNode {
		var ok bool
		if items, ok = p.list(r, what, "a selector or a list of selectors", "leave it out to mask nothing"); !ok {
			return nil, false
		}
	}
	out := make([]Selector, 0, len(items))
	good := true
	for _, it := range items {
		s, ok := p.str(it, what)
		if !ok {
			good = false
			continue
		}
		sel, err := ParseSelector(s)
		if err != nil {
			p.errorf(it, "%s: %v; write %s", what, err, SelectorForms)
			good = false
			continue
		}
		out = append(out, sel)
	}
	return out, good
}

// ratio reads a share from 0 to 1.
func (p *parser) ratio(n *yaml.Node, what string) (float64, bool) {
	s, ok := p.scalar(n, what)
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v >= 0 && v <= 1) {
		p.errorf(n, "%s %q must be a share from 0 to 1, such as 0.001 for 0.1 %%", what, clip(s))
		return 0, false
	}
	return v, true
}
