package runner

// The keyboard primitives of scenarios.Page (Focus, Keys, InsertText) and
// AwaitNavigation, from which fill, type and press are written.

import (
	"context"
	"strings"
	"time"
	"unicode"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp/kb"

	"github.com/uxprobe/uxprobe/agent/browser"
	"github.com/uxprobe/uxprobe/agent/runner/bridge"
	"github.com/uxprobe/uxprobe/scenarios"
)

// aimMark is where the current input began: the tab's count of
// navigations seen and the page's count of started ones when its target
// was found, which AwaitNavigation compares with what came after.
type aimMark struct {
	mark, navs int
}

// aimed records that an input is about to be sent to what r found.
func (p *tabPage) aimed(r checkResult) {
	p.aim = &aimMark{mark: p.events.navCount(), navs: r.Navs}
}

// Focus implements scenarios.Page.
func (p *tabPage) Focus(ctx context.Context, sel *scenarios.Selector, clear bool) error {
	target, cond, then := scenarios.Selector{Kind: scenarios.SelectorCSS, Value: "html"}, "present", "" // the focused element, whichever it is
	if sel != nil {
		target, cond, then = *sel, "visible", bridge.ThenFocus
		if clear {
			cond, then = "actionable", bridge.ThenClear // a disabled field cannot be typed into
		}
	}
	r, err := p.waitInput(ctx, target, cond, then)
	if err != nil {
		return err
	}
	p.aimed(r)
	switch {
	case sel == nil:
		return nil
	case r.Then != nil: // done by the wait
		return r.Then.err(*sel)
	case clear:
		_, err = p.element(ctx, *sel, bridge.Clear)
	default:
		_, err = p.element(ctx, *sel, bridge.Focus)
	}
	return err
}

// AwaitNavigation implements scenarios.Page.
func (p *tabPage) AwaitNavigation(ctx context.Context) error {
	if p.aim == nil {
		return nil // no input aimed at anything: nothing it could have started
	}
	a := *p.aim
	p.aim = nil
	return p.settle(ctx, a.mark, a.navs)
}

// InsertText implements scenarios.Page.
func (p *tabPage) InsertText(ctx context.Context, text string) error {
	if err := p.concealSecret(ctx, text); err != nil {
		return err
	}
	return p.insertText(ctx, text)
}

// insertText sends text as one input event; Keys has concealed the field
// for all of its text already.
func (p *tabPage) insertText(ctx context.Context, text string) error {
	sent := time.Now()
	_, err := cdp.Call(ctx, p.t, input.InsertText, input.InsertTextParams{Text: text})
	return p.unanswered(ctx, sent, err)
}

// concealSecret conceals the focused field before text that holds a
// secret of the flow is typed into it: what leaves a run masks the secret
// in text, and pictures of the page (screenshots, filmstrip frames, visual
// checks and their baselines, kept in git) are what leaves it besides.
// The text is checked whole, as a step types it, since one key of it is
// no secret.
func (p *tabPage) concealSecret(ctx context.Context, text string) error {
	if text == "" || p.flow == nil || p.flow.Mask(text) == text {
		return nil
	}
	var out struct {
		Concealed bool `json:"concealed"`
	}
	// Best effort: a page that cannot answer (it crashed, it is leaving)
	// fails the keys that follow, with the reason.
	_ = p.call(ctx, string(bridge.ConcealFocused()), &out)
	return ctx.Err()
}

// keyRunes are the runes of kb's table that the named keys of `press` are.
var keyRunes = map[string]string{
	"Enter": kb.Enter, "Tab": kb.Tab, "Escape": kb.Escape, "Backspace": kb.Backspace,
	"Delete": kb.Delete, "Space": " ", "ArrowUp": kb.ArrowUp, "ArrowDown": kb.ArrowDown,
	"ArrowLeft": kb.ArrowLeft, "ArrowRight": kb.ArrowRight, "Home": kb.Home, "End": kb.End,
	"PageUp": kb.PageUp, "PageDown": kb.PageDown,
}

// modifierKeys are the CDP modifier bit, DOM code and key code of each
// modifier of a chord.
var modifierKeys = map[string]struct {
	bit     int64
	code    string
	keyCode int64
}{
	"Alt":     {1, "AltLeft", 18},
	"Control": {2, "ControlLeft", 17},
	"Meta":    {4, "MetaLeft", 91},
	"Shift":   {8, "ShiftLeft", 16},
}

