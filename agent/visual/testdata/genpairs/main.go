// Command genpairs writes the picture pairs that agent/visual is tested on
// against pixelmatch: each case a -a.png and a -b.png in the directory
// given. The pictures are made here, deterministically, so that they can be
// remade and reviewed; regenerate.sh runs this and then pixelmatch on them.
package main

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: genpairs DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fail(err)
	}
	for _, c := range cases() {
		for i, img := range []image.Image{c.a, c.b} {
			f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%c.png", c.name, 'a'+i)))
			if err != nil {
				fail(err)
			}
			if err := png.Encode(f, img); err != nil {
				fail(err)
			}
			if err := f.Close(); err != nil {
				fail(err)
			}
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "genpairs:", err)
	os.Exit(1)
}

type pair struct {
	name string
	a, b image.Image
}

var (
	white  = color.NRGBA{255, 255, 255, 255}
	ink    = color.NRGBA{32, 33, 36, 255}
	blue   = color.NRGBA{0x1a, 0x73, 0xe8, 255}
	red    = color.NRGBA{0xd9, 0x30, 0x25, 255}
	darker = color.NRGBA{0x19, 0x67, 0xd2, 255}
)

func cases() []pair {
	text := func(dy float64) image.Image { return render(160, 96, white, ink, paragraph(dy)) }
	shapes := func(dx float64) image.Image { return render(128, 96, white, ink, circleAndLine(dx)) }
	button := func(c color.NRGBA) image.Image { return render(120, 60, white, c, roundedRect(20.5, 15.5, 80, 30, 8)) }
	na, nb := noise()
	ga, gb := greyRuns()
	ta, tb := translucent()
	return []pair{
		{"identical", text(0), text(0)},
		{"noise", na, nb},
		// A paragraph of several lines moved down by 1 px: must be caught.
		{"text-shift", text(0), text(1)},
		// The same shapes a quarter pixel apart: anti-aliasing only.
		{"aa-edges", shapes(0), shapes(0.25)},
		// The same, cut by the picture's edges, where a pixel has fewer
		// neighbours.
		{"aa-border", cut(shapes(0)), cut(shapes(0.25))},
		{"colour-changed", button(blue), button(red)},
		{"colour-subtle", button(blue), button(darker)},
		{"translucent", ta, tb},
		// Flat runs of 4 greys with every fourth pixel redrawn: many
		// pixels on slopes and on the picture's edges, where the
		// anti-aliasing rules count the missing neighbours.
		{"grey-runs", ga, gb},
	}
}

// cut is the part of m from (50, 20) on, 40 x 40 px: the circle's and
// the line's edges run into its borders.
func cut(m image.Image) image.Image {
	out := image.NewNRGBA(image.Rect(0, 0, 40, 40))
	draw.Draw(out, out.Bounds(), m, image.Pt(50, 20), draw.Src)
	return out
}

// render draws the shape (a coverage test of a point) in fg over bg with 4
// x 4 samples a pixel: anti-aliased edges, as a browser draws them.
func render(w, h int, bg, fg color.NRGBA, inside func(x, y float64) bool) *image.NRGBA {
	const ss = 4
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			n := 0
			for sy := range ss {
				for sx := range ss {
					if inside(float64(x)+(float64(sx)+0.5)/ss, float64(y)+(float64(sy)+0.5)/ss) {
						n++
					}
				}
			}
			cov := float64(n) / (ss * ss)
			mix := func(b, f uint8) uint8 { return uint8(math.Round(float64(b) + (float64(f)-float64(b))*cov)) }
			img.SetNRGBA(x, y, color.NRGBA{mix(bg.R, fg.R), mix(bg.G, fg.G), mix(bg.B, fg.B), 255})
		}
	}
	return img
}

