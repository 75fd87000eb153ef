package scenarios

import (
	"context"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"
)

// Built-in variables: their values are known only when a run starts, so they
// are substituted at run time, in steps and finally steps. A var of the flow
// with the same name wins, so no existing flow changes meaning.
const (
	VarFlow      = "flow"
	VarDevice    = "device"
	VarRunID     = "run_id"
	VarTimestamp = "timestamp"
)

// BuiltinVars lists the built-in variables, for docs and messages.
var BuiltinVars = []string{VarFlow, VarDevice, VarRunID, VarTimestamp}

func (p *parser) runtimeNames() []string {
	out := make([]string, 0, len(p.runtime))
	for k := range p.runtime {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// beginRuntimeVars makes the built-ins usable from here on.
func (p *parser) beginRuntimeVars() {
	if p.runtime == nil {
		p.runtime = map[string]bool{}
	}
	for _, v := range BuiltinVars {
		p.runtime[v] = true
	}
}

// checkPendingSecrets reports the secrets that name neither a var nor an
// extract var, and marks the extract vars that are secret.
func (p *parser) checkPendingSecrets(f *Flow) {
	for _, s := range p.pendingSecrets {
		if f.extractVars[s.Value] {
			if f.secretVars == nil {
				f.secretVars = map[string]bool{}
			}
			f.secretVars[s.Value] = true
			continue
		}
		p.errorf(s, "secret %q is not one of the flow's vars or extract vars; list var names whose values must be masked", clip(s.Value))
	}
}

// Extract reads a value from the page into a variable for the later steps
// of the run: the text of an element, or the string value of an expression,
// optionally through a regular expression whose first group (else whole
// match) is the value.
type Extract struct {
	Var        string
	Selector   *Selector
	Expression string
	Pattern    *regexp.Regexp
}

// Variables is what Extract needs besides Page: somewhere to keep the value
// for the rest of the run. The runner's page implements it.
type Variables interface {
	SetVar(name, value string)
	// EvalString evaluates an expression, awaiting a promise, and returns
	// its value as a string (JSON for objects).
	EvalString(ctx context.Context, expr string) (string, error)
}

func (a Extract) Kind() string { return kindOf(a) }

// Do reads the value, waiting until the element is there (and its text
// matches the pattern), and sets the variable.
func (a Extract) Do(ctx context.Context, p Page) error {
	vs, ok := p.(Variables)
	if !ok {
		return Fail(KindScript, "extract needs a page that keeps variables")
	}
	var seen string
	var scriptErr error
	value, err := eventually(ctx, func() (bool, string, error) {
		var got string
		var err error
		if a.Selector != nil {
			got, err = p.Text(ctx, *a.Selector)
		} else {
			got, err = vs.EvalString(ctx, a.Expression)
		}
		if err != nil {
			if se := AsStepError(err); se != nil && se.Kind == KindScript {
				scriptErr = err // a throwing expression will not stop throwing
				return true, "", nil
			}
			return false, "", err
		}
		seen = got
		if a.Pattern == nil {
			return got != "", got, nil
		}
		m := a.Pattern.FindStringSubmatch(got)
		if m == nil {
			return false, got, nil
		}
		if len(m) > 1 {
			return true, m[1], nil
		}
		return true, m[0], nil
	})
	if scriptErr != nil {
		return scriptErr
	}
	if err != nil {
		from := "expression " + fmt.Sprintf("%q", clip(a.Expression))
		if a.Selector != nil {
			from = a.Selector.String()
		}
		switch {
		case AsStepError(err) != nil:
			return err
		case isTimeout(err) && a.Pattern != nil:
			return Fail(KindAssertion, "extract %s: the text of %s is %q, which does not match %q", a.Var, from, clip(seen), a.Pattern)
		case isTimeout(err):
			return Fail(KindAssertion, "extract %s: %s gave no text", a.Var, from)
		}
		return err
	}
	vs.SetVar(a.Var, value)
	return nil
}

// RunVars are the values of a run's variables that are known only at run
// time. It is safe for concurrent use.
type RunVars struct {
	mu     sync.Mutex
	values map[string]string
	// now and sleep are the clock of ${totp:...}; nil is the real one.
	now   func() time.Time
	sleep func(context.Context, time.Duration) error
}

func (v *RunVars) clock() (func() time.Time, func(context.Context, time.Duration) error) {
	now, sleep := v.now, v.sleep
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = sleepCtx
	}
	return now, sleep
}

// NewRunVars starts a run's variables with the built-ins.
func NewRunVars(builtins map[string]string) *RunVars {
	v := &RunVars{values: map[string]string{}}
	for k, x := range builtins {
		v.values[k] = x
	}
	return v
}

// Set sets a variable.
func (v *RunVars) Set(name, value string) {
	v.mu.Lock()
	v.values[name] = value
	v.mu.Unlock()
}

func (v *RunVars) get(name string) (string, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	x, ok := v.values[name]
	return x, ok
}

// Bind returns the step's action with the run's variables substituted. An
// action without run-time variables is returned as it is. A variable whose
// extract step has not run (it failed, or was skipped on this device) is a
// step error that says so.
func (f *Flow) Bind(st Step, vars *RunVars) (Action, error) {
	return f.BindContext(context.Background(), st, vars)
}

// BindContext is Bind within the step's context, which bounds the wait
// for a fresh one-time code (${totp:NAME}, see totp.go).
func (f *Flow) BindContext(ctx context.Context, st Step, vars *RunVars) (Action, error) {
	if !st.dynamic {
		return st.Action, nil
	}
	var missing string
	var totpErr error
	expand := func(s string) (string, error) {
		if !strings.Contains(s, "${") {
			return s, nil
		}
		out := varRe.ReplaceAllStringFunc(s, func(m string) string {
			name := m[2 : len(m)-1]
			if seedVar, isTOTP := strings.CutPrefix(name, totpPrefix); isTOTP && totpErr == nil {
				code, err := f.totpCode(ctx, seedVar, vars)
				if err != nil {
					totpErr = err
					return m
				}
				return code
			}
			if !f.runtimeVar(name) {
				return m
			}
			if v, ok := vars.get(name); ok {
				return v
			}
			missing = name
			return m
		})
		if totpErr != nil {
			return s, totpErr
		}
		if missing != "" {
			return s, Fail(KindScript, "variable ${%s} has no value: the extract step that sets it did not run", missing)
		}
		return out, nil
	}
	orig := reflect.ValueOf(st.Action)
	cp := reflect.New(orig.Type()).Elem()
	cp.Set(orig)
	if err := bindValue(cp, expand); err != nil {
		return nil, err
	}
	return cp.Interface().(Action), nil
}

func (f *Flow) runtimeVar(name string) bool {
	if _, isVar := f.vars[name]; isVar {
		return false
	}
	return f.extractVars[name] || contains(BuiltinVars, name)
}

// IsSecretVar reports whether an extract var's value must be masked.
func (f *Flow) IsSecretVar(name string) bool { return f.secretVars[name] }

var (
	selectorType  = reflect.TypeOf(Selector{})
	textMatchType = reflect.TypeOf(TextMatch{})
)

// bindValue substitutes variables in every exported string of an action,
// selectors and expectations included, so that a new action gets run-time
// variables without code of its own.
func bindValue(v reflect.Value, expand func(string) (string, error)) error {
	switch {
	case v.Type() == selectorType:
		s, err := expandSelector(v.Interface().(Selector), expand)
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(s))
	case v.Type() == textMatchType:
		m := v.Interface().(TextMatch)
		want, err := expand(m.Want)
		if err != nil {
			return err
		}
		if want != m.Want {
			m.Want = want
			if m.Op == "matches" {
				re, err := regexp.Compile(want)
				if err != nil {
					return Fail(KindAssertion, "matches %q is not a valid regular expression once its variables are substituted: %v", clip(want), err)
				}
				m.re = re
			}
		}
		v.Set(reflect.ValueOf(m))
	case v.Kind() == reflect.String:
		s, err := expand(v.String())
		if err != nil {
			return err
		}
		v.SetString(s)
	case v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().Type() == selectorType:
		cp := reflect.New(selectorType)
		cp.Elem().Set(v.Elem())
		if err := bindValue(cp.Elem(), expand); err != nil {
			return err
		}
		v.Set(cp)
	case v.Kind() == reflect.Map && v.Type().Key().Kind() == reflect.String && v.Type().Elem().Kind() == reflect.String && !v.IsNil():
		cp := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			s, err := expand(it.Value().String())
			if err != nil {
				return err
			}
			cp.SetMapIndex(it.Key(), reflect.ValueOf(s).Convert(v.Type().Elem()))
		}
		v.Set(cp)
	case v.Kind() == reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				if err := bindValue(v.Field(i), expand); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// usesRuntimeVars reports whether a raw value mentions a run-time variable.
func (p *parser) usesRuntimeVars(s string) bool {
	for _, m := range varRe.FindAllStringSubmatch(s, -1) {
		if strings.HasPrefix(m[1], totpPrefix) {
			return true
		}
		if _, isVar := p.vars[m[1]]; !isVar && p.runtime[m[1]] {
			return true
		}
	}
	return false
}

// markDynamic walks a step's value and reports whether any string in it uses
// a run-time variable.
func (p *parser) markDynamic(n *yaml.Node) bool {
	n = p.resolveQuiet(n)
	if n == nil {
		return false
	}
	if n.Kind == yaml.ScalarNode {
		return p.usesRuntimeVars(n.Value)
	}
	for _, c := range n.Content {
		if p.markDynamic(c) {
			return true
		}
	}
	return false
}

// resolveQuiet follows aliases without counting the budget: the node was
// already counted when it was decoded.
func (p *parser) resolveQuiet(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

var extractSpec = actionSpec{
	name: "extract", doc: "Read a value from the page into a variable for the later steps of the run: the text of selector, or the value of eval; pattern's first group (else its whole match) is the value.",
	params: []param{
		{name: "var", typ: typeVarName, required: true, doc: "the variable's name, used as ${name} in later steps"},
		{name: "selector", typ: typeSelector, doc: "read this element's visible text (an input's value)"},
		{name: "eval", typ: typeString, doc: "read the value of this JavaScript expression"},
		{name: "pattern", typ: typeRegexp, doc: "keep the first group (else the whole match) of this Go regular expression; the step waits until the text matches"},
	},
	oneOf: []string{"selector", "eval"},
	zero:  Extract{},
	build: func(a args) Action {
		e := Extract{Var: a.str("var"), Expression: a.str("eval")}
		if s, ok := a["selector"].(Selector); ok {
			e.Selector = &s
		}
		if re, ok := a["pattern"].(*regexp.Regexp); ok {
			e.Pattern = re
		}
		return e
	},
}

// runSecrets are the secret values a run extracted from its pages.
type runSecrets struct {
	mu     sync.Mutex
	values []string
}

// ForRun returns a copy of the flow for one run, whose Mask also masks the
// secret values that run extracts (see AddSecretValue).
func (f *Flow) ForRun() *Flow {
	c := *f
	c.run = &runSecrets{}
	return &c
}

// AddSecretValue masks v in everything this run's flow masks from now on.
func (f *Flow) AddSecretValue(v string) {
	if f.run == nil || v == "" {
		return
	}
	f.run.mu.Lock()
	f.run.values = append(f.run.values, v)
	f.run.mu.Unlock()
}

// maskValues are the values Mask replaces, longest first, so a secret that
// contains another is masked whole.
func (f *Flow) maskValues() []string {
	if f.run == nil {
		return f.secrets
	}
	f.run.mu.Lock()
	defer f.run.mu.Unlock()
	if len(f.run.values) == 0 {
		return f.secrets
	}
	all := append(append([]string(nil), f.secrets...), f.run.values...)
	sort.Slice(all, func(i, j int) bool { return len(all[i]) > len(all[j]) })
	return all
}