// Keys implements scenarios.Page. Each key costs two calls, as
// Puppeteer's keyboard does: a keyDown that carries the key's text (Chrome
// then fires keydown, keypress, beforeinput and input) and a keyUp.
// Modifiers cost two calls each around their key. A run of characters no
// key of the US layout types (é, 中, emoji) is one insertText, as
// Playwright sends them.
func (p *tabPage) Keys(ctx context.Context, keys []scenarios.KeyStroke) error {
	var typed strings.Builder
	for _, k := range keys {
		typed.WriteString(k.Key)
	}
	if err := p.concealSecret(ctx, typed.String()); err != nil {
		return err
	}
	var pending []rune // characters to insert as text
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		text := string(pending)
		pending = pending[:0]
		return p.insertText(ctx, text)
	}
	for _, k := range keys {
		if k.Key == "" {
			continue
		}
		r, named := keyRune(k.Key)
		v, known := kb.Keys[r]
		if !known && len(k.Modifiers) == 0 && !named {
			pending = append(pending, r)
			continue
		}
		if err := flush(); err != nil {
			return err
		}
		if err := p.stroke(ctx, k, r, v); err != nil {
			return err
		}
	}
	return flush()
}

// keyRune is the rune of kb's table a key of a stroke stands for.
func keyRune(key string) (r rune, named bool) {
	if s, ok := keyRunes[key]; ok {
		return []rune(s)[0], true
	}
	for _, r := range key {
		return r, false
	}
	return 0, false
}

// stroke presses the modifiers, the key and releases them in reverse.
func (p *tabPage) stroke(ctx context.Context, k scenarios.KeyStroke, r rune, v *kb.Key) error {
	var mods int64
	var events []input.DispatchKeyEventParams
	for _, m := range k.Modifiers {
		mk := modifierKeys[m]
		mods |= mk.bit
		events = append(events, input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeRawKeyDown, Modifiers: mods, Key: m, Code: mk.code, WindowsVirtualKeyCode: mk.keyCode, NativeVirtualKeyCode: mk.keyCode})
	}
	// A shortcut (Control+A, Meta+K) is the key's lower case with the
	// modifier: that is what a keyboard sends, and what Chrome's editing
	// commands (select all) are bound to.
	shortcut := mods&^modifierKeys["Shift"].bit != 0
	if shortcut && unicode.IsUpper(r) {
		if lv, ok := kb.Keys[unicode.ToLower(r)]; ok {
			v = lv
		}
	}
	down := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyDown, Modifiers: mods}
	if v != nil {
		down.Key, down.Code, down.WindowsVirtualKeyCode, down.NativeVirtualKeyCode = v.Key, v.Code, v.Windows, v.Native
		if v.Shift && len(k.Modifiers) == 0 {
			down.Modifiers |= modifierKeys["Shift"].bit
		}
		if v.Print && !shortcut {
			down.Text, down.UnmodifiedText = v.Text, v.Unmodified
		}
	} else {
		down.Key = string(r)
	}
	if down.Text == "" {
		down.Type = input.DispatchKeyEventTypeRawKeyDown // a key without text: no keypress
	}
	up := down
	up.Type, up.Text, up.UnmodifiedText = input.DispatchKeyEventTypeKeyUp, "", ""
	events = append(events, down, up)
	for i := len(k.Modifiers) - 1; i >= 0; i-- {
		mk := modifierKeys[k.Modifiers[i]]
		mods &^= mk.bit
		events = append(events, input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyUp, Modifiers: mods, Key: k.Modifiers[i], Code: mk.code, WindowsVirtualKeyCode: mk.keyCode, NativeVirtualKeyCode: mk.keyCode})
	}
	// One stroke's events go out together, as a keyboard sends them; the
	// next stroke waits for this one's answers, so a page's handlers have
	// run for each character before the next arrives.
	cmds := make([]browser.Command, 0, len(events))
	for _, ev := range events {
		cmds = append(cmds, browser.Command{Method: input.CommandDispatchKeyEvent, Params: ev})
	}
	sent := time.Now()
	return p.unanswered(ctx, sent, p.inOrder(ctx, cmds...))
}
