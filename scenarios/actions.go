package scenarios

import (
	"context"
	"errors"
	"reflect"
	"regexp"
	"slices"
	"time"
	"unicode/utf8"
)

// Action is one typed step action. Its Do holds the action's semantics,
// written against Page.
type Action interface {
	// Kind is the action's key in a flow file, such as "click".
	Kind() string
	Do(ctx context.Context, p Page) error
}

// paramType is the type of an action parameter, which decides how it is
// validated and how the JSON Schema describes it.
type paramType int

const (
	typeString paramType = iota
	typeSelector
	typeDuration
	typeBool
	typeKey
	typeState
	typeRegexp
	typeFileName
	// typeAuditRules is `all` or a list of audit rule names; it may be
	// given as the action's value directly, list included.
	typeAuditRules
	typeVarName
	typeMethod
	typeStatus
	typeHeaders
	// typeImpact is an axe impact level; the audit step carries it in its
	// rule list (see SplitAuditRules).
	typeImpact
	// typeSelectors is a list of selectors (a single one may stand alone).
	typeSelectors
	// typeRatio is a share, a number from 0 to 1.
	typeRatio
	// typeUploadFiles is a path or a list of paths, relative to the flow
	// file, of files that exist (upload.go).
	typeUploadFiles
	// typeNetworkState is offline or online (network_step.go).
	typeNetworkState
)

type param struct {
	name     string
	typ      paramType
	required bool
	doc      string
}

// actionSpec describes one step action: the one place that says its name,
// the shapes its value may take, and how to build the typed action. The
// loader, the JSON Schema and the README reference derive from this table.
type actionSpec struct {
	name string
	doc  string
	// scalar is the parameter a plain scalar value sets; "" when the action
	// only takes a mapping.
	scalar string
	// params of the mapping form; nil when the action only takes a scalar.
	params []param
	// bare actions take no value: "- close_tab:".
	bare bool
	// oneOf lists parameters of which exactly one must be given.
	oneOf []string
	// zero is the action's type, as a zero value: Kind finds an action's
	// name through it, so the name is written only here.
	zero  Action
	build func(args) Action
}

// args are the validated, typed parameters of one action.
type args map[string]any

func (a args) str(name string) string { s, _ := a[name].(string); return s }
func (a args) sel(name string) Selector {
	s, _ := a[name].(Selector)
	return s
}

func (a args) match() TextMatch {
	for _, op := range []string{"contains", "equals", "matches"} {
		if v, ok := a[op]; ok {
			if re, ok := v.(*regexp.Regexp); ok {
				return TextMatch{Op: op, Want: re.String(), re: re}
			}
			return TextMatch{Op: op, Want: v.(string)}
		}
	}
	return TextMatch{}
}

var matchParams = []param{
	{name: "contains", typ: typeString, doc: "the text contains this string"},
	{name: "equals", typ: typeString, doc: "the text is exactly this string"},
	{name: "matches", typ: typeRegexp, doc: "the text matches this Go regular expression"},
}

