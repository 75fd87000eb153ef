package scenarios

import "context"

// Dblclick double-clicks an element with the mouse: two presses and
// releases at one point, which the page sees as click, click, dblclick (a
// node editor opens a node so). A navigation it starts is waited for.
type Dblclick struct{ Selector Selector }

func (a Dblclick) Kind() string { return kindOf(a) }
func (a Dblclick) Do(ctx context.Context, p Page) error {
	at, err := p.Locate(ctx, a.Selector)
	if err != nil {
		return err
	}
	if err := pointerSequence(ctx, p, at.Point, PointerMove, PointerDown, PointerUp, PointerDown, PointerUp); err != nil {
		return err
	}
	return p.AwaitNavigation(ctx)
}
