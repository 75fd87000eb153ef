package scenarios

import "context"

// Type types text key by key into the focused element, or into
// Selector's: what a code editor (CodeMirror, Monaco) or a contenteditable
// listens to, where fill cannot reach a field. A line break is Enter. A
// navigation it starts is waited for.
type Type struct {
	Selector *Selector
	Text     string
}

func (a Type) Kind() string { return kindOf(a) }
func (a Type) Do(ctx context.Context, p Page) error {
	if err := p.Focus(ctx, a.Selector, false); err != nil {
		return err
	}
	if err := p.Keys(ctx, TextKeys(a.Text)); err != nil {
		return err
	}
	return p.AwaitNavigation(ctx)
}
