package runner

// The browser primitives new actions are written from (scenarios.Page's
// Locate and Pointer), so that an action such as drag lives in one file
// of its own in scenarios.

import (
	"context"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"

	"github.com/uxprobe/uxprobe/scenarios"
)

// Locate implements scenarios.Page.
func (p *tabPage) Locate(ctx context.Context, sel scenarios.Selector) (scenarios.Point, error) {
	r, err := p.wait(ctx, sel, condClickable)
	if err != nil {
		return scenarios.Point{}, err
	}
	return scenarios.Point{X: r.X, Y: r.Y}, nil
}

// Pointer implements scenarios.Page. While the button is down, every move
// carries it, as a person's mouse does: that is what starts the page's
// HTML5 drag and what pointer-based sortable lists follow.
func (p *tabPage) Pointer(ctx context.Context, action scenarios.PointerAction, at scenarios.Point) error {
	params := input.DispatchMouseEventParams{X: at.X, Y: at.Y, Button: input.MouseButtonNone}
	switch action {
	case scenarios.PointerMove:
		params.Type = input.DispatchMouseEventTypeMouseMoved
		if p.buttonDown {
			params.Button, params.Buttons = input.MouseButtonLeft, 1
		}
	case scenarios.PointerDown:
		params.Type, params.Button, params.Buttons, params.ClickCount = input.DispatchMouseEventTypeMousePressed, input.MouseButtonLeft, 1, 1
	case scenarios.PointerUp:
		params.Type, params.Button, params.ClickCount = input.DispatchMouseEventTypeMouseReleased, input.MouseButtonLeft, 1
	default:
		return scenarios.Fail(scenarios.KindScript, "unknown pointer action %q", action)
	}
	sent := time.Now()
	if _, err := cdp.Call(ctx, p.t, input.DispatchMouseEvent, params); err != nil {
		return p.unanswered(ctx, sent, err)
	}
	switch action {
	case scenarios.PointerDown:
		p.buttonDown = true
	case scenarios.PointerUp:
		p.buttonDown = false
	}
	return nil
}
