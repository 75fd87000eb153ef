package scenarios

import (
	"context"
	"math"
	"time"
)

// Drag drags From onto To as a person does with a mouse: press on From,
// move in small steps (a sortable list reorders as the pointer passes, and
// a drag starts only after the pointer moved a few pixels), rest over To,
// release. It is written only from Page's primitives.
//
// The pointer comes to rest past To's centre, halfway to its far edge: a
// sortable list puts the dragged item before or after the one under the
// pointer by which half of it the pointer is in, and at the very centre
// each library decides otherwise (dragula and jQuery UI, tried, put the
// item on the near side, SortableJS on the far one). Past the centre, From
// takes To's place in all of them, as a person dragging an item onto
// another means; a board's column or a canvas gets the drop inside it.
type Drag struct {
	From Selector
	To   Selector
}

// dragSteps is how many moves a drag takes from its start to its target,
// and dragPause the pause after each: pointer-based lists animate on
// their own frames, and a jump straight to the target skips the places a
// library reacts to.
const (
	dragSteps = 10
	dragPause = 16 * time.Millisecond
)

func (a Drag) Kind() string { return kindOf(a) }
func (a Drag) Do(ctx context.Context, p Page) error {
	// To is looked for first, so that a drag onto nothing presses no
	// button, and From last: each is scrolled into view as it is
	// located, and From must be where it is pressed.
	if _, err := p.Locate(ctx, a.To); err != nil {
		return err
	}
	src, err := p.Locate(ctx, a.From)
	if err != nil {
		return err
	}
	from := src.Point
	if err := p.Pointer(ctx, PointerMove, from); err != nil {
		return err
	}
	if err := p.Pointer(ctx, PointerDown, from); err != nil {
		return err
	}
	// The target may have moved when From was lifted out of the page's
	// flow, or be out of view: it is aimed at again, from where it is
	// now, scrolled into view with the button held as a person scrolls
	// while dragging.
	dst, err := p.Locate(ctx, a.To)
	if err != nil {
		_ = p.Pointer(ctx, PointerUp, from) // best effort: leave no button pressed
		return err
	}
	to := pastCentre(from, dst)
	for i := 1; i <= dragSteps; i++ {
		f := float64(i) / dragSteps
		at := Point{X: from.X + (to.X-from.X)*f, Y: from.Y + (to.Y-from.Y)*f}
		if err := p.Pointer(ctx, PointerMove, at); err != nil {
			return err
		}
		if err := (Sleep{Duration: dragPause}).Do(ctx, p); err != nil {
			return err
		}
	}
	return p.Pointer(ctx, PointerUp, to)
}

// pastCentre is the point on the way from from through the target's point
// that lies halfway between that point and the edge of the target's box.
func pastCentre(from Point, t Target) Point {
	dx, dy := t.X-from.X, t.Y-from.Y
	d := math.Hypot(dx, dy)
	if d == 0 {
		return t.Point
	}
	ux, uy := dx/d, dy/d
	// How far the box reaches from its point along the way: the nearer of
	// its sides the way crosses.
	reach := math.Inf(1)
	if ux != 0 {
		reach = min(reach, t.Width/2/math.Abs(ux))
	}
	if uy != 0 {
		reach = min(reach, t.Height/2/math.Abs(uy))
	}
	if math.IsInf(reach, 0) || math.IsNaN(reach) || reach <= 0 {
		return t.Point
	}
	return Point{X: t.X + ux*reach/2, Y: t.Y + uy*reach/2}
}
