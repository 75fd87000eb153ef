package visual

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
)

// DefaultMaxDiffRatio is the share of changed pixels a visual check allows
// by default: 0.1 %.
const DefaultMaxDiffRatio = 0.001

// ErrNoBaseline is Load's error when the check has no baseline yet.
var ErrNoBaseline = errors.New("visual: no baseline")

// Baselines are the reference pictures of visual checks as files that are
// reviewed in git like Playwright's snapshots: Dir/<flow>/<device>/<name>.png.
type Baselines struct{ Dir string }

// partPattern is what a flow, device or check name may be to become part
// of a path: flow names, device names such as "iPhone 15", step names made
// into file names. Nothing that climbs out of Dir or hides a file.
var partPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ._-]{0,127}$`)

// Path is the file of the baseline of the check name of the flow on the
// device; an error for a part that cannot be a file name.
func (b Baselines) Path(flow, device, name string) (string, error) {
	for _, p := range []struct{ what, v string }{{"flow", flow}, {"device", device}, {"check", name}} {
		if !partPattern.MatchString(p.v) || filepath.Base(p.v) != p.v {
			return "", fmt.Errorf("visual: %s name %q cannot name a baseline file: want letters, digits, spaces, '.', '_' and '-', starting with a letter or digit", p.what, p.v)
		}
	}
	return filepath.Join(b.Dir, flow, device, name+".png"), nil
}

// Load reads a baseline; ErrNoBaseline when there is none.
func (b Baselines) Load(flow, device, name string) (image.Image, error) {
	path, err := b.Path(flow, device, name)
	if err != nil {
		return nil, err
	}
	data, err := readBaseline(path)
	if err != nil {
		return nil, err
	}
	return decodeBaseline(path, data)
}

// readBaseline reads the baseline file at path: ErrNoBaseline when there
// is none.
func readBaseline(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNoBaseline, path)
	}
	if err != nil {
		return nil, fmt.Errorf("visual: %w", err)
	}
	return data, nil
}

func decodeBaseline(path string, data []byte) (image.Image, error) {
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("visual: baseline %s is not a PNG: %w", path, err)
	}
	return img, nil
}

// Save writes a baseline (PNG bytes) whole or not at all: to a temporary
// file beside it, renamed over it, so that a crash never leaves half a
// baseline that every later run would fail against.
func (b Baselines) Save(flow, device, name string, pngData []byte) error {
	path, err := b.Path(flow, device, name)
	if err != nil {
		return err
	}
	if _, err := png.DecodeConfig(bytes.NewReader(pngData)); err != nil {
		return fmt.Errorf("visual: not saving %s: not a PNG: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("visual: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".baseline-*.png")
	if err != nil {
		return fmt.Errorf("visual: %w", err)
	}
	_, err = f.Write(pngData)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("visual: saving %s: %w", path, err)
	}
	return nil
}

// CheckOptions tune Check.
type CheckOptions struct {
	// MaxDiffRatio is the share of changed pixels allowed; the check
	// fails above it.
	MaxDiffRatio float64
	// Pixel is how two pixels are compared.
	Pixel Options
	// Update makes the picture the baseline, whatever it was, and passes
	// (uxprobe check --update-baselines).
	Update bool
}

// Verdict is the outcome of one visual check.
type Verdict struct {
	// Passed says the picture is the baseline's within MaxDiffRatio, or
	// became the baseline.
	Passed bool
	// Recorded says the picture became the baseline: there was none, or
	// Update asked for it.
	Recorded bool
	// Baseline is the baseline's file.
	Baseline string
	// Result is the comparison; nil when Recorded.
	Result *Result
}

// Check compares a screenshot (PNG bytes) with the baseline of the flow,
// device and check name: a missing baseline is recorded from it and the
// check passes. A baseline of another size is a *SizeError (a viewport
// that changed), for the caller to report as a failed check; so is a
// baseline that is not a PNG an error.
func (b Baselines) Check(flow, device, name string, actual []byte, opts CheckOptions) (*Verdict, error) {
	path, err := b.Path(flow, device, name)
	if err != nil {
		return nil, err
	}
	v := &Verdict{Baseline: path}
	data, err := readBaseline(path)
	if opts.Update || errors.Is(err, ErrNoBaseline) {
		if err := b.Save(flow, device, name, actual); err != nil {
			return nil, err
		}
		v.Passed, v.Recorded = true, true
		return v, nil
	}
	if err != nil {
		return nil, err
	}
	if _, err := png.DecodeConfig(bytes.NewReader(actual)); err != nil {
		return nil, fmt.Errorf("visual: the screenshot is not a PNG: %w", err)
	}
	// The same bytes are the same picture: Chrome encodes the same pixels
	// the same way, so a page that did not change is known to be the
	// baseline without decoding either picture, which for a phone's
	// screenshot (2.5 million pixels) is most of the check's work.
	if bytes.Equal(data, actual) {
		v.Result = &Result{}
		v.Passed = v.Result.DiffRatio <= opts.MaxDiffRatio
		return v, nil
	}
	base, err := decodeBaseline(path, data)
	if err != nil {
		return nil, err
	}
	img, err := png.Decode(bytes.NewReader(actual))
	if err != nil {
		return nil, fmt.Errorf("visual: the screenshot is not a PNG: %w", err)
	}
	res, err := Compare(base, img, opts.Pixel)
	if err != nil {
		return nil, err
	}
	v.Result = res
	v.Passed = res.DiffRatio <= opts.MaxDiffRatio
	return v, nil
}
