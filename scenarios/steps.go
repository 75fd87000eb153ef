package scenarios

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

var commonStepKeys = []string{"name", "timeout", "only", "optional"}

func (p *parser) parseSteps(n *yaml.Node, f *Flow) []Step {
	items, ok := p.list(n, "steps", "a list of actions", "a flow needs at least one step")
	if !ok {
		return nil
	}
	return p.parseStepItems(items, f, "")
}

// parseStepItems decodes a list of steps. prefix starts the default names
// ("finally-" for cleanup steps), which are unique across both lists since
// they label the same metrics.
func (p *parser) parseStepItems(items []*yaml.Node, f *Flow, prefix string) []Step {
	p.beginRuntimeVars()
	if p.stepNames == nil {
		p.stepNames = map[string]Position{}
	}
	allowed := append(append([]string{}, commonStepKeys...), ActionNames()...)
	var steps []Step
	names := p.stepNames
	for i, c := range items {
		if p.exhausted(c) {
			return nil
		}
		c = p.resolve(c)
		before := len(p.errs)
		pairs, ok := p.mapping(c, fmt.Sprintf("step %d", i+1), allowed)
		if !ok {
			continue
		}
		badKeys := len(p.errs) > before
		st := Step{Index: i + 1, Timeout: f.StepTimeout, Source: p.pos(c)}
		var actions []keyValue
		for _, kv := range pairs {
			switch kv.key.Value {
			case "name":
				if s, ok := p.str(kv.value, "step name"); ok {
					if strings.TrimSpace(s) == "" || len(s) > MaxNameLength {
						p.errorf(kv.value, "step name must be 1 to %d characters", MaxNameLength)
					}
					// A name becomes a metric label and a file name: a
					// secret substituted into it must not.
					st.Name = f.Mask(s)
				}
			case "timeout":
				if d, ok := p.duration(kv.value, "step timeout"); ok {
					st.Timeout = d
				}
			case "only":
				st.Only = p.parseOnly(kv.value, f)
			case "optional":
				st.Optional, _ = p.boolean(kv.value, "optional")
			default:
				actions = append(actions, kv)
			}
		}
		switch len(actions) {
		case 0:
			if badKeys {
				continue // the unknown key was most likely the action, already reported
			}
			p.errorf(c, "step %d has no action; give one of: %s", i+1, strings.Join(ActionNames(), ", "))
			continue
		case 1:
		default:
			var ks []string
			for _, a := range actions {
				ks = append(ks, a.key.Value)
			}
			p.errorf(actions[1].key, "step %d has %d actions (%s); a step does exactly one thing, so split it into several steps", i+1, len(actions), strings.Join(ks, ", "))
			continue
		}
		spec, _ := lookupAction(actions[0].key.Value)
		a, ok := p.action(spec, actions[0].value, f)
		if !ok {
			continue
		}
		st.Action = a
		st.dynamic = p.markDynamic(actions[0].value)
		if st.Name == "" {
			st.Name = prefix + strconv.Itoa(i+1) + "-" + spec.name
		}
		if prev, dup := names[st.Name]; dup {
			p.errorf(c, "step name %q is already used at %s; step names label metrics, so they must be unique in a flow", st.Name, prev)
			continue
		}
		names[st.Name] = st.Source
		steps = append(steps, st)
	}
	return steps
}

func (p *parser) parseOnly(n *yaml.Node, f *Flow) []string {
	items, _ := p.stringList(n, "only")
	classes := []Device{{Name: string(ClassDesktop), Class: ClassDesktop}, {Name: string(ClassMobile), Class: ClassMobile}, {Name: string(ClassTablet), Class: ClassTablet}}
	valid := []string{string(ClassDesktop), string(ClassMobile), string(ClassTablet)}
	for _, d := range f.Devices {
		valid = append(valid, d.Name)
	}
	var out []string
	for _, it := range items {
		// Any class is allowed, not only those of the flow's devices: a
		// step for tablets stays valid while the flow runs on none.
		match := func(d Device) bool { return d.Matches(it.Value) }
		if !slices.ContainsFunc(f.Devices, match) && !slices.ContainsFunc(classes, match) {
			p.errorf(it, "only: %q is neither a device class (desktop, mobile, tablet) nor a device of this flow%s", clip(it.Value), didYouMean(it.Value, valid))
			continue
		}
		out = append(out, it.Value)
	}
	return out
}

var fileNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// action decodes an action's value by its spec: a scalar sets the spec's
// scalar parameter, a mapping sets named parameters.
func (p *parser) action(spec actionSpec, n *yaml.Node, f *Flow) (Action, bool) {
	n = p.resolve(n)
	a := args{}
	good := true
	switch {
	case spec.bare:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!null" {
			p.errorf(n, "%s takes no value; write it as \"- %s:\"", spec.name, spec.name)
			return nil, false
		}
	case (n.Kind == yaml.ScalarNode && n.Tag != "!!null") || (n.Kind == yaml.SequenceNode && scalarTakesList(spec)):
		if spec.scalar == "" {
			p.errorf(n, "%s takes a mapping {%s}, not a single value", spec.name, paramNames(spec.params))
			return nil, false
		}
		var pm param
		for _, x := range spec.params {
			if x.name == spec.scalar {
				pm = x
			}
		}
		v, ok := p.typed(n, spec, pm, f)
		if !ok {
			return nil, false
		}
		a[pm.name] = v
	case n.Kind == yaml.MappingNode:
		before := len(p.errs)
		pairs, ok := p.mapping(n, spec.name, paramList(spec.params))
		if !ok {
			return nil, false
		}
		// A misspelt key has been reported with a suggestion; saying that
		// the key it meant is missing would only repeat it.
		good = len(p.errs) == before
		for _, kv := range pairs {
			var pm param
			for _, x := range spec.params {
				if x.name == kv.key.Value {
					pm = x
				}
			}
			v, ok := p.typed(kv.value, spec, pm, f)
			if !ok {
				good = false
				continue
			}
			a[pm.name] = v
		}
		for _, pm := range spec.params {
			if _, ok := a[pm.name]; pm.required && !ok && good {
				p.errorf(n, "%s is missing %s; it takes {%s}", spec.name, pm.name, paramNames(spec.params))
				good = false
			}
		}
		if len(spec.oneOf) > 0 && good {
			var given []string
			for _, k := range spec.oneOf {
				if _, ok := a[k]; ok {
					given = append(given, k)
				}
			}
			if len(given) != 1 {
				p.errorf(n, "%s needs exactly one of %s (got %d)", spec.name, strings.Join(spec.oneOf, ", "), len(given))
				good = false
			}
		}
	default:
		form := "a mapping {" + paramNames(spec.params) + "}"
		if spec.scalar != "" {
			form = "a " + spec.scalar + " or " + form
		}
		p.errorf(n, "%s takes %s, not %s", spec.name, form, describeNode(n))
		return nil, false
	}
	if !good {
		return nil, false
	}
	return spec.build(a), true
}

func paramList(ps []param) []string {
	n := make([]string, len(ps))
	for i, x := range ps {
		n[i] = x.name
	}
	return n
}

func paramNames(ps []param) string { return strings.Join(paramList(ps), ", ") }

// typed validates one parameter value by its type.
func (p *parser) typed(n *yaml.Node, spec actionSpec, pm param, f *Flow) (any, bool) {
	what := spec.name + " " + pm.name
	switch pm.typ {
	case typeSelector:
		s, ok := p.str(n, what)
		if !ok {
			return nil, false
		}
		// A run-time variable is judged as a name where it stands; its
		// value is judged when it is bound.
		var checkAs func(string) string
		if p.usesRuntimeVars(s) {
			checkAs = runtimePlaceholder
		}
		sel, err := parseSelectorText(s, checkAs)
		if err != nil {
			p.errorf(n, "%s: %v; write %s", what, err, SelectorForms)
			return nil, false
		}
		return sel, true
	case typeVarName:
		return p.extractVar(n, f)
	case typeMethod:
		return p.method(n, what)
	case typeStatus:
		return p.status(n, what)
	case typeHeaders:
		h := p.parseHeaders(n)
		return h, h != nil
	case typeDuration:
		return p.duration(n, what)
	case typeBool:
		return p.boolean(n, what)
	case typeKey:
		s, ok := p.str(n, what)
		if !ok {
			return nil, false
		}
		k, err := ParseKey(s)
		if err != nil {
			p.errorf(n, "%v", err)
			return nil, false
		}
		return k.String(), true
	case typeState:
		s, ok := p.scalar(n, what)
		if !ok {
			return nil, false
		}
		switch WaitState(s) {
		case StateVisible, StateHidden, StatePresent:
			return s, true
		}
		p.errorf(n, "state %q is not one of visible, hidden, present", clip(s))
		return nil, false
	case typeRegexp:
		s, ok := p.str(n, what)
		if !ok {
			return nil, false
		}
		re, err := regexp.Compile(s)
		if err != nil {
			p.errorf(n, "%s %q is not a valid Go regular expression: %v", what, clip(s), strings.TrimPrefix(err.Error(), "error parsing regexp: "))
			return nil, false
		}
		return re, true
	case typeFileName:
		s, ok := p.str(n, what)
		if !ok {
			return nil, false
		}
		if !fileNameRe.MatchString(s) {
			p.errorf(n, "screenshot name %q must be file-safe: letters, digits, ., _ and -, at most 100 characters", clip(s))
			return nil, false
		}
		if f.Mask(s) != s {
			p.errorf(n, "screenshot name must not contain a secret value")
			return nil, false
		}
		return s, true
	case typeAuditRules:
		return p.auditRules(n, what)
	case typeSelectors:
		return p.selectors(n, what)
	case typeRatio:
		return p.ratio(n, what)
	case typeUploadFiles:
		return p.uploadFiles(n, what)
	case typeNetworkState:
		return p.networkState(n, what)
	case typeImpact:
		return p.minImpact(n, what)
	default:
		return p.str(n, what)
	}
}

// scalarTakesList reports whether the action's direct value may be a list,
// as `audit: [tap-target-size, text-size]`.
func scalarTakesList(spec actionSpec) bool {
	for _, pm := range spec.params {
		if pm.name == spec.scalar {
			return pm.typ == typeAuditRules
		}
	}
	return false
}
