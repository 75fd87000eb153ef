// Package visual compares two screenshots pixel by pixel, the way
// pixelmatch (github.com/mapbox/pixelmatch, up to its version 7) does, so
// that a visual check fails on a change a person would see and not on the
// anti-aliasing noise of a re-render:
//
//   - Two pixels differ when their distance in the YIQ colour space, weighed
//     as Kotsarenko and Ramos propose ("Measuring perceived color difference
//     using YIQ NTSC transmission color space in mobile applications",
//     2010), is over a threshold: a share of the largest distance there is
//     (black against white), squared.
//   - A differing pixel that is anti-aliasing in either picture is not
//     counted, by the detector of V. Vysniauskas ("Anti-aliased pixel and
//     intensity slope detector", 2009): among its 8 neighbours there are
//     both darker and brighter pixels, at most 2 of equal brightness, and
//     the darkest or the brightest of them sits inside a flat area (3 or
//     more identical neighbours) in both pictures, so this pixel is on the
//     slope between two flat colours.
//
// It is written from those papers and pixelmatch's documented behaviour;
// the tests hold its counts to pixelmatch 7's on the pictures under
// testdata/. Translucent pixels are compared over white.
package visual

import (
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/draw"
)

// DefaultThreshold is pixelmatch's default per-pixel threshold: a colour
// distance of a tenth of black against white.
const DefaultThreshold = 0.1

// maxYIQDistance is the weighted YIQ distance of black from white, the
// largest there is; the threshold is a share of it.
const maxYIQDistance = 35215.0

// The colours of the diff image.
var (
	// ChangedColor marks a pixel that changed.
	ChangedColor = color.NRGBA{R: 255, A: 255}
	// AntiAliasedColor marks a pixel that differs by anti-aliasing only,
	// not counted.
	AntiAliasedColor = color.NRGBA{R: 255, G: 255, A: 255}
)

// fadeAlpha is how strongly the first picture shows, in grey, under the
// marks of the diff image: enough to see where the marks are.
const fadeAlpha = 0.1

// Options tune Compare.
type Options struct {
	// Threshold is the colour distance, from 0 to 1 (black against
	// white), up to which two pixels count as equal; pixelmatch's
	// DefaultThreshold is a good start, 0 counts every difference.
	Threshold float64
	// IncludeAA counts the pixels that differ by anti-aliasing only as
	// changed too.
	IncludeAA bool
}

// Result is what Compare found.
type Result struct {
	// ChangedPixels differ by more than the threshold and are not
	// anti-aliasing.
	ChangedPixels int
	// AntiAliasedPixels differ by more than the threshold but are
	// anti-aliasing in one of the pictures: not counted as changed.
	AntiAliasedPixels int
	// DiffRatio is ChangedPixels over all pixels; 0 for empty pictures.
	DiffRatio float64
	// Diff is the first picture in faint grey, with the changed pixels in
	// ChangedColor and the anti-aliased ones in AntiAliasedColor; nil from
	// Baselines.Check when the two pictures are the same bytes.
	Diff *image.NRGBA
}

// SizeError is Compare's error for pictures of different sizes, such as a
// baseline taken on another viewport.
type SizeError struct{ A, B image.Point }

func (e *SizeError) Error() string {
	return fmt.Sprintf("visual: the pictures differ in size: %dx%d against %dx%d", e.A.X, e.A.Y, e.B.X, e.B.Y)
}

// Compare compares b with a pixel by pixel. Pictures of different sizes
// are a *SizeError, a threshold outside [0, 1] an error.
func Compare(a, b image.Image, opts Options) (*Result, error) {
	if !(opts.Threshold >= 0 && opts.Threshold <= 1) {
		return nil, fmt.Errorf("visual: threshold %v: want 0 to 1", opts.Threshold)
	}
	sa, sb := a.Bounds().Size(), b.Bounds().Size()
	if sa != sb {
		return nil, &SizeError{sa, sb}
	}
	w, h := sa.X, sa.Y
	p1, p2 := pixels(a), pixels(b)
	res := &Result{Diff: image.NewNRGBA(image.Rect(0, 0, w, h))}
	out := res.Diff.Pix
	limit := maxYIQDistance * opts.Threshold * opts.Threshold
	for i, o := 0, 0; i < w*h; i, o = i+1, o+4 {
		if pixelAt(p1, o) == pixelAt(p2, o) {
			fade(out, p1, o)
			continue
		}
		if yiqDistance(p1[o:o+4:o+4], p2[o:o+4:o+4]) <= limit {
			fade(out, p1, o)
			continue
		}
		x, y := i%w, i/w
		if !opts.IncludeAA && (antiAliased(p1, p2, x, y, w, h) || antiAliased(p2, p1, x, y, w, h)) {
			mark(out, o, AntiAliasedColor)
			res.AntiAliasedPixels++
			continue
		}
		mark(out, o, ChangedColor)
		res.ChangedPixels++
	}
	if w*h > 0 {
		res.DiffRatio = float64(res.ChangedPixels) / float64(w*h)
	}
	return res, nil
}

// pixels returns the picture as tightly packed, non-premultiplied RGBA
// bytes, without a copy for the pictures PNG screenshots decode to.
func pixels(m image.Image) []byte {
	r := m.Bounds()
	n := 4 * r.Dx() * r.Dy()
	switch m := m.(type) {
	case *image.NRGBA:
		if m.Stride == 4*r.Dx() {
			return m.Pix[:n]
		}
	case *image.RGBA:
		// Premultiplied and straight alpha are the same bytes when
		// every pixel is opaque, as in a screenshot.
		if m.Stride == 4*r.Dx() && m.Opaque() {
			return m.Pix[:n]
		}
	}
	c := image.NewNRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(c, c.Bounds(), m, r.Min, draw.Src)
	return c.Pix
}

