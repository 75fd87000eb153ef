package scenarios

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// parser decodes one flow document, collecting every error with its place.
type parser struct {
	file   string
	opts   LoadOptions
	flow_  string
	errs   ErrorList
	vars   map[string]string
	budget int // nodes left to visit; aliases can otherwise blow up a walk
	// overBudget is set once the budget error has been reported.
	overBudget bool

	// runtime are the names a step may use that get their value during a
	// run (built-ins and extract vars): they stay as ${name} at load time.
	runtime map[string]bool
	// inVars is set while a var's own value is expanded (env only).
	inVars bool
	// pendingSecrets are secrets that name no var; they must name an
	// extract var, which is known only after the steps.
	pendingSecrets []*yaml.Node
	// stepNames are the names of steps and finally steps so far.
	stepNames map[string]Position
	// envValues are the values read with ${env:NAME}, masked in the
	// flow's load errors (see maskErrors).
	envValues []string
	// secretNames are the vars listed in secrets; totpSecrets are the
	// base32 seeds of ${totp:NAME} vars, masked on their own too.
	secretNames map[string]bool
	totpSecrets []string
}

const nodeBudget = 100000

func (p *parser) pos(n *yaml.Node) Position {
	return Position{File: p.file, Line: n.Line, Column: n.Column}
}

// maxErrors is how many errors one flow reports. Nobody reads more, and a
// file that repeats one mistake through aliases could otherwise produce
// millions of them.
const maxErrors = 100

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	if len(p.errs) >= maxErrors {
		return
	}
	p.errs = append(p.errs, &Error{Pos: p.pos(n), Flow: p.flow_, Msg: fmt.Sprintf(format, args...)})
	if len(p.errs) == maxErrors {
		p.errs = append(p.errs, &Error{Pos: p.pos(n), Flow: p.flow_, Msg: fmt.Sprintf("too many errors (%d); stopped checking this flow here", maxErrors)})
		// Stop the walk too: what is left would only be more errors.
		p.budget, p.overBudget = -1, true
	}
}

// resolve follows aliases and counts the node against the budget. The node
// it returns carries the position of the alias, not of the anchor, so that a
// message about a value points where the value is used.
func (p *parser) resolve(n *yaml.Node) *yaml.Node {
	p.budget--
	if n == nil || n.Kind != yaml.AliasNode {
		return n
	}
	at := n
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil {
		return at
	}
	cp := *n
	cp.Line, cp.Column = at.Line, at.Column
	return &cp
}

// exhausted reports whether the node budget is spent, and reports that once.
// Every loop over the items of a node checks it: aliases let a small file
// name the same large list many times, and without the check a list of
// aliases to devices or keys costs the product of their sizes.
func (p *parser) exhausted(n *yaml.Node) bool {
	if p.budget >= 0 {
		return false
	}
	if !p.overBudget {
		p.overBudget = true
		p.errorf(n, "the flow is too large or repeats aliases too often (more than %d values); write it out more simply", nodeBudget)
	}
	return true
}

type keyValue struct {
	key, value *yaml.Node
}

// mapping returns the pairs of a mapping node, reporting duplicate keys, merge
// keys and keys outside allowed (with a suggestion).
func (p *parser) mapping(n *yaml.Node, what string, allowed []string) ([]keyValue, bool) {
	n = p.resolve(n)
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s must be a mapping of keys (%s), not %s", what, strings.Join(allowed, ", "), describeNode(n))
		return nil, false
	}
	var out []keyValue
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if p.exhausted(n) {
			return out, false
		}
		k, v := p.resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.errorf(k, "%s has a key that is not a plain name", what)
			continue
		}
		if k.Tag == "!!merge" {
			p.errorf(k, "merge keys (<<) are not supported in flow files; write the keys out")
			continue
		}
		if seen[k.Value] {
			p.errorf(k, "key %q appears twice in %s", k.Value, what)
			continue
		}
		seen[k.Value] = true
		if allowed != nil && !contains(allowed, k.Value) {
			p.errorf(k, "unknown key %q in %s%s; allowed keys: %s", k.Value, what, didYouMean(k.Value, allowed), strings.Join(allowed, ", "))
			continue
		}
		out = append(out, keyValue{k, v})
	}
	return out, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "empty"
		}
		return fmt.Sprintf("%q", clip(n.Value))
	default:
		return "something else"
	}
}

// scalar returns the raw text of a scalar value, or reports the wrong type.
func (p *parser) scalar(n *yaml.Node, what string) (string, bool) {
	n = p.resolve(n)
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errorf(n, "%s must be a single value, not %s", what, describeNode(n))
		return "", false
	}
	return n.Value, true
}

