package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"gopkg.in/yaml.v3"
)

// LoadOptions change how flows are read.
type LoadOptions struct {
	// LookupEnv resolves ${env:NAME}; nil means the process environment.
	LookupEnv func(string) (string, bool)
	// Vars override or add flow variables, for example the base URL of the
	// embedded demo shop.
	Vars map[string]string
}

// FileResult is what one flow file gave: its valid flows, or its errors. A
// broken file never hides the flows of the other files.
type FileResult struct {
	Path  string
	Flows []*Flow
	Err   error // an ErrorList, or an I/O error
}

// Load reads flow files and directories (every *.yaml and *.yml below a
// directory). Flow names must be unique across all files; a duplicate is an
// error of the file that repeats it. Load returns an error only when a path
// cannot be read at all.
func Load(paths []string, opts LoadOptions) ([]FileResult, error) {
	files, missing, err := expandPaths(paths)
	if err != nil {
		return nil, err
	}
	// A file named on the command line that is gone is an error of that
	// file: on reload its flows keep running, as for an invalid file.
	var results []FileResult
	for _, m := range missing {
		results = append(results, FileResult{Path: m.path, Err: m.err})
	}
	seen := map[string]Position{}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			results = append(results, FileResult{Path: path, Err: err})
			continue
		}
		flows, err := Parse(path, data, opts)
		var errs ErrorList
		if err != nil {
			errs = err.(ErrorList)
		}
		var kept []*Flow
		for _, f := range flows {
			if prev, dup := seen[f.Name]; dup {
				errs = append(errs, duplicateFlow(f, prev))
				continue
			}
			seen[f.Name] = f.Source
			kept = append(kept, f)
		}
		r := FileResult{Path: path, Flows: kept}
		if len(errs) > 0 {
			// A file with any error contributes no flow: half a file's flows
			// running would be a silent surprise.
			r.Flows = nil
			for _, f := range kept {
				delete(seen, f.Name)
			}
			r.Err = errs.sorted()
		}
		results = append(results, r)
	}
	return results, nil
}

func duplicateFlow(f *Flow, prev Position) *Error {
	return &Error{Pos: f.Source, Flow: f.Name, Msg: "a flow with this name is already defined at " + prev.String() + "; flow names must be unique"}
}

// LoadFS reads flow files from a file system, such as the embedded examples.
// As with Load, flow names must be unique across the files.
func LoadFS(fsys fs.FS, opts LoadOptions) ([]*Flow, error) {
	var flows []*Flow
	var errs ErrorList
	seen := map[string]Position{}
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !isFlowFile(path) {
			return err
		}
		data, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		fl, err := Parse(path, data, opts)
		if err != nil {
			errs = append(errs, err.(ErrorList)...)
		}
		for _, f := range fl {
			if prev, dup := seen[f.Name]; dup {
				errs = append(errs, duplicateFlow(f, prev))
				continue
			}
			seen[f.Name] = f.Source
			flows = append(flows, f)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		return flows, errs
	}
	return flows, nil
}

func isFlowFile(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".yaml" || ext == ".yml"
}

type missingPath struct {
	path string
	err  error
}

func expandPaths(paths []string) ([]string, []missingPath, error) {
	var files []string
	var missing []missingPath
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			missing = append(missing, missingPath{p, fmt.Errorf("cannot read flows: %w", err)})
			continue
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			// Hidden folders hold copies, not flows: Kubernetes mounts a
			// ConfigMap through "..data" and a timestamped "..2024_..." folder,
			// and reading them would load every flow twice.
			if d.IsDir() && path != p && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			if !d.IsDir() && isFlowFile(path) && !strings.HasPrefix(d.Name(), ".") {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("cannot read flows: %w", err)
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, missing, nil
}

// Parse reads the flows of one file. It returns the valid flows and an
// ErrorList with every problem of the invalid ones.
func Parse(file string, data []byte, opts LoadOptions) ([]*Flow, error) {
	if opts.LookupEnv == nil {
		opts.LookupEnv = os.LookupEnv
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var flows []*Flow
	var errs ErrorList
	seen := map[string]Position{} // flow names must be unique within a file too
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			errs = append(errs, syntaxError(file, data, err))
			break
		}
		if len(doc.Content) == 0 || isEmptyDocument(doc.Content[0]) {
			// An empty document, as after a trailing "---" or in a file of
			// comments only: no flow, and no error.
			continue
		}
		p := &parser{file: file, opts: opts}
		f := p.flow(doc.Content[0])
		if len(p.errs) > 0 {
			errs = append(errs, p.errs...)
			continue
		}
		if prev, dup := seen[f.Name]; dup {
			errs = append(errs, duplicateFlow(f, prev))
			continue
		}
		seen[f.Name] = f.Source
		flows = append(flows, f)
	}
	if len(errs) > 0 {
		return flows, errs.sorted()
	}
	return flows, nil
}