var actionSpecs = []actionSpec{
	{
		name: "goto", doc: "Open a URL and wait for its load event.",
		scalar: "url", params: []param{{name: "url", typ: typeString, required: true}},
		zero:  Goto{},
		build: func(a args) Action { return Goto{URL: a.str("url")} },
	},
	{
		name: "click", doc: "Click an element; a navigation it starts is waited for.",
		scalar: "selector", params: []param{{name: "selector", typ: typeSelector, required: true}},
		zero:  Click{},
		build: func(a args) Action { return Click{Selector: a.sel("selector")} },
	},
	{
		name: "dblclick", doc: "Double-click an element with the mouse; a navigation it starts is waited for.",
		scalar: "selector", params: []param{{name: "selector", typ: typeSelector, required: true}},
		zero:  Dblclick{},
		build: func(a args) Action { return Dblclick{Selector: a.sel("selector")} },
	},
	{
		name: "hover", doc: "Move the mouse over an element.",
		scalar: "selector", params: []param{{name: "selector", typ: typeSelector, required: true}},
		zero:  Hover{},
		build: func(a args) Action { return Hover{Selector: a.sel("selector")} },
	},
	{
		name: "drag", doc: "Drag an element onto another with the mouse: HTML5 drag and drop, and sortable lists that follow the pointer.",
		params: []param{{name: "from", typ: typeSelector, required: true}, {name: "to", typ: typeSelector, required: true}},
		zero:   Drag{},
		build:  func(a args) Action { return Drag{From: a.sel("from"), To: a.sel("to")} },
	},
	{
		name: "scroll_to", doc: "Scroll an element into view.",
		scalar: "selector", params: []param{{name: "selector", typ: typeSelector, required: true}},
		zero:  ScrollTo{},
		build: func(a args) Action { return ScrollTo{Selector: a.sel("selector")} },
	},
	{
		name: "fill", doc: "Clear a field, then type a value key by key.",
		params: []param{{name: "selector", typ: typeSelector, required: true}, {name: "value", typ: typeString, required: true},
			{name: "insert", typ: typeBool, doc: "put the value in as one input event, without key events: faster for long values in fields that need no keys; default false"}},
		zero: Fill{},
		build: func(a args) Action {
			insert, _ := a["insert"].(bool)
			return Fill{Selector: a.sel("selector"), Value: a.str("value"), Insert: insert}
		},
	},
	{
		name: "type", doc: "Type text key by key into the focused element, or into a selector's: code editors and contenteditable.",
		scalar: "text", params: []param{{name: "selector", typ: typeSelector}, {name: "text", typ: typeString, required: true}},
		zero: Type{},
		build: func(a args) Action {
			t := Type{Text: a.str("text")}
			if s, ok := a["selector"].(Selector); ok {
				t.Selector = &s
			}
			return t
		},
	},
	{
		name: "select", doc: "Choose an option of a <select> by value or label.",
		params: []param{{name: "selector", typ: typeSelector, required: true}, {name: "value", typ: typeString, required: true}},
		zero:   Select{},
		build:  func(a args) Action { return Select{Selector: a.sel("selector"), Value: a.str("value")} },
	},
	{
		name: "press", doc: "Press a key, with modifiers such as Control+A, on the focused element or on a selector.",
		scalar: "key", params: []param{{name: "selector", typ: typeSelector}, {name: "key", typ: typeKey, required: true}},
		zero: Press{},
		build: func(a args) Action {
			p := Press{Key: a.str("key")}
			if s, ok := a["selector"].(Selector); ok {
				p.Selector = &s
			}
			return p
		},
	},
	{
		name: "wait_for", doc: "Wait until an element is visible (default), hidden or present.",
		scalar: "selector", params: []param{{name: "selector", typ: typeSelector, required: true}, {name: "state", typ: typeState}},
		zero: WaitFor{},
		build: func(a args) Action {
			st := WaitState(a.str("state"))
			if st == "" {
				st = StateVisible
			}
			return WaitFor{Selector: a.sel("selector"), State: st}
		},
	},
	{
		name: "sleep", doc: "Pause for a duration.",
		scalar: "duration", params: []param{{name: "duration", typ: typeDuration, required: true}},
		zero:  Sleep{},
		build: func(a args) Action { return Sleep{Duration: a["duration"].(time.Duration)} },
	},
	{
		name: "assert_visible", doc: "Assert that an element is visible, optionally without scrolling.",
		scalar: "selector", params: []param{{name: "selector", typ: typeSelector, required: true}, {name: "in_viewport", typ: typeBool}},
		zero: AssertVisible{},
		build: func(a args) Action {
			iv, _ := a["in_viewport"].(bool)
			return AssertVisible{Selector: a.sel("selector"), InViewport: iv}
		},
	},
	{
		name: "assert_text", doc: "Assert the visible text of an element.",
		params: append([]param{{name: "selector", typ: typeSelector, required: true}}, matchParams...),
		oneOf:  []string{"contains", "equals", "matches"},
		zero:   AssertText{},
		build:  func(a args) Action { return AssertText{Selector: a.sel("selector"), Match: a.match()} },
	},
	{
		name: "assert_url", doc: "Assert the page URL (a plain string means contains).",
		scalar: "contains", params: matchParams, oneOf: []string{"contains", "equals", "matches"},
		zero:  AssertURL{},
		build: func(a args) Action { return AssertURL{Match: a.match()} },
	},
	{
		name: "assert_title", doc: "Assert the page title (a plain string means contains).",
		scalar: "contains", params: matchParams, oneOf: []string{"contains", "equals", "matches"},
		zero:  AssertTitle{},
		build: func(a args) Action { return AssertTitle{Match: a.match()} },
	},
	{
		name: "eval", doc: "Evaluate JavaScript; fails if it throws or is falsy.",
		scalar: "expression", params: []param{{name: "expression", typ: typeString, required: true}},
		zero:  Eval{},
		build: func(a args) Action { return Eval{Expression: a.str("expression")} },
	},
	{
		name: "audit", doc: "Audit the page for mobile UX defects and accessibility barriers with all or the listed rules; with fail: true a finding fails the step.",
		scalar: "rules", params: []param{
			{name: "rules", typ: typeAuditRules, required: true, doc: "all, or a list of audit rules"},
			{name: "fail", typ: typeBool, doc: "any finding fails the step with kind audit; default false: findings are recorded and the flow goes on"},
			{name: "min_impact", typ: typeImpact, doc: "leave out axe violations below this impact: minor (default, every violation), moderate, serious or critical"},
		},
		zero: Audit{},
		build: func(a args) Action {
			fail, _ := a["fail"].(bool)
			rules, _ := a["rules"].([]string)
			if mi, _ := a["min_impact"].(string); mi != "" {
				rules = append(slices.Clip(rules), mi)
			}
			return Audit{Rules: rules, Fail: fail}
		},
	},
	{
		name: "screenshot", doc: "Save a screenshot under a file-safe name.",
		scalar: "name", params: []param{{name: "name", typ: typeFileName, required: true}},
		zero:  Screenshot{},
		build: func(a args) Action { return Screenshot{Name: a.str("name")} },
	},
	assertScreenshotSpec,
	extractSpec,
	closeTabSpec,
	requestSpec,
	uploadSpec,
	networkStepSpec,
}

