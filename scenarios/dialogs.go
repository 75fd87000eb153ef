package scenarios

import (
	"context"
	"strings"

	"gopkg.in/yaml.v3"
)

// DialogPolicy is what a run does when the page opens an alert, confirm,
// prompt or beforeunload dialog. No policy leaves a dialog open: an open
// dialog blocks the page, and the step would hang until its timeout.
type DialogPolicy string

// The dialog policies.
const (
	// DialogAccept clicks OK, as a user going on with the task does; a
	// prompt gets its default text.
	DialogAccept DialogPolicy = "accept"
	// DialogDismiss clicks Cancel.
	DialogDismiss DialogPolicy = "dismiss"
	// DialogFail dismisses the dialog and fails the step with kind dialog:
	// for flows where any dialog means something is wrong.
	DialogFail DialogPolicy = "fail"
)

// DialogPolicies lists the policies, the default first.
var DialogPolicies = []string{string(DialogAccept), string(DialogDismiss), string(DialogFail)}

// KindDialog is the error kind of a step during which a dialog opened under
// the fail policy.
const KindDialog ErrorKind = "dialog"

func decodeDialogs(p *parser, v *yaml.Node, f *Flow) {
	if s, ok := p.scalar(v, "dialogs"); ok {
		if !contains(DialogPolicies, s) {
			p.errorf(v, "dialogs %q is not one of %s%s", clip(s), strings.Join(DialogPolicies, ", "), didYouMean(s, DialogPolicies))
			return
		}
		f.Dialogs = DialogPolicy(s)
	}
}

// parseFinally decodes the cleanup steps.
func (p *parser) parseFinally(n *yaml.Node, f *Flow) []Step {
	items, ok := p.list(n, "finally", "a list of actions", "leave finally out when there is nothing to clean up")
	if !ok {
		return nil
	}
	return p.parseStepItems(items, f, "finally-")
}

// extractVar checks the name an extract step sets, and makes it usable in
// the steps after it.
func (p *parser) extractVar(n *yaml.Node, f *Flow) (any, bool) {
	s, ok := p.scalar(n, "extract var")
	if !ok {
		return nil, false
	}
	switch {
	case !varNameRe.MatchString(s):
		p.errorf(n, "extract var %q must be letters, digits and _, starting with a letter or _", clip(s))
		return nil, false
	case hasKey(p.vars, s):
		p.errorf(n, "extract var %q is already a var of the flow; give the extracted value a name of its own", clip(s))
		return nil, false
	case contains(BuiltinVars, s):
		p.errorf(n, "extract var %q is a built-in variable (%s); give the extracted value a name of its own", clip(s), strings.Join(BuiltinVars, ", "))
		return nil, false
	}
	if f.extractVars == nil {
		f.extractVars = map[string]bool{}
	}
	f.extractVars[s] = true
	p.runtime[s] = true
	return s, true
}

func hasKey(m map[string]string, k string) bool { _, ok := m[k]; return ok }

// TabCloser is what close_tab needs besides Page. The runner's page
// implements it.
type TabCloser interface {
	// CloseTab closes the tab a step opened that the flow is in, and goes
	// back to the tab before it.
	CloseTab(ctx context.Context) error
}

// CloseTab closes the current tab, which a step opened, and returns to the
// one before.
type CloseTab struct{}

func (a CloseTab) Kind() string { return kindOf(a) }

// Do closes the tab.
func (CloseTab) Do(ctx context.Context, p Page) error {
	tc, ok := p.(TabCloser)
	if !ok {
		return Fail(KindScript, "close_tab needs a page with tabs")
	}
	return tc.CloseTab(ctx)
}

var closeTabSpec = actionSpec{
	name: "close_tab", doc: "Close the tab that a step opened (a target=_blank link, window.open) and go back to the tab before it.",
	bare:  true,
	zero:  CloseTab{},
	build: func(args) Action { return CloseTab{} },
}
