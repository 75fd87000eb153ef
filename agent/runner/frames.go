package runner

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/uxprobe/uxprobe/agent/runner/bridge"
	"github.com/uxprobe/uxprobe/scenarios"
)

// A chain such as `iframe#payment >> #card-number` that goes into an iframe
// of another origin cannot go on in the top page's script: the frame's
// document is out of its reach. The segments up to the frame run in the top
// page; the rest runs in the frame's own document, through the protocol:
// in Chrome's process for the frame (site isolation runs a frame of
// another site as a target of its own, which the run attaches to), or in an
// isolated world of the frame when it shares the page's process (another
// origin of the same site). Points to click are the frame's, moved by where
// the frame's content box is in the top page.

// foreignMarker is in the error selectors.js throws when a chain meets a
// frame of another origin: a top-page call that says so goes on in the
// frame.
const foreignMarker = "iframe of another origin"

// frameScope is where the rest of a chain runs.
type frameScope struct {
	exec   *chromedp.Target
	ctxID  runtime.ExecutionContextID // an isolated world; 0: the target's own main world
	frame  cdp.FrameID
	prefix string             // the segments that match the iframe, run in the top page
	rest   scenarios.Selector // the segments after it, run in the frame
}

// frameTargets are the frame targets the run attached to, and the isolated
// worlds it made in frames of its process, by frame id. A world lasts as
// long as its frame's document, and Chrome makes a new one per request, so
// one is kept per frame until a call finds it gone.
type frameTargets struct {
	byFrame map[cdp.FrameID]frameTarget
	worlds  map[cdp.FrameID]runtime.ExecutionContextID
}

type frameTarget struct {
	t      *chromedp.Target
	cancel context.CancelFunc
}

// closeFrames detaches from the frame targets; the frames stay, as they
// are the page's.
func (p *tabPage) closeFrames() {
	for id, ft := range p.frames.byFrame {
		ft.cancel()
		delete(p.frames.byFrame, id)
	}
}

// errFrameGone is a frame call that failed because the frame's document or
// target went away (a navigation): the chain is resolved again.
var errFrameGone = errors.New("the frame went away")

// scopeOf returns where sel's last segments run, or nil for the top page.
func (p *tabPage) scopeOf(ctx context.Context, sel scenarios.Selector) (*frameScope, error) {
	if sel.Kind != scenarios.SelectorChain || p.tabCtx == nil {
		return nil, nil
	}
	var sp *struct {
		Prefix string `json:"prefix"`
		Rest   string `json:"rest"`
	}
	if err := p.call(ctx, string(bridge.Foreign(sel.Value)), &sp); err != nil {
		return nil, err
	}
	if sp == nil {
		return nil, nil
	}
	// The iframe element, as an object, names the frame it holds.
	res, err := p.evaluate(ctx, runtime.EvaluateParams{Expression: string(bridge.ChainFirst(sp.Prefix))})
	if err != nil || res.Result == nil || res.Result.ObjectID == "" {
		return nil, p.wrap(ctx, err)
	}
	node, err := cdp.Call(ctx, p.t, dom.DescribeNode, dom.DescribeNodeParams{ObjectID: res.Result.ObjectID})
	_, _ = cdp.Call(ctx, p.t, runtime.ReleaseObject, runtime.ReleaseObjectParams{ObjectID: res.Result.ObjectID})
	if err != nil || node.Node == nil || node.Node.FrameID == "" {
		return nil, p.wrap(ctx, err)
	}
	fs := &frameScope{frame: node.Node.FrameID, prefix: sp.Prefix, rest: scenarios.Selector{Kind: scenarios.SelectorChain, Value: sp.Rest}}
	t, err := p.frameTarget(ctx, node.Node.FrameID)
	if err != nil {
		return nil, err
	}
	if t != nil {
		fs.exec = t
		return fs, nil
	}
	fs.exec = p.t
	if id, ok := p.frames.worlds[fs.frame]; ok {
		fs.ctxID = id
		return fs, nil
	}
	world, err := cdp.Call(ctx, p.t, page.CreateIsolatedWorld, page.CreateIsolatedWorldParams{FrameID: fs.frame, WorldName: "uxprobe"})
	if err != nil {
		return nil, p.wrap(ctx, err)
	}
	if p.frames.worlds == nil {
		p.frames.worlds = map[cdp.FrameID]runtime.ExecutionContextID{}
	}
	fs.ctxID = world.ExecutionContextID
	p.frames.worlds[fs.frame] = fs.ctxID
	return fs, nil
}