// paragraph is 6 lines of word-like runs of glyph boxes at fractional
// positions, moved down by dy.
func paragraph(dy float64) func(x, y float64) bool {
	type box struct{ x0, y0, x1, y1 float64 }
	var boxes []box
	r := rand.New(rand.NewPCG(1, 2))
	for line := range 6 {
		top := 6 + float64(line)*14 + dy
		x := 6.0
		for x < 150 {
			gw := 2.5 + r.Float64()*5
			gh := 6 + r.Float64()*3
			if x+gw > 154 {
				break
			}
			boxes = append(boxes, box{x, top + (9 - gh), x + gw, top + 9})
			x += gw + 1.3
			if r.IntN(6) == 0 {
				x += 4 // a space between words
			}
		}
	}
	return func(x, y float64) bool {
		for _, b := range boxes {
			if x >= b.x0 && x < b.x1 && y >= b.y0 && y < b.y1 {
				return true
			}
		}
		return false
	}
}

func circleAndLine(dx float64) func(x, y float64) bool {
	return func(x, y float64) bool {
		x -= dx
		cx, cy := x-40, y-48
		if cx*cx+cy*cy <= 30*30 {
			return true
		}
		// a line 2.5 px thick from (80, 10) to (120, 86)
		ax, ay, bx, by := 80.0, 10.0, 120.0, 86.0
		t := ((x-ax)*(bx-ax) + (y-ay)*(by-ay)) / ((bx-ax)*(bx-ax) + (by-ay)*(by-ay))
		if t < 0 || t > 1 {
			return false
		}
		px, py := ax+t*(bx-ax)-x, ay+t*(by-ay)-y
		return px*px+py*py <= 1.25*1.25
	}
}

func roundedRect(x0, y0, w, h, r float64) func(x, y float64) bool {
	return func(x, y float64) bool {
		if x < x0 || x >= x0+w || y < y0 || y >= y0+h {
			return false
		}
		cx := math.Max(x0+r-x, math.Max(0, x-(x0+w-r)))
		cy := math.Max(y0+r-y, math.Max(0, y-(y0+h-r)))
		return cx*cx+cy*cy <= r*r
	}
}

// noise is random colours, and the same with every channel moved by up
// to 24 and a 10 x 10 block redrawn.
func noise() (image.Image, image.Image) {
	const w, h = 96, 64
	r := rand.New(rand.NewPCG(3, 4))
	a := image.NewNRGBA(image.Rect(0, 0, w, h))
	b := image.NewNRGBA(image.Rect(0, 0, w, h))
	jitter := func(v uint8) uint8 { return uint8(min(255, max(0, int(v)+r.IntN(49)-24))) }
	for y := range h {
		for x := range w {
			c := color.NRGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255}
			a.SetNRGBA(x, y, c)
			d := color.NRGBA{jitter(c.R), jitter(c.G), jitter(c.B), 255}
			if x >= 40 && x < 50 && y >= 20 && y < 30 {
				d = color.NRGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255}
			}
			b.SetNRGBA(x, y, d)
		}
	}
	return a, b
}

func greyRuns() (image.Image, image.Image) {
	const n = 24
	r := rand.New(rand.NewPCG(7, 7))
	a := image.NewNRGBA(image.Rect(0, 0, n, n))
	b := image.NewNRGBA(image.Rect(0, 0, n, n))
	levels := []uint8{0, 96, 160, 255}
	for y := range n {
		for x := range n {
			v := levels[r.IntN(4)]
			if r.IntN(3) > 0 && x > 0 {
				v = a.NRGBAAt(x-1, y).R
			}
			a.SetNRGBA(x, y, color.NRGBA{v, v, v, 255})
			if r.IntN(4) == 0 {
				v = levels[r.IntN(4)]
			}
			b.SetNRGBA(x, y, color.NRGBA{v, v, v, 255})
		}
	}
	return a, b
}

// translucent is a colour ramp whose alpha falls from left to right, and
// the same with a band of other alpha and colour: compared over white.
func translucent() (image.Image, image.Image) {
	const w, h = 64, 48
	a := image.NewNRGBA(image.Rect(0, 0, w, h))
	b := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.NRGBA{uint8(4 * x), uint8(5 * y), 128, uint8(255 - 3*x)}
			a.SetNRGBA(x, y, c)
			if y >= 16 && y < 24 {
				c.A = uint8(255 - 2*x)
				c.B = 100
			}
			b.SetNRGBA(x, y, c)
		}
	}
	return a, b
}
