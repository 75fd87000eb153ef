package scenarios

import "context"

// Click clicks an element as a person does: with the mouse on a desktop,
// with a finger (touch events, then the click the page derives) on a
// touch device. A navigation it starts is waited for.
type Click struct{ Selector Selector }

func (a Click) Kind() string { return kindOf(a) }
func (a Click) Do(ctx context.Context, p Page) error {
	at, err := p.Locate(ctx, a.Selector)
	if err != nil {
		return err
	}
	if p.Touchscreen() {
		err = p.Pointer(ctx, PointerTap, at.Point)
	} else {
		err = p.Pointer(ctx, PointerClick, at.Point)
	}
	if err != nil {
		return err
	}
	return p.AwaitNavigation(ctx)
}

// pointerSequence sends the pointer actions at one point, in order.
func pointerSequence(ctx context.Context, p Page, at Point, actions ...PointerAction) error {
	for _, act := range actions {
		if err := p.Pointer(ctx, act, at); err != nil {
			return err
		}
	}
	return nil
}