// frameTarget returns the attached target of an out-of-process frame, or
// nil when the frame is in the page's process. Chrome gives such a frame's
// target the frame's id.
func (p *tabPage) frameTarget(ctx context.Context, id cdp.FrameID) (*chromedp.Target, error) {
	if ft, ok := p.frames.byFrame[id]; ok {
		return ft.t, nil
	}
	infos, err := cdp.Call(ctx, chromedp.FromContext(p.tabCtx).Browser, target.GetTargets, target.GetTargetsParams{})
	if err != nil {
		return nil, p.wrap(ctx, err)
	}
	for _, info := range infos.TargetInfos {
		if info.Type != "iframe" || string(info.TargetID) != string(id) {
			continue
		}
		fctx, cancel := chromedp.NewContext(p.tabCtx, chromedp.WithTargetID(info.TargetID), chromedp.WithDetachOnCancel())
		if err := chromedp.Do(fctx); err != nil {
			cancel()
			return nil, p.wrap(ctx, err)
		}
		if p.frames.byFrame == nil {
			p.frames.byFrame = map[cdp.FrameID]frameTarget{}
		}
		t := chromedp.FromContext(fctx).Target
		p.frames.byFrame[id] = frameTarget{t: t, cancel: cancel}
		return t, nil
	}
	return nil, nil
}

// callIn is call in a frame's document.
func (p *tabPage) callIn(ctx context.Context, fs *frameScope, expr string, out any) error {
	installed := false
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		params := bridge.ByValue(bridge.Expr(expr))
		params.ContextID = fs.ctxID
		res, err := bridge.Evaluate(ctx, fs.exec, params, p.events.crash)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, bridge.ErrCrashed) {
				return p.wrap(ctx, err)
			}
			return errFrameGone
		}
		p.answered.Store(true)
		if ex := res.ExceptionDetails; ex != nil {
			text := bridge.ExceptionText(ex)
			if bridge.Missing(text) && !installed {
				installed = true
				if _, err := bridge.Evaluate(ctx, fs.exec, runtime.EvaluateParams{Expression: bridge.Bundle(), ContextID: fs.ctxID}, p.events.crash); err != nil {
					return errFrameGone
				}
				continue
			}
			if bridge.ContextGone(text) {
				return errFrameGone
			}
			return scenarios.Fail(scenarios.KindScript, "%s", text)
		}
		return bridge.Decode(res, out)
	}
}

// frameOrigin is where the frame's viewport is in the top page's, after
// scrolling the frame into view.
func (p *tabPage) frameOrigin(ctx context.Context, fs *frameScope) (x, y float64, err error) {
	b, err := p.frameBox(ctx, fs, nil)
	return b.X, b.Y, err
}

type frameBox struct {
	X       float64 `json:"x"`
	Y       float64 `json:"y"`
	Covered string  `json:"covered"`
}

// frameBox is frameOrigin, and with a point of the frame's viewport what
// of the top page covers the frame at that point.
func (p *tabPage) frameBox(ctx context.Context, fs *frameScope, point *[2]float64) (frameBox, error) {
	var b *frameBox
	expr := bridge.FrameBox(fs.prefix)
	if point != nil {
		expr = bridge.FrameBoxAt(fs.prefix, point[0], point[1])
	}
	if err := p.call(ctx, string(expr), &b); err != nil {
		return frameBox{}, err
	}
	if b == nil {
		return frameBox{}, errFrameGone
	}
	return *b, nil
}

// callSel runs the helper call expr builds for sel where sel's element is.
// It asks the top page first, so that selectors that stay in it cost
// nothing more; when the answer says the chain met a frame of another
// origin (at once, or when the frame's document arrived during a wait),
// the rest of the chain runs in that frame's document. It returns the
// frame's scope, nil for the top page. foreign tells whether a top-page
// answer in out met such a frame, for calls that answer errors as values.
func (p *tabPage) callSel(ctx context.Context, sel scenarios.Selector, expr func(scenarios.Selector) string, out any, foreign func() bool) (*frameScope, error) {
	for tries := 0; ; tries++ {
		err := p.call(ctx, expr(sel), out)
		met := (err != nil && strings.Contains(err.Error(), foreignMarker)) || (err == nil && foreign != nil && foreign())
		if !met || ctx.Err() != nil {
			return nil, err
		}
		fs, serr := p.scopeOf(ctx, sel)
		if serr != nil {
			return nil, serr
		}
		if fs == nil {
			// Not a first match (another match of the chain is such a
			// frame), or gone again: the top page's answer stands.
			if tries < 3 {
				continue
			}
			return nil, err
		}
		if _, _, err := p.frameOrigin(ctx, fs); err != nil && !errors.Is(err, errFrameGone) {
			return nil, err
		}
		err = p.callIn(ctx, fs, expr(fs.rest), out)
		if !errors.Is(err, errFrameGone) {
			return fs, err
		}
		// A frame that navigated: its world or target, if it had one, is gone.
		delete(p.frames.worlds, fs.frame)
		if ft, ok := p.frames.byFrame[fs.frame]; ok {
			ft.cancel()
			delete(p.frames.byFrame, fs.frame)
		}
		if err := (scenarios.Sleep{Duration: 20 * time.Millisecond}).Do(ctx, p); err != nil {
			return nil, err
		}
	}
}