// isEmptyDocument reports whether a document root is the implicit null that
// yaml.v3 gives a document with nothing but comments, such as the one after a
// trailing "---". An explicit null (~ or null) is still reported as an error.
func isEmptyDocument(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null" && n.Value == "" && n.Style == 0
}

var yamlLineRe = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxHints say what a yaml.v3 syntax message usually means in a flow file.
var syntaxHints = map[string]string{
	"did not find expected key":                      "check the indentation of this line against the keys above it",
	"did not find expected '-' indicator":            "check the indentation of this line against the list items above it",
	"found unexpected end of stream":                 "a quote or bracket opened on this line is never closed",
	"mapping values are not allowed in this context": "a value contains \": \"; put the value in quotes",
}

// syntaxError turns a YAML syntax error into a positioned Error. yaml.v3
// reports only a line, and for parser errors the line where the enclosing
// block starts (counted from 0), so the problem line is found again by
// parsing ever longer prefixes of the file until one fails the same way.
func syntaxError(file string, data []byte, err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 1
	if m := yamlLineRe.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	line = problemLine(data, line, msg)
	lines := bytes.Split(data, []byte("\n"))
	var text []byte
	if line >= 1 && line <= len(lines) {
		text = lines[line-1]
	}
	indent := text[:len(text)-len(bytes.TrimLeft(text, " \t"))]
	if tab := bytes.IndexByte(indent, '\t'); tab >= 0 {
		return &Error{Pos: Position{File: file, Line: line, Column: tab + 1}, Msg: "invalid YAML: a tab indents this line; YAML allows only spaces for indentation"}
	}
	if hint, ok := syntaxHints[msg]; ok {
		msg += "; " + hint
	}
	return &Error{Pos: Position{File: file, Line: line, Column: len(indent) + 1}, Msg: "invalid YAML: " + msg}
}

// maxPrefixParses bounds the search of problemLine on long files, where the
// line yaml.v3 reports is kept instead.
const maxPrefixParses = 200

// problemLine returns the first line from `from` on whose prefix of the file
// fails with msg. The true line is never before the one yaml.v3 reports.
func problemLine(data []byte, from int, msg string) int {
	lines := bytes.SplitAfter(data, []byte("\n"))
	end := 0
	for i := 0; i < from-1 && i < len(lines); i++ {
		end += len(lines[i])
	}
	for k := max(from, 1); k <= len(lines) && k < from+maxPrefixParses; k++ {
		end += len(lines[k-1])
		err := decodeAll(data[:end])
		if err == nil {
			continue
		}
		got := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := yamlLineRe.FindStringSubmatch(err.Error()); m != nil {
			got = m[2]
		}
		if got == msg {
			return k
		}
	}
	return max(from, 1)
}

// decodeAll parses every document of data and returns the first error.
func decodeAll(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

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
			return v
		}
		v, defined := p.vars[name]
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
			p.errorf(n, "undefined variable ${%s}%s; %s", name, didYouMean(name, names), hint)
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

var flowKeys = []string{"name", "description", "schedule", "timeout", "step_timeout", "retries", "devices", "network", "cpu_slowdown", "headers", "vars", "secrets", "steps"}

var nameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ValidateSchedule checks a schedule the way the agent will parse it.
func ValidateSchedule(spec string) error {
	_, err := cronParser.Parse(spec)
	return err
}

