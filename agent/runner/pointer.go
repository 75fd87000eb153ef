package runner

// The browser primitives new actions are written from (scenarios.Page's
// Locate, Pointer and Touchscreen), so that an action such as drag lives
// in one file of its own in scenarios.

import (
	"context"
	"math"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"

	"github.com/uxprobe/uxprobe/scenarios"
)

// doubleClickTime is how soon after a release a press at the same point
// is the next click of a double click, as an OS counts clicks (500 ms is
// the common default); CDP leaves the count to the sender.
const doubleClickTime = 500 * time.Millisecond

// pointerState is what the mouse did last in the current action, for
// counting clicks.
type pointerState struct {
	upAt   time.Time
	up     scenarios.Point
	clicks int64 // of the press held or last released
}

// Locate implements scenarios.Page. It aims an input: the page gets its
// bounded moment to paint first, and the input is marked for interaction
// latency and for AwaitNavigation.
func (p *tabPage) Locate(ctx context.Context, sel scenarios.Selector) (scenarios.Point, error) {
	r, err := p.waitInput(ctx, sel, condClickable)
	if err != nil {
		return scenarios.Point{}, err
	}
	p.aimed(r)
	// Clicks are counted within one action, as Playwright counts them:
	// two click steps are two clicks, never a double click.
	p.pointer = pointerState{}
	return scenarios.Point{X: r.X, Y: r.Y}, nil
}

// Touchscreen implements scenarios.Page.
func (p *tabPage) Touchscreen() bool { return p.touch }

// Pointer implements scenarios.Page. While the button is down, every move
// carries it, as a person's mouse does: that is what starts the page's
// HTML5 drag and what pointer-based sortable lists follow.
func (p *tabPage) Pointer(ctx context.Context, action scenarios.PointerAction, at scenarios.Point) error {
	if action == scenarios.PointerTap {
		return p.tap(ctx, at)
	}
	params := input.DispatchMouseEventParams{X: at.X, Y: at.Y, Button: input.MouseButtonNone}
	switch action {
	case scenarios.PointerMove:
		params.Type = input.DispatchMouseEventTypeMouseMoved
		if p.buttonDown {
			params.Button, params.Buttons = input.MouseButtonLeft, 1
		}
	case scenarios.PointerDown:
		clicks := int64(1)
		if time.Since(p.pointer.upAt) < doubleClickTime && near(p.pointer.up, at) {
			clicks = p.pointer.clicks + 1
		}
		p.pointer.clicks = clicks
		params.Type, params.Button, params.Buttons, params.ClickCount = input.DispatchMouseEventTypeMousePressed, input.MouseButtonLeft, 1, clicks
	case scenarios.PointerUp:
		params.Type, params.Button, params.ClickCount = input.DispatchMouseEventTypeMouseReleased, input.MouseButtonLeft, max(p.pointer.clicks, 1)
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
		p.pointer.upAt, p.pointer.up = time.Now(), at
	}
	return nil
}

// near is whether two points are one place for a double click.
func near(a, b scenarios.Point) bool { return math.Abs(a.X-b.X) <= 2 && math.Abs(a.Y-b.Y) <= 2 }

// tap touches the point and lifts the finger: Chrome, emulating a touch
// screen, fires touchstart and touchend, and from the tap gesture the
// mouse events and click a page without touch handlers relies on.
func (p *tabPage) tap(ctx context.Context, at scenarios.Point) error {
	for _, ev := range []input.DispatchTouchEventParams{
		{Type: input.DispatchTouchEventTypeTouchStart, TouchPoints: []*input.TouchPoint{{X: at.X, Y: at.Y}}},
		{Type: input.DispatchTouchEventTypeTouchEnd, TouchPoints: []*input.TouchPoint{}},
	} {
		sent := time.Now()
		if _, err := cdp.Call(ctx, p.t, input.DispatchTouchEvent, ev); err != nil {
			return p.unanswered(ctx, sent, err)
		}
	}
	return nil
}