var (
	varRe     = regexp.MustCompile(`\$\{([^}]*)\}`)
	varNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// expand substitutes ${name} and ${env:NAME} in a string value. Variables are
// expanded after parsing and in values only, so a `$` in a value can never
// change the structure of the YAML.
func (p *parser) expand(n *yaml.Node, s string) (string, bool) {
	ok := true
	out := varRe.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-1]
		if env, isEnv := strings.CutPrefix(name, "env:"); isEnv {
			v, set := p.opts.LookupEnv(env)
			if !set {
				p.errorf(n, "environment variable %s is not set (used as ${env:%s})", env, env)
				ok = false
			}
			p.envValues = append(p.envValues, v)
			return v
		}
		if seedVar, isTOTP := strings.CutPrefix(name, totpPrefix); isTOTP {
			p.checkTOTP(n, seedVar) // totp.go; the code is computed at run time
			return m
		}
		v, defined := p.vars[name]
		if !defined && p.runtime[name] {
			return m
		}
		if !defined && p.inVars {
			p.errorf(n, "%s", varsOnlyEnvMessage(name))
			ok = false
			return v
		}
		if !defined {
			names := make([]string, 0, len(p.vars))
			for k := range p.vars {
				names = append(names, k)
			}
			sort.Strings(names)
			hint := "no vars are defined"
			if len(names) > 0 {
				hint = "defined vars: " + strings.Join(names, ", ")
			}
			p.errorf(n, "undefined variable ${%s}%s; %s", name, didYouMean(name, append(names, p.runtimeNames()...)), hint)
			ok = false
		}
		return v
	})
	return out, ok
}

// str reads a scalar and expands variables in it.
func (p *parser) str(n *yaml.Node, what string) (string, bool) {
	s, ok := p.scalar(n, what)
	if !ok {
		return "", false
	}
	return p.expand(n, s)
}

func (p *parser) duration(n *yaml.Node, what string) (time.Duration, bool) {
	s, ok := p.scalar(n, what)
	if !ok {
		return 0, false
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		p.errorf(n, "%s %q is not a positive duration; write it like 500ms, 10s or 2m", what, clip(s))
		return 0, false
	}
	return d, true
}

func (p *parser) boolean(n *yaml.Node, what string) (bool, bool) {
	s, ok := p.scalar(n, what)
	if !ok {
		return false, false
	}
	switch p.resolve(n).Tag {
	case "!!bool":
		b, _ := strconv.ParseBool(strings.ToLower(s))
		return b, true
	}
	if strings.EqualFold(s, "true") || strings.EqualFold(s, "false") {
		p.errorf(n, "%s must be true or false without quotes, not %q", what, clip(s))
		return false, false
	}
	p.errorf(n, "%s must be true or false, not %q", what, clip(s))
	return false, false
}

func (p *parser) stringList(n *yaml.Node, what string) ([]*yaml.Node, bool) {
	n = p.resolve(n)
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			break
		}
		return []*yaml.Node{n}, true
	case yaml.SequenceNode:
		var out []*yaml.Node
		for _, c := range n.Content {
			if p.exhausted(n) {
				return out, false
			}
			c = p.resolve(c)
			if c.Kind != yaml.ScalarNode || c.Tag == "!!null" {
				p.errorf(c, "%s must list names, not %s", what, describeNode(c))
				continue
			}
			out = append(out, c)
		}
		return out, true
	}
	p.errorf(n, "%s must be a name or a list of names, not %s", what, describeNode(n))
	return nil, false
}

func (p *parser) expandEnvOnly(n *yaml.Node, s string) (string, bool) {
	saved := p.vars
	p.vars = map[string]string{}
	p.inVars = true
	defer func() { p.vars, p.inVars = saved, false }()
	return p.expand(n, s)
}

// varsOnlyEnvMessage says why a var's value cannot use ${name}: a built-in
// has its value only when a run starts, long after vars are read, and vars
// read the environment only, so that their order never matters.
func varsOnlyEnvMessage(name string) string {
	if contains(BuiltinVars, name) {
		return fmt.Sprintf("${%s} is a run-time value: the built-ins (%s) get their values when a run starts, after vars are read, so a var cannot hold one; use ${%s} in the steps themselves", name, strings.Join(BuiltinVars, ", "), name)
	}
	return fmt.Sprintf("a var's value may read the environment (${env:NAME}) but not ${%s}; vars are not built from other vars, so use ${%s} in the steps themselves", name, name)
}

// list returns the items of a non-empty sequence, or reports what it is
// instead: "<what> must be <form>, not ..." or "<what> is empty; <ifEmpty>".
func (p *parser) list(n *yaml.Node, what, form, ifEmpty string) ([]*yaml.Node, bool) {
	n = p.resolve(n)
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "%s must be %s, not %s", what, form, describeNode(n))
		return nil, false
	}
	if len(n.Content) == 0 {
		p.errorf(n, "%s is empty; %s", what, ifEmpty)
		return nil, false
	}
	return n.Content, true
}