func (p *parser) flow(doc *yaml.Node) *Flow {
	p.budget = nodeBudget
	f := &Flow{
		Schedule:    DefaultSchedule,
		Timeout:     DefaultTimeout,
		StepTimeout: DefaultStepTimeout,
		Source:      p.pos(doc),
	}
	f.Network, _ = lookupNetwork("none")
	p.flow_ = peekName(doc)
	pairs, ok := p.mapping(doc, "a flow", flowKeys)
	if !ok {
		return f
	}
	byKey := map[string]keyValue{}
	for _, kv := range pairs {
		byKey[kv.key.Value] = kv
	}
	// The name first, so that every later message can say which flow it is
	// about; vars before anything that may use them.
	if kv, ok := byKey["name"]; ok {
		if s, ok := p.scalar(kv.value, "name"); ok {
			if validFlowName(s) {
				f.Name = s
			} else {
				p.errorf(kv.value, "name %q must start with a lower-case letter or digit and use only a-z, 0-9, _ and - (at most 100 characters), because it becomes a metric label", clip(s))
			}
		}
	} else {
		p.errorf(doc, "a flow needs a name (name: ...)")
	}
	p.vars = map[string]string{}
	if kv, ok := byKey["vars"]; ok {
		p.parseVars(kv.value)
	}
	for k, v := range p.opts.Vars {
		p.vars[k] = v
	}
	if kv, ok := byKey["secrets"]; ok {
		f.secrets = p.parseSecrets(kv.value)
	}
	if kv, ok := byKey["description"]; ok {
		f.Description, _ = p.str(kv.value, "description")
	}
	if kv, ok := byKey["schedule"]; ok {
		if s, ok := p.scalar(kv.value, "schedule"); ok {
			if err := ValidateSchedule(s); err != nil {
				p.errorf(kv.value, "schedule %q is not valid: %v; use 5-field cron (\"*/5 * * * *\"), @every 1m, @hourly or @daily", clip(s), err)
			} else {
				f.Schedule = s
			}
		}
	}
	if kv, ok := byKey["timeout"]; ok {
		if d, ok := p.duration(kv.value, "timeout"); ok {
			f.Timeout = d
		}
	}
	if kv, ok := byKey["step_timeout"]; ok {
		if d, ok := p.duration(kv.value, "step_timeout"); ok {
			f.StepTimeout = d
		}
	}
	if kv, ok := byKey["retries"]; ok {
		if s, ok := p.scalar(kv.value, "retries"); ok {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 || n > 10 {
				p.errorf(kv.value, "retries %q must be a whole number from 0 to 10", clip(s))
			} else {
				f.Retries = n
			}
		}
	}
	if kv, ok := byKey["network"]; ok {
		if s, ok := p.scalar(kv.value, "network"); ok {
			if np, ok := lookupNetwork(s); ok {
				f.Network = np
			} else {
				p.errorf(kv.value, "unknown network profile %q%s; allowed: %s", clip(s), didYouMean(s, networkNames()), strings.Join(networkNames(), ", "))
			}
		}
	}
	if kv, ok := byKey["cpu_slowdown"]; ok {
		if s, ok := p.scalar(kv.value, "cpu_slowdown"); ok {
			x, err := strconv.ParseFloat(s, 64)
			if err != nil || !(x >= 1 && x <= 20) { // written so that NaN fails
				p.errorf(kv.value, "cpu_slowdown %q must be a number from 1 (no slowdown) to 20", clip(s))
			} else {
				f.CPUSlowdown = x
			}
		}
	}
	if kv, ok := byKey["headers"]; ok {
		f.Headers = p.parseHeaders(kv.value)
	}
	if kv, ok := byKey["devices"]; ok {
		f.Devices = p.parseDevices(kv.value)
	} else {
		for _, name := range DefaultDevices {
			d, _ := LookupDevice(name)
			f.Devices = append(f.Devices, d)
		}
	}
	if kv, ok := byKey["steps"]; ok {
		f.Steps = p.parseSteps(kv.value, f)
	} else {
		p.errorf(doc, "a flow needs steps (steps: followed by a list of actions)")
	}
	return f
}

func validFlowName(s string) bool { return nameRe.MatchString(s) && len(s) <= 100 }

