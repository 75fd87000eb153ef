package main

import (
	"bytes"
	"context"
	"image"
	"image/color"
	_ "image/jpeg" // decodeImage reads the filmstrip's frames
	_ "image/png"  // and the visual diff
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/uxprobe/uxprobe/agent/demoshop"
	"github.com/uxprobe/uxprobe/agent/history"
	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/agent/visual"
	"github.com/uxprobe/uxprobe/scenarios"
)

// TestCheckLayoutFault is the designer's visual check end to end: the
// baselines of checkout-visual are recorded from a healthy shop; with the
// shop's layout fault on (an app banner over Place order on phones), the
// phone's run fails with kind visual and keeps its actual, baseline and
// diff in the history, while desktop still passes; --update-baselines then
// makes the new look the baseline.
func TestCheckLayoutFault(t *testing.T) {
	shop := demoshop.New()
	srv := httptest.NewServer(shop)
	defer srv.Close()
	out := t.TempDir()
	baselines := filepath.Join(out, "baselines")
	check := func(t *testing.T, name string, extra ...string) (int, string, string, map[string]result.Result) {
		t.Helper()
		jsonFile := filepath.Join(out, name+".json")
		args := append([]string{"--flow", "checkout-visual", "--device", "desktop,mobile", "--parallel", "2",
			"--var", "base_url=" + srv.URL, "--artifacts", filepath.Join(out, name), "--json", jsonFile,
			"--baselines", baselines, "--storage.path", filepath.Join(out, "history")}, extra...)
		code, stdout, stderr := runCheckWithChrome(t, append(args, exampleFlowsDir(t))...)
		byDevice := map[string]result.Result{}
		for _, r := range readCheckJSON(t, jsonFile) {
			byDevice[r.Device] = r
		}
		return code, stdout, stderr, byDevice
	}
	step := func(r result.Result) result.Step {
		for _, s := range r.Steps {
			if s.Action == "assert_screenshot" {
				return s
			}
		}
		t.Fatalf("%s: no assert_screenshot step in %+v", r.Device, r.Steps)
		return result.Step{}
	}

	// The healthy shop: the baselines are recorded, the runs pass.
	code, stdout, stderr, byDevice := check(t, "record")
	if code != exitOK {
		t.Fatalf("recording: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, d := range []string{"desktop", "mobile"} {
		s := step(byDevice[d])
		if s.Visual == nil || !s.Visual.Recorded || len(s.Warnings) == 0 || !strings.Contains(s.Warnings[0], "baseline recorded") {
			t.Errorf("%s: step %+v, want the baseline recorded", d, s)
		}
		if _, err := os.Stat(filepath.Join(baselines, "checkout-visual", d, "checkout.png")); err != nil {
			t.Errorf("%s: %v", d, err)
		}
	}

	shop.SetFaults(demoshop.Faults{Layout: true})
	code, stdout, stderr, byDevice = check(t, "fault")
	if code != exitFailed {
		t.Fatalf("with the layout fault: exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if r := byDevice["desktop"]; !r.Success || step(r).Visual == nil || step(r).Visual.DiffRatio > scenarios.DefaultVisualThreshold {
		t.Errorf("desktop: success %v, visual %+v, error %+v: the banner is for phones only", r.Success, step(r).Visual, r.Error)
	}
	m := byDevice["mobile"]
	if m.Success || m.Error == nil || m.Error.Kind != scenarios.KindVisual || m.Error.Step != "checkout looks right" {
		t.Fatalf("mobile: success %v, error %+v, want kind visual at checkout looks right", m.Success, m.Error)
	}
	v := step(m).Visual
	t.Logf("desktop visual %+v; mobile visual %+v", step(byDevice["desktop"]).Visual, v)
	if v == nil || v.DiffRatio <= scenarios.DefaultVisualThreshold || v.Actual == "" || v.Diff == "" || !strings.HasPrefix(v.Baseline, filepath.Join(out, "fault")) {
		t.Fatalf("mobile visual %+v: want the ratio over 0.1 %% and the three pictures among the artifacts", v)
	}
	if !strings.Contains(stdout, "visual") {
		t.Errorf("the table does not say visual:\n%s", stdout)
	}
	// The diff marks the banner: changed pixels in the lower part of the
	// form, where the banner lies over the button, and none in the header.
	diff := decodeImage(t, v.Diff)
	red := redRows(diff)
	if red.Empty() || red.Min.Y < diff.Bounds().Dy()/8 {
		t.Errorf("changed pixels span rows %v of %d: want them below the header, where the banner is", red, diff.Bounds().Dy())
	}

	// The failed phone run keeps its filmstrip (on-failure, the default),
	// which ends on the page as the run saw it: the banner over the
	// button, where the diff marks it; the desktop run passed and keeps
	// none.
	if d := byDevice["desktop"]; len(d.Filmstrip) > 0 {
		t.Errorf("desktop passed but kept %d frames", len(d.Filmstrip))
	}
	if _, err := os.Stat(filepath.Join(out, "fault", "checkout-visual", "desktop", "filmstrip")); err == nil {
		t.Error("desktop passed but its filmstrip was written")
	}
	if len(m.Filmstrip) == 0 {
		t.Fatal("mobile failed but kept no filmstrip")
	}
	for _, f := range m.Filmstrip {
		if filepath.Dir(f.Path) != filepath.Join(out, "fault", "checkout-visual", "mobile", "filmstrip") {
			t.Errorf("frame %s, want it beside the phone run's screenshots", f.Path)
		}
		decodeImage(t, f.Path)
	}
	last := decodeImage(t, m.Filmstrip[len(m.Filmstrip)-1].Path)
	share := bannerShare(last, red, diff.Bounds())
	t.Logf("mobile: %d frames; the last one is the banner's colour on %.0f %% of the changed area", len(m.Filmstrip), share*100)
	// The changed area also holds the footer, moved down: the banner,
	// with its text, is about 40 % of it.
	if share < 0.2 {
		t.Errorf("the last frame (%s) is the banner's colour on %.0f %% of the diff's changed area, want the banner there",
			m.Filmstrip[len(m.Filmstrip)-1].Path, share*100)
	}
	// The strip shows the run, not one picture: its frames are not all the
	// same. Whether the first frame has the banner says nothing: a fast
	// run reaches checkout, the page with the banner, before the first
	// capture (seen in a fresh clone's `make test`).
	distinct := map[string]bool{}
	for _, f := range m.Filmstrip {
		data, err := os.ReadFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		distinct[string(data)] = true
	}
	if len(m.Filmstrip) > 1 && len(distinct) < 2 {
		t.Errorf("the %d frames of the phone's run are all the same picture", len(m.Filmstrip))
	}

	t.Run("history keeps the pictures", func(t *testing.T) {
		h, err := history.Open(context.Background(), filepath.Join(out, "history"), history.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		run, err := h.Run(context.Background(), m.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"checkout.actual.png", "checkout.baseline.png", "checkout.diff.png"} {
			a, ok := run.Artifact(name)
			if !ok || a.Kind != history.KindVisual {
				t.Errorf("%s: %+v %v in %+v", name, a, ok, run.Artifacts)
			}
		}
		frames := 0
		for _, a := range run.Artifacts {
			if a.Kind == history.KindFrame {
				frames++
			}
		}
		if frames != len(m.Filmstrip) {
			t.Errorf("the history keeps %d frames of the run, want its %d", frames, len(m.Filmstrip))
		}
	})

	// The new look, accepted: the phone's baseline is rewritten and the
	// next check passes.
	before, _ := os.ReadFile(filepath.Join(baselines, "checkout-visual", "mobile", "checkout.png"))
	if code, stdout, stderr, _ = check(t, "update", "--update-baselines"); code != exitOK {
		t.Fatalf("--update-baselines: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	after, _ := os.ReadFile(filepath.Join(baselines, "checkout-visual", "mobile", "checkout.png"))
	if bytes.Equal(before, after) {
		t.Error("--update-baselines left the phone's baseline as it was")
	}
	if code, stdout, stderr, byDevice = check(t, "after"); code != exitOK {
		t.Fatalf("after the update: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if v := step(byDevice["mobile"]).Visual; v == nil || v.Recorded || v.DiffRatio != 0 {
		t.Errorf("after the update: mobile visual %+v, want a ratio of 0 against the new baseline", v)
	}
}

// decodeImage reads a PNG or JPEG (the formats are registered by their
// packages' imports) and fails the test on any error.
func decodeImage(t *testing.T, path string) image.Image {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// bannerShare is the share of the pixels of frame, within box of a
// picture of the page of size page (a screenshot at full scale, the frame
// scaled down), that are the layout fault's banner colour, #7c2d12 (within
// what JPEG does to it).
func bannerShare(frame image.Image, box, page image.Rectangle) float64 {
	fb := frame.Bounds()
	sx := float64(fb.Dx()) / float64(page.Dx())
	sy := float64(fb.Dy()) / float64(page.Dy())
	r := image.Rect(int(float64(box.Min.X)*sx), int(float64(box.Min.Y)*sy), int(float64(box.Max.X)*sx), int(float64(box.Max.Y)*sy)).Add(fb.Min).Intersect(fb)
	if r.Empty() {
		return 0
	}
	near := func(a uint32, b int) bool { return abs(int(a>>8)-b) <= 40 }
	banner := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := frame.At(x, y).RGBA()
			if near(cr, 0x7c) && near(cg, 0x2d) && near(cb, 0x12) {
				banner++
			}
		}
	}
	return float64(banner) / float64(r.Dx()*r.Dy())
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// redRows is the bounding box of the diff's changed pixels.
func redRows(img image.Image) image.Rectangle {
	var box image.Rectangle
	b := img.Bounds()
	want := color.NRGBAModel.Convert(visual.ChangedColor)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if color.NRGBAModel.Convert(img.At(x, y)) == want {
				box = box.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return box
}
