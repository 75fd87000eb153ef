package runner

// What the steps read of the page: waits for a state, visibility, text,
// the URL and title, and the value of an eval step.

import (
	"context"

	"github.com/chromedp/cdproto/runtime"

	"github.com/uxprobe/uxprobe/agent/redact"
	"github.com/uxprobe/uxprobe/agent/runner/bridge"
	"github.com/uxprobe/uxprobe/scenarios"
)

// WaitFor implements scenarios.Page.
func (p *tabPage) WaitFor(ctx context.Context, sel scenarios.Selector, state scenarios.WaitState) error {
	_, err := p.wait(ctx, sel, string(state))
	return err
}

// Visible implements scenarios.Page.
func (p *tabPage) Visible(ctx context.Context, sel scenarios.Selector, inViewport bool) (bool, error) {
	cond := "visible"
	if inViewport {
		cond = "in_viewport"
	}
	var r checkResult
	expr := func(s scenarios.Selector) string {
		r = checkResult{}
		return string(bridge.Check(s, cond))
	}
	if _, err := p.callSel(ctx, sel, expr, &r, nil); err != nil {
		return false, err
	}
	if !r.Found {
		return false, scenarios.Fail(scenarios.KindElementNotFound, "no element matches %s", sel)
	}
	return r.OK, nil
}

// Text implements scenarios.Page.
func (p *tabPage) Text(ctx context.Context, sel scenarios.Selector) (string, error) {
	r, err := p.element(ctx, sel, bridge.Text)
	return p.flow.Mask(r.Text), err
}

// URL implements scenarios.Page.
func (p *tabPage) URL(ctx context.Context) (string, error) {
	var s string
	err := p.call(ctx, string(bridge.Location()), &s)
	return p.flow.Mask(s), err
}

// Title implements scenarios.Page.
func (p *tabPage) Title(ctx context.Context) (string, error) {
	var s string
	err := p.call(ctx, string(bridge.Title()), &s)
	return p.flow.Mask(s), err
}

// Eval implements scenarios.Page.
func (p *tabPage) Eval(ctx context.Context, expr string) (bool, string, error) {
	res, err := p.evaluate(ctx, runtime.EvaluateParams{
		Expression:   expr,
		AwaitPromise: ptr(true),
	})
	if err != nil {
		return false, "", p.wrap(ctx, err)
	}
	if res.ExceptionDetails != nil {
		return false, "", scenarios.Fail(scenarios.KindScript, "expression %q threw: %s", expr, bridge.ExceptionText(res.ExceptionDetails))
	}
	truthy, repr := truthiness(res.Result)
	return truthy, scenarios.Clip(p.flow.Mask(repr), redact.ValueLen), nil
}

// KeepValue implements scenarios.ValueKeeper: the value goes in the
// step's result.
func (p *tabPage) KeepValue(v string) { p.value = v }

// takeValue returns the current step's value and forgets it.
func (p *tabPage) takeValue() string {
	v := p.value
	p.value = ""
	return v
}

// truthiness applies JavaScript's rules to a remote value.
func truthiness(o *runtime.RemoteObject) (bool, string) {
	if o == nil {
		return false, "undefined"
	}
	raw := string(o.Value)
	switch o.Type {
	case runtime.RemoteObjectTypeUndefined:
		return false, "undefined"
	case runtime.RemoteObjectTypeBoolean:
		return raw == "true", raw
	case runtime.RemoteObjectTypeNumber:
		if u := string(o.UnserializableValue); u != "" {
			return u != "NaN" && u != "-0", u
		}
		return raw != "0", raw
	case runtime.RemoteObjectTypeString:
		return raw != `""`, raw
	case runtime.RemoteObjectTypeBigint:
		u := string(o.UnserializableValue)
		return u != "0n", u
	case runtime.RemoteObjectTypeObject:
		if o.Subtype == runtime.RemoteObjectSubtypeNull {
			return false, "null"
		}
	}
	return true, o.Description
}
