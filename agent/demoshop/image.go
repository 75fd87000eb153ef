package demoshop

import (
	"bytes"
	"hash/fnv"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"sync"
)

// Hero images are generated rather than stored so that the binary stays small
// and every product still has a distinct picture.
const (
	imageWidth  = 600
	imageHeight = 400
	// imageBlock is the side of the square blocks the noise is drawn in:
	// PNG's row filters compress the repeats, which keeps the file small,
	// while the image stays far above Chrome's entropy threshold for LCP
	// candidates (Chrome ignores flat, low-entropy images as LCP).
	imageBlock = 4
)

// images caches encoded hero images for the life of the process. It is shared
// by all Shops because the picture depends only on the id, and bounded
// because only catalogue ids are ever generated.
var images sync.Map // product id -> *heroImage

type heroImage struct {
	once sync.Once
	png  []byte
}

// productImage returns the PNG for a catalogue id, generating it on first use.
func productImage(id string) []byte {
	v, _ := images.LoadOrStore(id, &heroImage{})
	h := v.(*heroImage)
	h.once.Do(func() { h.png = renderImage(id) })
	return h.png
}

// renderImage draws a colour gradient with noise on top, both seeded by the
// id so that the same product always gets the same picture.
func renderImage(id string) []byte {
	sum := fnv.New64a()
	sum.Write([]byte(id))
	seed := sum.Sum64()
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	base := [3]int{rng.IntN(128) + 64, rng.IntN(128) + 64, rng.IntN(128) + 64}
	img := image.NewRGBA(image.Rect(0, 0, imageWidth, imageHeight))
	for by := 0; by < imageHeight; by += imageBlock {
		for bx := 0; bx < imageWidth; bx += imageBlock {
			n := rng.Uint32()
			c := color.RGBA{
				R: clamp(base[0] + bx*48/imageWidth + int(n&7) - 4),
				G: clamp(base[1] + by*48/imageHeight + int(n>>4&7) - 4),
				B: clamp(base[2] - bx*24/imageWidth - by*24/imageHeight + int(n>>8&7) - 4),
				A: 255,
			}
			for y := by; y < by+imageBlock; y++ {
				for x := bx; x < bx+imageBlock; x++ {
					img.SetRGBA(x, y, c)
				}
			}
		}
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.DefaultCompression}
	if err := enc.Encode(&buf, img); err != nil {
		// Encoding into memory fails only on a programming error.
		panic("demoshop: encoding hero image: " + err.Error())
	}
	return buf.Bytes()
}

func clamp(v int) uint8 {
	return uint8(min(max(v, 0), 255))
}