// peekName finds a valid flow name before the flow is checked, so that even
// the messages about keys above `name:` say which flow they are about.
func peekName(doc *yaml.Node) string {
	if doc.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		k, v := doc.Content[i], doc.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "name" && v.Kind == yaml.ScalarNode && validFlowName(v.Value) {
			return v.Value
		}
	}
	return ""
}

func (p *parser) parseVars(n *yaml.Node) {
	pairs, ok := p.mapping(n, "vars", nil)
	if !ok {
		return
	}
	for _, kv := range pairs {
		name := kv.key.Value
		if !varNameRe.MatchString(name) {
			p.errorf(kv.key, "variable name %q must be letters, digits and _, starting with a letter or _", clip(name))
			continue
		}
		s, ok := p.scalar(kv.value, "variable "+name)
		if !ok {
			continue
		}
		// Vars may read the environment, not other vars: one level keeps
		// the order of definition irrelevant.
		v, _ := p.expandEnvOnly(kv.value, s)
		p.vars[name] = v
	}
}

func (p *parser) expandEnvOnly(n *yaml.Node, s string) (string, bool) {
	saved := p.vars
	p.vars = map[string]string{}
	defer func() { p.vars = saved }()
	return p.expand(n, s)
}

func (p *parser) parseSecrets(n *yaml.Node) []string {
	names, _ := p.stringList(n, "secrets")
	var values []string
	for _, s := range names {
		v, ok := p.vars[s.Value]
		if !ok {
			p.errorf(s, "secret %q is not one of the flow's vars; list var names whose values must be masked", clip(s.Value))
			continue
		}
		if v != "" {
			values = append(values, v)
		}
	}
	// Longest first, so a secret that contains another is masked whole.
	sort.Slice(values, func(i, j int) bool { return len(values[i]) > len(values[j]) })
	return values
}

var headerNameRe = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

func (p *parser) parseHeaders(n *yaml.Node) map[string]string {
	pairs, ok := p.mapping(n, "headers", nil)
	if !ok {
		return nil
	}
	h := map[string]string{}
	for _, kv := range pairs {
		if !headerNameRe.MatchString(kv.key.Value) {
			p.errorf(kv.key, "header name %q is not a valid HTTP header name", clip(kv.key.Value))
			continue
		}
		if v, ok := p.str(kv.value, "header "+kv.key.Value); ok {
			h[kv.key.Value] = v
		}
	}
	return h
}

var customDeviceKeys = []string{"name", "width", "height", "scale", "mobile", "touch", "user_agent"}

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

func (p *parser) parseDevices(n *yaml.Node) []Device {
	items, ok := p.list(n, "devices", "a list such as [desktop, mobile]", "leave it out for the default [desktop, mobile]")
	if !ok {
		return nil
	}
	var out []Device
	seen := map[string]bool{}
	for _, c := range items {
		if p.exhausted(n) {
			return nil
		}
		c = p.resolve(c)
		var d Device
		var ok bool
		switch c.Kind {
		case yaml.ScalarNode:
			d, ok = LookupDevice(c.Value)
			if !ok {
				near := suggest(c.Value, DeviceNames(), 3)
				hint := "use desktop, desktop-hd, mobile, tablet, a Chrome DevTools device name such as \"iPhone 15\" or \"Pixel 5\", or a custom {name, width, height, ...}"
				if len(near) > 0 {
					hint = "nearest names: " + quoteList(near) + "; " + hint
				}
				p.errorf(c, "unknown device %q; %s", clip(c.Value), hint)
				continue
			}
		case yaml.MappingNode:
			d, ok = p.customDevice(c)
			if !ok {
				continue
			}
		default:
			p.errorf(c, "a device must be a name or a mapping, not %s", describeNode(c))
			continue
		}
		if seen[d.Name] {
			p.errorf(c, "device %q is listed twice", d.Name)
			continue
		}
		seen[d.Name] = true
		out = append(out, d)
	}
	return out
}

