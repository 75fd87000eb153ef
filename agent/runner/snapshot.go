package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"

	"github.com/uxprobe/uxprobe/scenarios"
)

// MaskColor is the solid colour masked elements are painted over with in a
// snapshot: a magenta no page uses for content, as Playwright's mask.
var MaskColor = color.NRGBA{R: 255, G: 0, B: 255, A: 255}

// snapshotPrepare readies the page for a picture that is the same each
// time it is taken of the same page: web fonts loaded; finite animations
// and transitions finished; infinite ones held at their start (and set
// going again by snapshotRestore); the text caret hidden; two frames
// painted so that all of it is on screen. It returns the boxes of the
// masked elements in CSS pixels of the picture (the viewport's, or the
// document's for a full page) and the device pixel ratio.
const snapshotPrepare = `(async (masks, full) => {
  if (document.fonts && document.fonts.ready) await document.fonts.ready;
  let st = document.getElementById('__uxprobe-snapshot');
  if (!st) {
    st = document.createElement('style');
    st.id = '__uxprobe-snapshot';
    (document.head || document.documentElement).appendChild(st);
  }
  st.textContent = '*, *::before, *::after { caret-color: transparent !important; }';
  const held = [];
  const settle = () => {
    for (const a of document.getAnimations()) {
      const t = a.effect && a.effect.getComputedTiming ? a.effect.getComputedTiming() : null;
      if (!t) continue;
      try {
        if (Number.isFinite(t.endTime)) a.finish();
        else if (a.playState === 'running') { held.push([a, a.currentTime]); a.pause(); a.currentTime = 0; }
      } catch (e) {}
    }
  };
  settle();
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  settle(); // what the first frames started, such as a transition on a style the caret rule changed
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  window.__uxprobeHeld = held;
  const sx = full ? window.scrollX : 0, sy = full ? window.scrollY : 0;
  const rects = [];
  const sel = window.__uxprobeSelect;
  for (const m of masks) {
    for (const el of sel.all(m.kind, m.value)) {
      for (const r of el.getClientRects()) {
        if (r.width > 0 && r.height > 0) rects.push([r.left + sx, r.top + sy, r.width, r.height]);
      }
    }
  }
  return { rects, dpr: window.devicePixelRatio || 1 };
})`

// snapshotRestore undoes what snapshotPrepare changed that the flow's
// later steps could notice: the caret rule, the held infinite animations.
const snapshotRestore = `(() => {
  const st = document.getElementById('__uxprobe-snapshot');
  if (st) st.remove();
  for (const [a, t] of (window.__uxprobeHeld || [])) {
    try { a.currentTime = t; a.play(); } catch (e) {}
  }
  delete window.__uxprobeHeld;
  return true;
})()`

type snapshotLayout struct {
	Rects [][4]float64 `json:"rects"`
	DPR   float64      `json:"dpr"`
}

// Snapshot implements scenarios.Page: a still picture of the page, the
// same each time it is taken of the same page on the same machine.
func (p *tabPage) Snapshot(ctx context.Context, opts scenarios.SnapshotOptions) ([]byte, error) {
	// Unlike Screenshot, no wait for animations to end (waitStill): they
	// are finished at once, which a long one would not be within its bound.
	// No scrollbars: an overlay scrollbar (phones) fades in and out with
	// each scroll, and the page's own layout is what is compared. The
	// agent's Chrome hides them already (--hide-scrollbars, agent/browser);
	// this holds for a Chrome started otherwise too, and is not undone,
	// since hidden is how every run sees pages.
	if _, err := cdp.Call(ctx, p.t, emulation.SetScrollbarsHidden, emulation.SetScrollbarsHiddenParams{Hidden: true}); err != nil {
		return nil, p.wrap(ctx, err)
	}
	masks := make([]map[string]string, len(opts.Mask))
	for i, m := range opts.Mask {
		masks[i] = map[string]string{"kind": string(m.Kind), "value": m.Value}
	}
	args, err := json.Marshal([]any{masks, opts.FullPage})
	if err != nil {
		return nil, err
	}
	var layout snapshotLayout
	// The arguments go in as JSON, spread into the function: a selector
	// can never break out of them.
	if err := p.call(ctx, snapshotPrepare+"(..."+string(args)+")", &layout); err != nil {
		return nil, err
	}
	defer func() { _ = p.call(p.runCtx, snapshotRestore, nil) }() // best effort
	params := page.CaptureScreenshotParams{Format: page.CaptureScreenshotFormatPng}
	if opts.FullPage {
		m, err := cdp.Call(ctx, p.t, page.GetLayoutMetrics, cdp.Empty{})
		if err != nil {
			return nil, p.wrap(ctx, err)
		}
		if cs := m.CSSContentSize; cs != nil && cs.Width > 0 && cs.Height > 0 {
			params.Clip = &page.Viewport{Width: math.Ceil(cs.Width), Height: math.Ceil(cs.Height), Scale: 1}
			params.CaptureBeyondViewport = ptr(true)
		}
	}
	shot, err := p.stillPicture(ctx, params)
	if err != nil {
		return nil, err
	}
	if len(layout.Rects) == 0 {
		return shot, nil
	}
	return paintMasks(shot, layout)
}

// Two pictures in a row must be the same before one is compared, as
// Playwright's toHaveScreenshot does: what the page does on its own after
// its animations were finished (a field that scrolls its text to the
// caret, a late layout) settles between them. stillTries bounds the
// pictures, stillGap is the pause between two.
const (
	stillTries = 5
	stillGap   = 100 * time.Millisecond
)

// stillPicture takes pictures until two in a row are the same, and
// returns the last; a page that never holds still gets a warning on the
// step and its last picture is compared.
func (p *tabPage) stillPicture(ctx context.Context, params page.CaptureScreenshotParams) ([]byte, error) {
	var last []byte
	for i := 0; i < stillTries; i++ {
		if i > 0 {
			if err := (scenarios.Sleep{Duration: stillGap}).Do(ctx, p); err != nil {
				return nil, err
			}
		}
		res, err := cdp.Call(ctx, p.t, page.CaptureScreenshot, params)
		if err != nil {
			return nil, p.wrap(ctx, err)
		}
		if last != nil && bytes.Equal(last, res.Data) {
			return res.Data, nil
		}
		last = res.Data
	}
	p.warnings = append(p.warnings, fmt.Sprintf("the page kept changing over %d pictures %s apart; the last one was compared (mask what moves)", stillTries, stillGap))
	return last, nil
}

// paintMasks paints the masked boxes over the picture, in device pixels.
// The mask is painted on the picture, not in the page, so that nothing of
// the page (a fixed header over the box, a script that reacts to a new
// element) can show through it or be changed by it.
func paintMasks(data []byte, layout snapshotLayout) ([]byte, error) {
	src, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("the screenshot is not a PNG: %w", err)
	}
	img := image.NewNRGBA(src.Bounds())
	draw.Draw(img, img.Bounds(), src, src.Bounds().Min, draw.Src)
	dpr := layout.DPR
	if !(dpr > 0) {
		dpr = 1
	}
	fill := image.NewUniform(MaskColor)
	for _, r := range layout.Rects {
		box := image.Rect(int(math.Floor(r[0]*dpr)), int(math.Floor(r[1]*dpr)),
			int(math.Ceil((r[0]+r[2])*dpr)), int(math.Ceil((r[1]+r[3])*dpr))).Intersect(img.Bounds())
		draw.Draw(img, box, fill, image.Point{}, draw.Src)
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
