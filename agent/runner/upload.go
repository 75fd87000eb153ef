package runner

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/runtime"

	"github.com/uxprobe/uxprobe/agent/runner/bridge"
	"github.com/uxprobe/uxprobe/scenarios"
)

var _ scenarios.FileInput = (*tabPage)(nil)

// SetFiles implements scenarios.FileInput with DOM.setFileInputFiles,
// which Chrome treats as a pick in the file chooser: the input's files
// are replaced and the page gets input and change. The input need only be
// present: file inputs are often hidden behind a styled label.
func (p *tabPage) SetFiles(ctx context.Context, sel scenarios.Selector, paths []string) error {
	if _, err := p.wait(ctx, sel, "present"); err != nil {
		return err
	}
	res, err := p.evaluate(ctx, runtime.EvaluateParams{Expression: string(bridge.First(sel))})
	if err != nil {
		return p.wrap(ctx, err)
	}
	if res.ExceptionDetails != nil {
		return scenarios.Fail(scenarios.KindScript, "%s", bridge.ExceptionText(res.ExceptionDetails))
	}
	if res.Result == nil || res.Result.ObjectID == "" {
		return scenarios.Fail(scenarios.KindElementNotFound, "no element matches %s", sel)
	}
	obj := res.Result.ObjectID
	defer func() {
		_, _ = cdp.Call(ctx, p.t, runtime.ReleaseObject, runtime.ReleaseObjectParams{ObjectID: obj}) // best effort: the document frees it anyway
	}()
	kind, err := cdp.Call(ctx, p.t, runtime.CallFunctionOn, runtime.CallFunctionOnParams{ObjectID: obj, ReturnByValue: ptr(true),
		FunctionDeclaration: `function() { return this instanceof HTMLInputElement && this.type === 'file' ? (this.multiple ? 'multiple' : 'single') : '<' + this.localName + (this.type ? ' type=' + this.type : '') + '>'; }`})
	if err != nil {
		return p.wrap(ctx, err)
	}
	var what string
	if kind.Result != nil {
		_ = json.Unmarshal([]byte(kind.Result.Value), &what) // "" reads as not a file input
	}
	switch {
	case what != "single" && what != "multiple":
		return scenarios.Fail(scenarios.KindAssertion, "%s is %s, not a file input (<input type=file>)", sel, what)
	case what == "single" && len(paths) > 1:
		return scenarios.Fail(scenarios.KindAssertion, "%s takes one file (it has no multiple attribute), not %d", sel, len(paths))
	}
	if _, err := cdp.Call(ctx, p.t, dom.SetFileInputFiles, dom.SetFileInputFilesParams{Files: paths, ObjectID: obj}); err != nil {
		if ctx.Err() == nil && !p.events.isCrashed() {
			return scenarios.Fail(scenarios.KindScript, "setting the files on %s: %v", sel, err)
		}
		return p.wrap(ctx, fmt.Errorf("setting files: %w", err))
	}
	return nil
}
