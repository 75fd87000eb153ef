package scenarios

import "context"

// Press presses a key, with the modifiers of a chord such as Control+A
// held around it, on the focused element or on Selector's. A navigation
// it starts is waited for.
type Press struct {
	Selector *Selector
	Key      string // as ParseKey reads it; the loader checked it
}

func (a Press) Kind() string { return kindOf(a) }
func (a Press) Do(ctx context.Context, p Page) error {
	key, err := ParseKey(a.Key)
	if err != nil {
		return Fail(KindScript, "%v", err)
	}
	if err := p.Focus(ctx, a.Selector, false); err != nil {
		return err
	}
	if err := p.Keys(ctx, []KeyStroke{key}); err != nil {
		return err
	}
	return p.AwaitNavigation(ctx)
}