func (p *parser) customDevice(n *yaml.Node) (Device, bool) {
	pairs, ok := p.mapping(n, "a custom device", customDeviceKeys)
	if !ok {
		return Device{}, false
	}
	d := Device{Scale: 1}
	good := true
	have := map[string]bool{}
	for _, kv := range pairs {
		have[kv.key.Value] = true
		switch kv.key.Value {
		case "name":
			s, ok := p.scalar(kv.value, "device name")
			if ok && !nameRe.MatchString(s) {
				p.errorf(kv.value, "device name %q must use only a-z, 0-9, _ and -, because it becomes a metric label", clip(s))
				ok = false
			}
			d.Name, good = s, good && ok
		case "width", "height":
			s, ok := p.scalar(kv.value, kv.key.Value)
			v, err := strconv.ParseInt(s, 10, 64)
			if ok && (err != nil || v < 100 || v > 10000) {
				p.errorf(kv.value, "%s %q must be a whole number of CSS pixels from 100 to 10000", kv.key.Value, clip(s))
				ok = false
			}
			if kv.key.Value == "width" {
				d.Width = v
			} else {
				d.Height = v
			}
			good = good && ok
		case "scale":
			s, ok := p.scalar(kv.value, "scale")
			v, err := strconv.ParseFloat(s, 64)
			if ok && (err != nil || !(v > 0 && v <= 5)) { // written so that NaN fails
				p.errorf(kv.value, "scale %q must be a number above 0 and at most 5", clip(s))
				ok = false
			}
			d.Scale, good = v, good && ok
		case "mobile":
			v, ok := p.boolean(kv.value, "mobile")
			d.Mobile, good = v, good && ok
		case "touch":
			v, ok := p.boolean(kv.value, "touch")
			d.Touch, good = v, good && ok
		case "user_agent":
			v, ok := p.str(kv.value, "user_agent")
			d.UserAgent, good = v, good && ok
		}
	}
	var missing []string
	for _, k := range []string{"name", "width", "height"} {
		if !have[k] {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		p.errorf(n, "custom device is missing %s; a custom device needs name, width and height (scale, mobile, touch and user_agent are optional)", strings.Join(missing, ", "))
		return Device{}, false
	}
	if _, clash := LookupDevice(d.Name); clash && good {
		p.errorf(n, "custom device name %q is already a known device; choose another name", d.Name)
		return Device{}, false
	}
	d.Class = classOf(d)
	return d, good
}

var commonStepKeys = []string{"name", "timeout", "only", "optional"}

func (p *parser) parseSteps(n *yaml.Node, f *Flow) []Step {
	items, ok := p.list(n, "steps", "a list of actions", "a flow needs at least one step")
	if !ok {
		return nil
	}
	allowed := append(append([]string{}, commonStepKeys...), ActionNames()...)
	var steps []Step
	names := map[string]Position{}
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
					if strings.TrimSpace(s) == "" || len(s) > 100 {
						p.errorf(kv.value, "step name must be 1 to 100 characters")
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
		if st.Name == "" {
			st.Name = strconv.Itoa(i+1) + "-" + spec.name
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
	valid := []string{string(ClassDesktop), string(ClassMobile), string(ClassTablet)}
	for _, d := range f.Devices {
		valid = append(valid, d.Name)
	}
	var out []string
	for _, it := range items {
		match := false
		for _, v := range valid {
			if strings.EqualFold(v, it.Value) {
				match = true
			}
		}
		if !match {
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
	case n.Kind == yaml.ScalarNode && n.Tag != "!!null":
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
		sel, err := ParseSelector(s)
		if err != nil {
			p.errorf(n, "%s: %v; write a CSS selector, text=Visible text or xpath=//path", what, err)
			return nil, false
		}
		return sel, true
	case typeDuration:
		return p.duration(n, what)
	case typeBool:
		return p.boolean(n, what)
	case typeKey:
		s, ok := p.str(n, what)
		if !ok {
			return nil, false
		}
		for _, k := range keyNames {
			if strings.EqualFold(k, s) {
				return k, true
			}
		}
		if len([]rune(s)) == 1 {
			return s, true
		}
		p.errorf(n, "unknown key %q%s; use a single character or one of %s", clip(s), didYouMean(s, keyNames), strings.Join(keyNames, ", "))
		return nil, false
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
	default:
		return p.str(n, what)
	}
}
