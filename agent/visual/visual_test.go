package visual

import (
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// reference is testdata/pixelmatch.json: pixelmatch's counts on the
// picture pairs under testdata/pairs, made by testdata/regenerate.sh.
type reference struct {
	Pixelmatch string `json:"pixelmatch"`
	Cases      map[string]struct {
		Width, Height int
		Counts        []struct {
			Threshold float64 `json:"threshold"`
			IncludeAA bool    `json:"include_aa"`
			Changed   int     `json:"changed"`
		} `json:"counts"`
	} `json:"cases"`
}

func readPNG(t testing.TB, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

func readPair(t testing.TB, name string) (image.Image, image.Image) {
	t.Helper()
	return readPNG(t, filepath.Join("testdata", "pairs", name+"-a.png")), readPNG(t, filepath.Join("testdata", "pairs", name+"-b.png"))
}

// TestMatchesPixelmatch holds Compare to pixelmatch's changed-pixel counts
// on the same pairs (noise, a paragraph shifted by 1 px, anti-aliased edges
// a quarter pixel apart, a button's colour changed strongly and subtly,
// translucent pixels) at several thresholds, with anti-aliasing detection
// on and off. The counts were made once with node (regenerate.sh), so the
// test needs neither node nor the network.
func TestMatchesPixelmatch(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "pixelmatch.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref reference
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Cases) < 7 {
		t.Fatalf("pixelmatch.json has %d cases; regenerate it", len(ref.Cases))
	}
	for name, c := range ref.Cases {
		a, b := readPair(t, name)
		for _, want := range c.Counts {
			t.Run(fmt.Sprintf("%s/threshold=%v/include_aa=%v", name, want.Threshold, want.IncludeAA), func(t *testing.T) {
				res, err := Compare(a, b, Options{Threshold: want.Threshold, IncludeAA: want.IncludeAA})
				if err != nil {
					t.Fatal(err)
				}
				if res.ChangedPixels != want.Changed {
					t.Errorf("%d changed pixels, pixelmatch %s counts %d", res.ChangedPixels, ref.Pixelmatch, want.Changed)
				}
			})
		}
	}
}

// TestCatches names what a visual check is for, at the default threshold:
// a re-render that only moves anti-aliasing passes, a paragraph 1 px lower
// and a button of another colour fail, and the diff image marks exactly
// the counted pixels.
func TestCatches(t *testing.T) {
	tests := []struct {
		pair        string
		wantChanged bool
	}{
		{"identical", false},
		{"aa-edges", false},
		{"text-shift", true},
		{"colour-changed", true},
		{"noise", true},
	}
	for _, tt := range tests {
		t.Run(tt.pair, func(t *testing.T) {
			a, b := readPair(t, tt.pair)
			res, err := Compare(a, b, Options{Threshold: DefaultThreshold})
			if err != nil {
				t.Fatal(err)
			}
			if got := res.ChangedPixels > 0; got != tt.wantChanged {
				t.Fatalf("changed pixels %d, want changed: %v", res.ChangedPixels, tt.wantChanged)
			}
			size := a.Bounds().Size()
			if want := float64(res.ChangedPixels) / float64(size.X*size.Y); res.DiffRatio != want {
				t.Errorf("diff ratio %v, want %v", res.DiffRatio, want)
			}
			if res.Diff.Bounds().Size() != size {
				t.Fatalf("diff image of %v, want %v", res.Diff.Bounds().Size(), size)
			}
			changed, aa := 0, 0
			for y := range size.Y {
				for x := range size.X {
					switch res.Diff.NRGBAAt(x, y) {
					case ChangedColor:
						changed++
					case AntiAliasedColor:
						aa++
					}
				}
			}
			if changed != res.ChangedPixels || aa != res.AntiAliasedPixels {
				t.Errorf("diff image marks %d changed and %d anti-aliased pixels, the result says %d and %d",
					changed, aa, res.ChangedPixels, res.AntiAliasedPixels)
			}
		})
	}
}

// TestImageKinds compares the same pair given as other image types than
// PNG decoding makes (premultiplied RGBA, a sub-image with a wider stride):
// the counts do not depend on the representation.
func TestImageKinds(t *testing.T) {
	for _, pair := range []string{"text-shift", "translucent"} {
		a, b := readPair(t, pair)
		want, err := Compare(a, b, Options{Threshold: DefaultThreshold})
		if err != nil {
			t.Fatal(err)
		}
		rgba := func(m image.Image) image.Image {
			c := image.NewRGBA(m.Bounds())
			draw.Draw(c, c.Bounds(), m, image.Point{}, draw.Src)
			return c
		}
		sub := func(m image.Image) image.Image {
			r := m.Bounds()
			big := image.NewNRGBA(image.Rect(0, 0, r.Dx()+7, r.Dy()+3))
			draw.Draw(big, r.Add(image.Pt(5, 2)), m, r.Min, draw.Src)
			return big.SubImage(r.Add(image.Pt(5, 2)))
		}
		for name, conv := range map[string]func(image.Image) image.Image{"RGBA": rgba, "sub-image": sub} {
			t.Run(pair+"/"+name, func(t *testing.T) {
				got, err := Compare(conv(a), conv(b), Options{Threshold: DefaultThreshold})
				if err != nil {
					t.Fatal(err)
				}
				// Premultiplying rounds translucent colours, which may move
				// a pixel across the threshold: allow that one case.
				if got.ChangedPixels != want.ChangedPixels && !(name == "RGBA" && pair == "translucent") {
					t.Errorf("%d changed pixels, %d from the decoded PNGs", got.ChangedPixels, want.ChangedPixels)
				}
			})
		}
	}
}

func TestErrors(t *testing.T) {
	small := image.NewNRGBA(image.Rect(0, 0, 393, 852))
	big := image.NewNRGBA(image.Rect(0, 0, 1179, 2556))
	_, err := Compare(small, big, Options{Threshold: DefaultThreshold})
	var se *SizeError
	if !errors.As(err, &se) || se.A != small.Bounds().Size() || se.B != big.Bounds().Size() {
		t.Fatalf("different sizes: error %v, want a *SizeError with both sizes", err)
	}
	if want := "visual: the pictures differ in size: 393x852 against 1179x2556"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	for _, th := range []float64{-0.1, 1.5} {
		if _, err := Compare(small, small, Options{Threshold: th}); err == nil {
			t.Errorf("threshold %v: no error", th)
		}
	}
	empty := image.NewNRGBA(image.Rectangle{})
	res, err := Compare(empty, empty, Options{})
	if err != nil || res.ChangedPixels != 0 || res.DiffRatio != 0 {
		t.Errorf("empty pictures: %+v, %v; want 0 changed, ratio 0", res, err)
	}
}

// page is a screen-like picture for the benchmarks: white, with rows of
// dark glyph-like boxes and a blue banner.
func page(w, h, shift int, banner color.NRGBA) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.NRGBA{255, 255, 255, 255}), image.Point{}, draw.Src)
	for y := 40 + shift; y < h-40; y += 24 {
		for x := 24; x < w-40; x += 11 + x%7 {
			draw.Draw(img, image.Rect(x, y, x+7+x%3, y+12), image.NewUniform(color.NRGBA{32, 33, 36, 255}), image.Point{}, draw.Src)
			img.SetNRGBA(x-1, y+6, color.NRGBA{160, 160, 160, 255}) // an anti-aliased edge
		}
	}
	draw.Draw(img, image.Rect(0, h/3, w, h/3+h/20), image.NewUniform(banner), image.Point{}, draw.Src)
	return img
}

// BenchmarkCompare compares a desktop and a phone screenshot's worth of
// pixels (1280x800, and 1179x2556 at scale 3) with a moved paragraph and a
// banner of another colour.
func BenchmarkCompare(b *testing.B) {
	for _, size := range []image.Point{{1280, 800}, {1179, 2556}} {
		b.Run(fmt.Sprintf("%dx%d", size.X, size.Y), func(b *testing.B) {
			x := page(size.X, size.Y, 0, color.NRGBA{0x1a, 0x73, 0xe8, 255})
			y := page(size.X, size.Y, 1, color.NRGBA{0xd9, 0x30, 0x25, 255})
			b.SetBytes(int64(4 * size.X * size.Y))
			b.ReportAllocs()
			var res *Result
			for b.Loop() {
				var err error
				if res, err = Compare(x, y, Options{Threshold: DefaultThreshold}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(res.DiffRatio, "diff-ratio")
		})
	}
}
