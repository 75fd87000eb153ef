package scenarios

import "context"

// ScrollTo scrolls an element into the middle of the viewport, at once,
// as a page's own link to an anchor does. The element need only be in the
// page: a hidden or disabled one is scrolled to as well.
type ScrollTo struct{ Selector Selector }

// scrollIntoView is what ScrollTo does to the element.
const scrollIntoView = `(el) => { el.scrollIntoView({ block: 'center', inline: 'center', behavior: 'instant' }); }`

func (a ScrollTo) Kind() string { return kindOf(a) }
func (a ScrollTo) Do(ctx context.Context, p Page) error {
	if err := p.WaitFor(ctx, a.Selector, StatePresent); err != nil {
		return err
	}
	return p.Apply(ctx, a.Selector, scrollIntoView)
}