// ActionNames lists the step actions in the order of the reference.
func ActionNames() []string {
	names := make([]string, len(actionSpecs))
	for i, s := range actionSpecs {
		names[i] = s.name
	}
	return names
}

// FlowKeys lists the top-level keys of a flow, and StepKeys the keys every
// step may have besides its action, for documentation checks.
func FlowKeys() []string { return append([]string(nil), flowKeys...) }

// StepKeys lists the common keys of a step.
func StepKeys() []string { return append([]string(nil), commonStepKeys...) }

// actionKinds maps each action's type to its name, from actionSpecs.
var actionKinds = func() map[reflect.Type]string {
	m := map[reflect.Type]string{}
	for _, s := range actionSpecs {
		m[reflect.TypeOf(s.zero)] = s.name
	}
	return m
}()

// kindOf is the Kind of every action: its name in actionSpecs.
func kindOf(a Action) string { return actionKinds[reflect.TypeOf(a)] }

func lookupAction(name string) (actionSpec, bool) {
	for _, s := range actionSpecs {
		if s.name == name {
			return s, true
		}
	}
	return actionSpec{}, false
}

// pollInterval is how often assertions look again while they wait for the
// page to reach the expected state; pages render asynchronously, so an
// assertion that checked once would be flaky.
const pollInterval = 50 * time.Millisecond

// eventually calls check until it succeeds or ctx ends; then it returns the
// last observation for the failure message.
func eventually(ctx context.Context, check func() (bool, string, error)) (string, error) {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	var seen string   // the last thing the page showed, for the failure message
	var stepErr error // the last step error, such as a missing element
	for {
		ok, got, err := check()
		switch {
		case ok:
			return got, nil
		case err == nil:
			seen, stepErr = got, nil
		case AsStepError(err) != nil:
			stepErr = err
		case ctx.Err() == nil:
			return seen, err
		}
		select {
		case <-ctx.Done():
			// A check cut off by the deadline says nothing; what the page
			// showed before it is the answer.
			if stepErr != nil {
				return seen, stepErr
			}
			return seen, ctx.Err()
		case <-t.C:
		}
	}
}

// Goto opens a URL.
type Goto struct{ URL string }

func (a Goto) Kind() string                         { return kindOf(a) }
func (a Goto) Do(ctx context.Context, p Page) error { return p.Navigate(ctx, a.URL) }

// Hover moves the mouse over an element.
type Hover struct{ Selector Selector }

func (a Hover) Kind() string { return kindOf(a) }
func (a Hover) Do(ctx context.Context, p Page) error {
	at, err := p.Locate(ctx, a.Selector)
	if err != nil {
		return err
	}
	return p.Pointer(ctx, PointerMove, at.Point)
}

// WaitFor waits for an element state.
type WaitFor struct {
	Selector Selector
	State    WaitState
}

func (a WaitFor) Kind() string                         { return kindOf(a) }
func (a WaitFor) Do(ctx context.Context, p Page) error { return p.WaitFor(ctx, a.Selector, a.State) }

// Sleep pauses.
type Sleep struct{ Duration time.Duration }

