package visual

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

func pngBytes(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestBaselinePath(t *testing.T) {
	b := Baselines{Dir: "base"}
	p, err := b.Path("checkout", "iPhone 15", "cart.v2")
	if want := filepath.Join("base", "checkout", "iPhone 15", "cart.v2.png"); err != nil || p != want {
		t.Errorf("Path = %q, %v; want %q", p, err, want)
	}
	for _, bad := range [][3]string{
		{"..", "desktop", "x"}, {"checkout", "../..", "x"}, {"checkout", "desktop", "../../etc/passwd"},
		{"checkout", "desktop", ".hidden"}, {"checkout", "desktop", ""}, {"check/out", "desktop", "x"},
		{"checkout", "desktop", `a\b`}, {"checkout", "desktop", "x\x00"},
	} {
		if p, err := b.Path(bad[0], bad[1], bad[2]); err == nil {
			t.Errorf("Path(%q) = %q, want an error", bad, p)
		}
	}
}

// TestBaselineCheck walks a check's life: the first run records the
// baseline and passes, the same picture passes with a ratio of 0, an
// anti-aliasing-only re-render passes, a paragraph 1 px lower and a button
// of another colour fail, an update rewrites the baseline, a picture of
// another size is a *SizeError.
func TestBaselineCheck(t *testing.T) {
	dir := t.TempDir()
	b := Baselines{Dir: dir}
	opts := CheckOptions{MaxDiffRatio: DefaultMaxDiffRatio, Pixel: Options{Threshold: DefaultThreshold}}
	textA, textB := readPair(t, "text-shift")
	aaA, aaB := readPair(t, "aa-edges")
	btnA, btnB := readPair(t, "colour-changed")

	steps := []struct {
		name, check      string
		picture          image.Image
		update           bool
		passed, recorded bool
		changed          bool
	}{
		{"first run records", "text", textA, false, true, true, false},
		{"same picture", "text", textA, false, true, false, false},
		{"paragraph 1 px lower", "text", textB, false, false, false, true},
		{"update rewrites", "text", textB, true, true, true, false},
		{"new baseline holds", "text", textB, false, true, false, false},
		{"anti-aliasing only: record", "shapes", aaA, false, true, true, false},
		{"anti-aliasing only: passes", "shapes", aaB, false, true, false, false},
		{"button colour: record", "button", btnA, false, true, true, false},
		{"button colour: fails", "button", btnB, false, false, false, true},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			o := opts
			o.Update = s.update
			v, err := b.Check("checkout", "mobile", s.check, pngBytes(t, s.picture), o)
			if err != nil {
				t.Fatal(err)
			}
			if v.Passed != s.passed || v.Recorded != s.recorded {
				t.Fatalf("passed %v, recorded %v; want %v, %v (%+v)", v.Passed, v.Recorded, s.passed, s.recorded, v.Result)
			}
			if want := filepath.Join(dir, "checkout", "mobile", s.check+".png"); v.Baseline != want {
				t.Errorf("baseline %s, want %s", v.Baseline, want)
			}
			if s.recorded {
				got, err := b.Load("checkout", "mobile", s.check)
				if err != nil {
					t.Fatal(err)
				}
				if res, _ := Compare(got, s.picture, Options{}); res.ChangedPixels != 0 {
					t.Errorf("the recorded baseline is not the picture: %d pixels differ", res.ChangedPixels)
				}
				return
			}
			if got := v.Result.ChangedPixels > 0; got != s.changed {
				t.Errorf("changed pixels %d, want changed: %v", v.Result.ChangedPixels, s.changed)
			}
		})
	}
	// The baseline of "text" is now textB. The same bytes pass without
	// being decoded (no diff picture is made); the same pixels encoded
	// otherwise are decoded and compared, and pass at 0.
	t.Run("same bytes pass undecoded", func(t *testing.T) {
		v, err := b.Check("checkout", "mobile", "text", pngBytes(t, textB), opts)
		if err != nil || !v.Passed || v.Result == nil || v.Result.DiffRatio != 0 || v.Result.Diff != nil {
			t.Fatalf("verdict %+v, error %v: want a pass at 0 with no diff picture", v, err)
		}
	})
	t.Run("same pixels, other bytes", func(t *testing.T) {
		var fast bytes.Buffer
		if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&fast, textB); err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(fast.Bytes(), pngBytes(t, textB)) {
			t.Fatal("the two encodings are the same bytes: the case tests nothing")
		}
		v, err := b.Check("checkout", "mobile", "text", fast.Bytes(), opts)
		if err != nil || !v.Passed || v.Result == nil || v.Result.ChangedPixels != 0 || v.Result.Diff == nil {
			t.Fatalf("verdict %+v, error %v: want a pass at 0 by comparing the pixels", v, err)
		}
	})
	t.Run("no temporary files left", func(t *testing.T) {
		entries, err := os.ReadDir(filepath.Join(dir, "checkout", "mobile"))
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 3 {
			t.Errorf("files %v, want the 3 baselines only", entries)
		}
	})
	t.Run("another size", func(t *testing.T) {
		_, err := b.Check("checkout", "mobile", "text", pngBytes(t, btnA), opts)
		var se *SizeError
		if !errors.As(err, &se) {
			t.Fatalf("error %v, want a *SizeError", err)
		}
	})
	t.Run("a baseline that is not a PNG", func(t *testing.T) {
		p, _ := b.Path("checkout", "mobile", "broken")
		if err := os.WriteFile(p, []byte("not a picture"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Check("checkout", "mobile", "broken", pngBytes(t, btnA), opts); err == nil {
			t.Error("no error")
		}
		// Nor do the same bytes pass when they are no picture at all.
		if _, err := b.Check("checkout", "mobile", "broken", []byte("not a picture"), opts); err == nil {
			t.Error("the same bytes that are not a PNG passed")
		}
	})
	t.Run("saving what is not a PNG", func(t *testing.T) {
		if err := b.Save("checkout", "mobile", "junk", []byte("<html>")); err == nil {
			t.Error("no error")
		}
		if _, err := b.Load("checkout", "mobile", "junk"); !errors.Is(err, ErrNoBaseline) {
			t.Errorf("Load after a refused Save: %v, want ErrNoBaseline", err)
		}
	})
}
