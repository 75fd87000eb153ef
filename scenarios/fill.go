package scenarios

import (
	"context"
	"strings"
)

// Fill clears a field and types a value into it key by key, as a person
// does (and as Playwright's pressSequentially): each character is a
// keydown, keypress, input and keyup, so a page that validates on key
// events sees the value. With Insert the value goes in as one input
// event instead, in one round trip, for long values in fields that need
// no keys. A line break is Enter; a navigation it starts is waited for.
type Fill struct {
	Selector Selector
	Value    string
	Insert   bool
}

func (a Fill) Kind() string { return kindOf(a) }
func (a Fill) Do(ctx context.Context, p Page) error {
	if err := p.Focus(ctx, &a.Selector, true); err != nil {
		return err
	}
	switch {
	case a.Value == "":
		return nil
	case a.Insert:
		return p.InsertText(ctx, a.Value)
	}
	if err := p.Keys(ctx, TextKeys(a.Value)); err != nil {
		return err
	}
	if strings.ContainsAny(a.Value, "\r\n") {
		// A line break is Enter, which submits a one-line field's form.
		return p.AwaitNavigation(ctx)
	}
	return nil
}