func (a Sleep) Kind() string { return kindOf(a) }
func (a Sleep) Do(ctx context.Context, _ Page) error {
	t := time.NewTimer(a.Duration)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// AssertVisible asserts that an element is visible.
type AssertVisible struct {
	Selector   Selector
	InViewport bool
}

func (a AssertVisible) Kind() string { return kindOf(a) }
func (a AssertVisible) Do(ctx context.Context, p Page) error {
	_, err := eventually(ctx, func() (bool, string, error) {
		ok, err := p.Visible(ctx, a.Selector, a.InViewport)
		return ok, "", err
	})
	where := "visible"
	if a.InViewport {
		where = "visible in the viewport without scrolling"
	}
	se := AsStepError(err)
	switch {
	case err == nil:
		return nil
	case se != nil && se.Kind == KindElementNotFound:
		return Fail(KindAssertion, "expected %s to be %s: no element matches", a.Selector, where)
	case isTimeout(err):
		return Fail(KindAssertion, "expected %s to be %s, but it is not", a.Selector, where)
	default:
		return err
	}
}

// AssertText asserts the text of an element.
type AssertText struct {
	Selector Selector
	Match    TextMatch
}

func (a AssertText) Kind() string { return kindOf(a) }
func (a AssertText) Do(ctx context.Context, p Page) error {
	seen, err := eventually(ctx, func() (bool, string, error) {
		got, err := p.Text(ctx, a.Selector)
		if err != nil {
			return false, "", err
		}
		return a.Match.Match(got), got, nil
	})
	switch {
	case err == nil:
		return nil
	case AsStepError(err) != nil:
		return err
	case isTimeout(err):
		return Fail(KindAssertion, "text of %s is %q, expected it to %s", a.Selector, show(ctx, seen), a.Match)
	default:
		return err
	}
}

// AssertURL asserts the page URL.
type AssertURL struct{ Match TextMatch }

func (a AssertURL) Kind() string { return kindOf(a) }
func (a AssertURL) Do(ctx context.Context, p Page) error {
	return assertString(ctx, "URL", p.URL, a.Match)
}

// AssertTitle asserts the page title.
type AssertTitle struct{ Match TextMatch }

func (a AssertTitle) Kind() string { return kindOf(a) }
func (a AssertTitle) Do(ctx context.Context, p Page) error {
	return assertString(ctx, "title", p.Title, a.Match)
}

func assertString(ctx context.Context, what string, get func(context.Context) (string, error), m TextMatch) error {
	seen, err := eventually(ctx, func() (bool, string, error) {
		got, err := get(ctx)
		if err != nil {
			return false, "", err
		}
		return m.Match(got), got, nil
	})
	if err != nil && isTimeout(err) {
		return Fail(KindAssertion, "page %s is %q, expected it to %s", what, show(ctx, seen), m)
	}
	return err
}

// Eval evaluates JavaScript that must be truthy.
type Eval struct{ Expression string }

func (a Eval) Kind() string { return kindOf(a) }
func (a Eval) Do(ctx context.Context, p Page) error {
	truthy, value, err := p.Eval(ctx, a.Expression)
	if err != nil {
		return err
	}
	if k, ok := p.(ValueKeeper); ok {
		k.KeepValue(value) // for the result, falsy or not
	}
	if !truthy {
		return Fail(KindAssertion, "expression %q returned %s, expected a truthy value", show(ctx, a.Expression), value)
	}
	return nil
}

// ValueKeeper is a page that keeps a step's value for the step's result
// (an eval step's value). The runner's page implements it.
type ValueKeeper interface{ KeepValue(v string) }

// Screenshot saves a screenshot.
type Screenshot struct{ Name string }

func (a Screenshot) Kind() string                         { return kindOf(a) }
func (a Screenshot) Do(ctx context.Context, p Page) error { return p.Screenshot(ctx, a.Name) }

// Audit checks the page against audit rules.
type Audit struct {
	Rules []string // rule names, every rule for `all`
	Fail  bool
}

func (a Audit) Kind() string                         { return kindOf(a) }
func (a Audit) Do(ctx context.Context, p Page) error { return p.Audit(ctx, a.Rules, a.Fail) }

func isTimeout(err error) bool {
	return errors.Is(err, context.DeadlineExceeded)
}

// Clip shortens s to at most max bytes for a message, on a character
// boundary, marking the cut: page text and URLs can be long, and a cut
// through a UTF-8 sequence would make the message invalid text.
func Clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// clip keeps messages readable when a page has long text.
func clip(s string) string { return Clip(s, 200) }

type maskKey struct{}

// WithMask gives the steps run under ctx the flow's mask, so that a step
// message masks what it quotes before clipping it: a secret cut in two by
// the clip would leave its first part in the message, where masking the
// whole message afterwards no longer finds it.
func WithMask(ctx context.Context, mask func(string) string) context.Context {
	return context.WithValue(ctx, maskKey{}, mask)
}

// show renders a quoted string of a step message: masked, then clipped.
func show(ctx context.Context, s string) string {
	if mask, ok := ctx.Value(maskKey{}).(func(string) string); ok {
		s = mask(s)
	}
	return Clip(s, quoteLen)
}

// quoteLen bounds what a step's message quotes (a selector, an
// expression): long enough that the message alone debugs it.
const quoteLen = 1000
