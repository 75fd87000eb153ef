package scenarios

import (
	"context"
	"time"
)

// Drag drags From onto To as a person does with a mouse: press on From,
// move in small steps (a sortable list reorders as the pointer passes, and
// a drag starts only after the pointer moved a few pixels), rest over To,
// release. It is written only from Page's primitives.
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
	from, err := p.Locate(ctx, a.From)
	if err != nil {
		return err
	}
	if _, err := p.Locate(ctx, a.To); err != nil {
		return err
	}
	if err := p.Pointer(ctx, PointerMove, from); err != nil {
		return err
	}
	if err := p.Pointer(ctx, PointerDown, from); err != nil {
		return err
	}
	// The target may have moved when From was lifted out of the page's
	// flow: it is aimed at again, from where it is now.
	to, err := p.Locate(ctx, a.To)
	if err != nil {
		_ = p.Pointer(ctx, PointerUp, from) // best effort: leave no button pressed
		return err
	}
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
