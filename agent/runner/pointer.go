package runner

// The browser primitives new actions are written from (scenarios.Page's
// Locate, Pointer and Touchscreen), so that an action such as drag lives
// in one file of its own in scenarios.

import (
	"context"
	"math"
	"time"

	"github.com/chromedp/cdproto/input"

	"github.com/uxprobe/uxprobe/agent/browser"
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
func (p *tabPage) Locate(ctx context.Context, sel scenarios.Selector) (scenarios.Target, error) {
	r, err := p.waitInput(ctx, sel, condClickable, "")
	if err != nil {
		return scenarios.Target{}, err
	}
	p.aimed(r)
	// Clicks are counted within one action, as Playwright counts them:
	// two click steps are two clicks, never a double click.
	p.pointer = pointerState{}
	return scenarios.Target{Point: scenarios.Point{X: r.X, Y: r.Y}, Width: r.W, Height: r.H}, nil
}

// Touchscreen implements scenarios.Page.
func (p *tabPage) Touchscreen() bool { return p.touch }

// Pointer implements scenarios.Page. While the button is down, every move
// carries it, as a person's mouse does: that is what starts the page's
// HTML5 drag and what pointer-based sortable lists follow. A click's and
// a tap's events go out together (browser.Pipeline), each as soon as the
// one before went out: waited for one by one, the move alone cost a frame
// (Chrome answers a mouse move with the next frame), 10 ms on desktop, and
// a tap's touch 14 ms.
func (p *tabPage) Pointer(ctx context.Context, action scenarios.PointerAction, at scenarios.Point) error {
	var events []scenarios.PointerAction
	switch action {
	case scenarios.PointerTap:
		return p.tap(ctx, at)
	case scenarios.PointerClick:
		events = []scenarios.PointerAction{scenarios.PointerMove, scenarios.PointerDown, scenarios.PointerUp}
	case scenarios.PointerMove, scenarios.PointerDown, scenarios.PointerUp:
		events = []scenarios.PointerAction{action}
	default:
		return scenarios.Fail(scenarios.KindScript, "unknown pointer action %q", action)
	}
	cmds := make([]browser.Command, 0, len(events))
	for _, ev := range events {
		cmds = append(cmds, browser.Command{Method: input.CommandDispatchMouseEvent, Params: p.mouseEvent(ev, at)})
	}
	sent := time.Now()
	if err := p.inOrder(ctx, cmds...); err != nil {
		return p.unanswered(ctx, sent, err)
	}
	for _, ev := range events {
		switch ev {
		case scenarios.PointerDown:
			p.buttonDown = true
		case scenarios.PointerUp:
			p.buttonDown = false
			p.pointer.upAt, p.pointer.up = time.Now(), at
		}
	}
	return nil
}

// mouseEvent is the protocol's event of a pointer action at the point,
// counting a press at the point of a recent release as a double click's
// second.
func (p *tabPage) mouseEvent(action scenarios.PointerAction, at scenarios.Point) input.DispatchMouseEventParams {
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
	}
	return params
}

// inOrder sends the commands to the page's target as one gesture.
func (p *tabPage) inOrder(ctx context.Context, cmds ...browser.Command) error {
	return p.browser.Pipeline(ctx, p.t, cmds...)
}

// near is whether two points are one place for a double click.
func near(a, b scenarios.Point) bool { return math.Abs(a.X-b.X) <= 2 && math.Abs(a.Y-b.Y) <= 2 }

// tap touches the point and lifts the finger: Chrome, emulating a touch
// screen, fires touchstart and touchend, and from the tap gesture the
// mouse events and click a page without touch handlers relies on.
func (p *tabPage) tap(ctx context.Context, at scenarios.Point) error {
	sent := time.Now()
	err := p.inOrder(ctx,
		browser.Command{Method: input.CommandDispatchTouchEvent, Params: input.DispatchTouchEventParams{
			Type: input.DispatchTouchEventTypeTouchStart, TouchPoints: []*input.TouchPoint{{X: at.X, Y: at.Y}}}},
		browser.Command{Method: input.CommandDispatchTouchEvent, Params: input.DispatchTouchEventParams{
			Type: input.DispatchTouchEventTypeTouchEnd, TouchPoints: []*input.TouchPoint{}}},
	)
	return p.unanswered(ctx, sent, err)
}