// pixelAt is the pixel at byte offset o as one number, for equality.
func pixelAt(p []byte, o int) uint32 { return binary.LittleEndian.Uint32(p[o : o+4]) }

// The YIQ coordinates of an RGB difference. Every product is rounded on
// its own (the float64 conversions forbid fused multiply-adds), so that
// the results, and the counts at the threshold, are the same on every
// machine.
func yiqY(dr, dg, db float64) float64 {
	return float64(dr*0.29889531) + float64(dg*0.58662247) + float64(db*0.11448223)
}

func yiqI(dr, dg, db float64) float64 {
	return float64(dr*0.59597799) - float64(dg*0.27417610) - float64(db*0.32180189)
}

func yiqQ(dr, dg, db float64) float64 {
	return float64(dr*0.21147017) - float64(dg*0.52261711) + float64(db*0.31114694)
}

// rgbDelta is c1 - c2 per channel, both over white when translucent.
func rgbDelta(c1, c2 []byte) (dr, dg, db float64) {
	r1, g1, b1, a1 := int(c1[0]), int(c1[1]), int(c1[2]), int(c1[3])
	r2, g2, b2, a2 := int(c2[0]), int(c2[1]), int(c2[2]), int(c2[3])
	if a1 == 255 && a2 == 255 {
		return float64(r1 - r2), float64(g1 - g2), float64(b1 - b2)
	}
	// c*a/255 + 255*(1-a/255) is c over white; the difference of two of
	// them, with integers kept exact until the one division.
	da := a1 - a2
	return float64(r1*a1-r2*a2-255*da) / 255, float64(g1*a1-g2*a2-255*da) / 255, float64(b1*a1-b2*a2-255*da) / 255
}

// yiqDistance is the weighted squared YIQ distance of c2 from c1.
func yiqDistance(c1, c2 []byte) float64 {
	dr, dg, db := rgbDelta(c1, c2)
	y, i, q := yiqY(dr, dg, db), yiqI(dr, dg, db), yiqQ(dr, dg, db)
	return float64(float64(0.5053*y)*y) + float64(float64(0.299*i)*i) + float64(float64(0.1957*q)*q)
}

// brightness is the luma difference of c2 from c1: positive when c1 is
// the brighter.
func brightness(c1, c2 []byte) float64 {
	if c1[0] == c2[0] && c1[1] == c2[1] && c1[2] == c2[2] && c1[3] == c2[3] {
		return 0
	}
	return yiqY(rgbDelta(c1, c2))
}

// antiAliased reports whether the pixel at x, y of img is on an intensity
// slope between two flat areas (Vysniauskas): it has both darker and
// brighter neighbours, at most 2 neighbours of its own brightness (a
// pixel on the picture's edge counts one more, for the neighbours it
// lacks), and its darkest or its brightest neighbour has 3 or more
// identical neighbours in both img and other. The neighbours are visited
// column by column, and the first of equally dark (or bright) ones is
// taken, as pixelmatch does, so that the counts agree.
func antiAliased(img, other []byte, x, y, w, h int) bool {
	x0, x2, y0, y2 := max(x-1, 0), min(x+1, w-1), max(y-1, 0), min(y+1, h-1)
	equal := 0
	if x == x0 || x == x2 || y == y0 || y == y2 {
		equal = 1
	}
	o := (y*w + x) * 4
	center := img[o : o+4 : o+4]
	var darkest, brightest float64
	var dx, dy, bx, by int
	for nx := x0; nx <= x2; nx++ {
		for ny := y0; ny <= y2; ny++ {
			if nx == x && ny == y {
				continue
			}
			n := (ny*w + nx) * 4
			d := brightness(center, img[n:n+4:n+4])
			switch {
			case d == 0:
				equal++
				if equal > 2 {
					return false
				}
			case d < darkest:
				darkest, dx, dy = d, nx, ny
			case d > brightest:
				brightest, bx, by = d, nx, ny
			}
		}
	}
	if darkest == 0 || brightest == 0 {
		return false
	}
	return flat(img, dx, dy, w, h) && flat(other, dx, dy, w, h) ||
		flat(img, bx, by, w, h) && flat(other, bx, by, w, h)
}

// flat reports whether the pixel at x, y has 3 or more neighbours of
// exactly its colour (a pixel on the edge counts one more).
func flat(img []byte, x, y, w, h int) bool {
	x0, x2, y0, y2 := max(x-1, 0), min(x+1, w-1), max(y-1, 0), min(y+1, h-1)
	same := 0
	if x == x0 || x == x2 || y == y0 || y == y2 {
		same = 1
	}
	c := pixelAt(img, (y*w+x)*4)
	for nx := x0; nx <= x2; nx++ {
		for ny := y0; ny <= y2; ny++ {
			if nx == x && ny == y || pixelAt(img, (ny*w+nx)*4) != c {
				continue
			}
			if same++; same > 2 {
				return true
			}
		}
	}
	return false
}

// fade writes the pixel of src at o to out as grey, faded towards white.
func fade(out, src []byte, o int) {
	luma := float64(src[o])*0.29889531 + float64(src[o+1])*0.58662247 + float64(src[o+2])*0.11448223
	v := 255 + (luma-255)*fadeAlpha*float64(src[o+3])/255
	g := uint8(v + 0.5)
	out[o], out[o+1], out[o+2], out[o+3] = g, g, g, 255
}

func mark(out []byte, o int, c color.NRGBA) {
	out[o], out[o+1], out[o+2], out[o+3] = c.R, c.G, c.B, 255
}
