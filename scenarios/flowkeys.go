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

// Limits of the flow keys. The loader enforces them and the JSON Schema and
// its docs state them, both from these constants.
const (
	// MaxNameLength bounds flow and step names, which become metric labels.
	MaxNameLength = 100
	// MaxRetries bounds retries: a flow that needs more is broken, and each
	// retry delays the result.
	MaxRetries = 10
	// MinCPUSlowdown is no throttling; MaxCPUSlowdown is the slowest phone
	// worth emulating, DevTools' own range stops at 20x as well.
	MinCPUSlowdown = 1
	MaxCPUSlowdown = 20
	// MaxVitalsSettle bounds vitals_settle: a page still changing after
	// that long is reported as such (lcp_final: false), not waited for.
	MaxVitalsSettle = 30 * time.Second
)

// decodeStage orders the decoding of a flow's keys, since some keys read what
// others set. Within a stage keys decode in the order of flowKeySpecs.
type decodeStage int

const (
	// stageName comes first, so that every later message says which flow
	// it is about.
	stageName decodeStage = iota
	// stageVars comes before anything that may use ${var}; LoadOptions.Vars
	// are applied after it.
	stageVars
	// stageSecrets needs the final vars, overrides included.
	stageSecrets
	// stageSettings is every key that only sets its own field.
	stageSettings
	// stageSteps is devices and then steps: a step's only: names the
	// flow's devices, and its timeout defaults to step_timeout.
	stageSteps
	stageCount
)

// flowKeySpec describes one top-level key of a flow: the one place that says
// its name, its documentation, its JSON Schema and how the loader decodes
// it. The loader's allowed keys, the JSON Schema and the README check all
// derive from flowKeySpecs, in its order.
type flowKeySpec struct {
	name string
	// doc is the key's description in the JSON Schema, for editors.
	doc string
	// schema is the key's JSON Schema, without its description.
	schema func() obj
	stage  decodeStage
	// decode reads the key's value into the flow, reporting problems on p.
	decode func(p *parser, v *yaml.Node, f *Flow)
	// absent, when set, runs instead of decode if the key is not given: to
	// report a required key or to fill in a default that needs work.
	absent func(p *parser, doc *yaml.Node, f *Flow)
}

var flowKeySpecs = []flowKeySpec{
	{
		name:   "name",
		doc:    fmt.Sprintf("Required. The flow's name: lower-case letters, digits, _ and -, starting with a letter or digit, at most %d characters. It is a metric label, so it must be unique across all loaded files.", MaxNameLength),
		schema: func() obj { return obj{"type": "string", "pattern": jsPattern(nameRe), "maxLength": MaxNameLength} },
		stage:  stageName,
		decode: func(p *parser, v *yaml.Node, f *Flow) {
			if s, ok := p.scalar(v, "name"); ok {
				if validFlowName(s) {
					f.Name = s
				} else {
					p.errorf(v, "name %q must start with a lower-case letter or digit and use only a-z, 0-9, _ and - (at most %d characters), because it becomes a metric label", clip(s), MaxNameLength)
				}
			}
		},
		absent: func(p *parser, doc *yaml.Node, _ *Flow) { p.errorf(doc, "a flow needs a name (name: ...)") },
	},
	{
		name:   "description",
		doc:    "What the flow does, for the people who read results.",
		schema: func() obj { return ref("scalar") },
		stage:  stageSettings,
		decode: func(p *parser, v *yaml.Node, f *Flow) { f.Description, _ = p.str(v, "description") },
	},
	{
		name: "schedule",
		doc:  "When the flow runs: 5-field cron (\"*/5 * * * *\"), @every <duration>, @hourly, @daily and the other robfig/cron descriptors. Default \"" + DefaultSchedule + "\".",
		schema: func() obj {
			return obj{"type": "string", "default": DefaultSchedule, "examples": []string{"*/5 * * * *", "@every 1m", "@hourly"}}
		},
		stage: stageSettings,
		decode: func(p *parser, v *yaml.Node, f *Flow) {
			if s, ok := p.scalar(v, "schedule"); ok {
				if err := f.SetSchedule(s); err != nil {
					p.errorf(v, "schedule %q is not valid: %v; use 5-field cron (\"*/5 * * * *\"), @every 1m, @hourly or @daily", clip(s), err)
				}
			}
		},
	},
	{
		name:   "timeout",
		doc:    "Time limit of a whole run on one device, such as 60s or 2m. Default " + shortDuration(DefaultTimeout) + ".",
		schema: func() obj { return obj{"allOf": []obj{ref("duration")}, "default": shortDuration(DefaultTimeout)} },
		stage:  stageSettings,
		decode: func(p *parser, v *yaml.Node, f *Flow) {
			if d, ok := p.duration(v, "timeout"); ok {
				f.Timeout = d
			}
		},
	},
	{
		name:   "step_timeout",
		doc:    "Default time limit of each step, such as 10s; a step's own timeout overrides it. Default " + shortDuration(DefaultStepTimeout) + ".",
		schema: func() obj { return obj{"allOf": []obj{ref("duration")}, "default": shortDuration(DefaultStepTimeout)} },
		stage:  stageSettings,
		decode: func(p *parser, v *yaml.Node, f *Flow) {
			if d, ok := p.duration(v, "step_timeout"); ok {
				f.StepTimeout = d
			}
		},
	},
	{
		name:   "retries",
		doc:    fmt.Sprintf("How many times a failed run is retried before it counts as failed, 0 to %d. Default 0.", MaxRetries),
		schema: func() obj { return obj{"type": "integer", "minimum": 0, "maximum": MaxRetries, "default": 0} },
		stage:  stageSettings,
		decode: func(p *parser, v *yaml.Node, f *Flow) {
			if s, ok := p.scalar(v, "retries"); ok {
				n, err := strconv.Atoi(s)
				if err != nil || n < 0 || n > MaxRetries {
					p.errorf(v, "retries %q must be a whole number from 0 to %d", clip(s), MaxRetries)
				} else {
					f.Retries = n
				}
			}
		},
	},
	{
		name: "devices",
		doc:  "The devices the flow runs on, each run separately: aliases (desktop, desktop-hd, mobile, tablet), Chrome DevTools device names such as \"iPhone 15\" (any case), or custom devices. Default [" + strings.Join(DefaultDevices, ", ") + "].",
		schema: func() obj {
			return obj{
				"type":     "array",
				"minItems": 1,
				"default":  DefaultDevices,
				"items": obj{"anyOf": []obj{
					{"type": "string", "description": "A device alias or Chrome DevTools device name, in any case.", "examples": DeviceNames()},
					ref("customDevice"),
				}},
			}
		},
		stage:  stageSteps,
		decode: func(p *parser, v *yaml.Node, f *Flow) { f.Devices = p.parseDevices(v) },
		absent: func(_ *parser, _ *yaml.Node, f *Flow) {
			for _, name := range DefaultDevices {
				d, _ := LookupDevice(name)
				f.Devices = append(f.Devices, d)
			}
		},
	},
	{
		name:   "network",
		doc:    "Network throttling with Chrome DevTools' figures. Default none.",
		schema: func() obj { return obj{"enum": networkNames(), "default": "none"} },
		stage:  stageSettings,
		decode: func(p *parser, v *yaml.Node, f *Flow) {
			if s, ok := p.scalar(v, "network"); ok {
				if np, ok := lookupNetwork(s); ok {
					f.Network = np
				} else {
					p.errorf(v, "unknown network profile %q%s; allowed: %s", clip(s), didYouMean(s, networkNames()), strings.Join(networkNames(), ", "))
				}
			}
		},
	},
	{
		name:   "cpu_slowdown",
		doc:    fmt.Sprintf("CPU throttling factor, %d (none) to %d, to see the site as a slow phone does.", MinCPUSlowdown, MaxCPUSlowdown),
		schema: func() obj { return obj{"type": "number", "minimum": MinCPUSlowdown, "maximum": MaxCPUSlowdown} },
		stage:  stageSettings,
		decode: func(p *parser, v *yaml.Node, f *Flow) {
			if s, ok := p.scalar(v, "cpu_slowdown"); ok {
				x, err := strconv.ParseFloat(s, 64)
				if err != nil || !(x >= MinCPUSlowdown && x <= MaxCPUSlowdown) { // written so that NaN fails
					p.errorf(v, "cpu_slowdown %q must be a number from %d (no slowdown) to %d", clip(s), MinCPUSlowdown, MaxCPUSlowdown)
				} else {
					f.CPUSlowdown = x
				}
			}
		},
	},
	conditionFlowKey("locale"), // conditions.go: the user's conditions
	conditionFlowKey("timezone"),
	conditionFlowKey("geolocation"),
	conditionFlowKey("permissions"),
	conditionFlowKey("color_scheme"),
	conditionFlowKey("reduced_motion"),
	{
		name: "vitals_settle",
		doc:  "How long the final read of a page's web vitals may wait for the page to settle (loaded, images in the viewport arrived, no new LCP candidate or layout shift), such as 3s; 0s reads at once. Default: the agent's --vitals.settle, 3s.",
		schema: func() obj {
			return obj{"allOf": []obj{ref("duration")}, "examples": []string{"3s", "0s"}}
		},
		stage: stageSettings,
		decode: func(p *parser, v *yaml.Node, f *Flow) {
			if s, ok := p.scalar(v, "vitals_settle"); ok {
				d, err := time.ParseDuration(s)
				if err != nil || d < 0 || d > MaxVitalsSettle {
					p.errorf(v, "vitals_settle %q must be a duration from 0s to %s, such as 3s", clip(s), shortDuration(MaxVitalsSettle))
				} else {
					f.VitalsSettle = &d
				}
			}
		},
	},
	{
		name: "headers",
		doc:  "Extra HTTP headers, such as X-Synthetic: \"1\", sent with the requests to the flow's own origins: those of its goto URLs and headers_origins. Values may use ${var}.",
		schema: func() obj {
			return obj{"type": "object", "propertyNames": obj{"pattern": jsPattern(headerNameRe)}, "additionalProperties": ref("scalar")}
		},
		stage:  stageSettings,
		decode: func(p *parser, v *yaml.Node, f *Flow) { f.Headers = p.parseHeaders(v) },
	},
	{
		name:   "headers_origins",
		doc:    "Origins (scheme://host[:port]) that get the flow's headers besides those of its goto URLs, or \"*\" for every origin. By default a third-party host the pages load from never sees them.",
		schema: func() obj { return nameOrList("An origin such as https://api.example.com, or \"*\".") },
		stage:  stageSettings,
		decode: func(p *parser, v *yaml.Node, f *Flow) { f.HeadersOrigins = p.parseHeadersOrigins(v) },
	},
	{
		name: "block",
		doc:  "URL globs (* matches any characters, / included) whose requests fail before they leave the browser, such as *://*.doubleclick.net/*, or third-party for every origin other than that of the first goto URL. Counted in the result's blocked_requests, never as failed requests.",
		schema: func() obj {
			glob := obj{"type": "string", "minLength": 1, "examples": []string{"*://*.doubleclick.net/*", ThirdParty}}
			return obj{"anyOf": []obj{glob, {"type": "array", "minItems": 1, "items": glob}}}
		},
		stage:  stageSettings,
		decode: decodeBlock,
	},
	{
		name: "mock",
		doc:  "Requests answered from the flow before they leave the browser: a list of {url (a glob as in block), status (default 200), content_type, body or file (relative to the flow file)}.",
		schema: func() obj {
			return obj{"type": "array", "minItems": 1, "items": obj{"type": "object", "required": []string{"url"}, "additionalProperties": false,
				"not": obj{"required": []string{"body", "file"}},
				"properties": obj{"url": obj{"type": "string"}, "status": obj{"type": "integer", "minimum": 100, "maximum": 599, "default": 200},
					"content_type": ref("scalar"), "body": ref("scalar"), "file": obj{"type": "string"}}}}
		},
		stage:  stageSettings,
		decode: decodeMock,
	},
	{
		name:   "keep_downloads",
		doc:    "true keeps the files the flow downloads, as <artifacts>/<flow>/<device>/downloads/<file name>; the next run overwrites them. Default false: downloads are recorded and deleted.",
		schema: func() obj { return obj{"type": "boolean", "default": false} },
		stage:  stageSettings,
		decode: func(p *parser, v *yaml.Node, f *Flow) { f.KeepDownloads, _ = p.boolean(v, "keep_downloads") },
	},
	{
		name:   "dialogs",
		doc:    "What the run does with alert, confirm, prompt and beforeunload dialogs: accept (click OK, a prompt keeps its default text), dismiss (click Cancel) or fail (dismiss, and fail the step with kind dialog). Default accept.",
		schema: func() obj { return obj{"enum": DialogPolicies, "default": string(DialogAccept)} },
		stage:  stageSettings,
		decode: decodeDialogs,
	},
	{
		name:   "ignore_https_errors",
		doc:    "When true, certificate errors are ignored, for a test site with a self-signed certificate. Default false.",
		schema: func() obj { return obj{"type": "boolean", "default": false} },
		stage:  stageSettings,
		decode: func(p *parser, v *yaml.Node, f *Flow) { f.IgnoreHTTPSErrors, _ = p.boolean(v, "ignore_https_errors") },
	},
	{
		name: "http_credentials",
		doc:  "{username, password} for the site's HTTP basic auth, given when a server asks. Values may use ${var}; the password is masked like a secret everywhere.",
		schema: func() obj {
			return obj{"type": "object", "required": []string{"username", "password"}, "additionalProperties": false,
				"properties": obj{"username": ref("scalar"), "password": ref("scalar")}}
		},
		stage:  stageSecrets,
		decode: decodeCredentials,
	},
	{
		name:   "cookies",
		doc:    "Cookies set before the first step: a list of {name, value, url | domain+path, secure, http_only, same_site: Strict|Lax|None}, such as a consent banner already answered. A value from ${env:...} or a secret var is masked everywhere.",
		schema: func() obj { return obj{"type": "array", "minItems": 1, "items": cookieSchema()} },
		stage:  stageSettings,
		decode: func(p *parser, v *yaml.Node, f *Flow) { f.Cookies = p.parseCookies(v, f) },
	},
	{
		name: "local_storage",
		doc:  "Local storage set before the first step, by origin: {\"https://shop.example.com\": {key: value}}, such as a feature flag. A value from ${env:...} or a secret var is masked everywhere.",
		schema: func() obj {
			return obj{"type": "object", "additionalProperties": obj{"type": "object", "additionalProperties": ref("scalar")}}
		},
		stage:  stageSettings,
		decode: func(p *parser, v *yaml.Node, f *Flow) { f.LocalStorage = p.parseLocalStorage(v, f) },
	},
	{
		name:   "provides_session",
		doc:    "true makes this a login flow: a successful run keeps its cookies and local storage, per device and in the agent's memory only, for the flows whose session names it. Default false.",
		schema: func() obj { return obj{"type": "boolean", "default": false} },
		stage:  stageSettings,
		decode: func(p *parser, v *yaml.Node, f *Flow) { f.ProvidesSession, _ = p.boolean(v, "provides_session") },
	},
	{
		name:   "session",
		doc:    "The login flow (with provides_session: true) whose saved session this flow starts with, on the same device. Without one, or with one older than session_max_age, or when the flow ends on the login flow's first URL, the login flow runs first and the flow is tried again once.",
		schema: func() obj { return obj{"type": "string", "pattern": jsPattern(nameRe), "maxLength": MaxNameLength} },
		stage:  stageSettings,
		decode: decodeSession,
		absent: noSession,
	},
	{
		name: "session_max_age",
		doc:  "How old a saved session (see session) this flow starts with, such as 30m. Default 1h.",
		schema: func() obj {
			return obj{"allOf": []obj{ref("duration")}, "default": "1h"}
		},
		stage:  stageSettings,
		decode: decodeSessionMaxAge,
	},
	{
		name: "vars",
		doc:  "Variables for ${name} in values. A value may read the environment with ${env:NAME}; LoadOptions can override vars.",
		schema: func() obj {
			return obj{"type": "object", "propertyNames": obj{"pattern": jsPattern(varNameRe)}, "additionalProperties": ref("scalar")}
		},
		stage:  stageVars,
		decode: func(p *parser, v *yaml.Node, _ *Flow) { p.parseVars(v) },
	},
	{
		name:   "secrets",
		doc:    "Names of vars whose values are masked as *** in every result, message and log.",
		schema: func() obj { return nameOrList("A var name.") },
		stage:  stageSecrets,
		decode: func(p *parser, v *yaml.Node, f *Flow) {
			f.secrets = append(f.secrets, p.parseSecrets(v)...) // after http_credentials' password
			sortLongestFirst(f.secrets)
		},
	},
	{
		name:   "audit",
		doc:    "Audit every page the flow opens, when it is final (before the flow leaves it), for mobile UX defects and accessibility barriers: all, a list of audit rules, or {rules, min_impact}. Findings are recorded; an audit step with fail: true is what fails a run.",
		schema: flowAuditSchema,
		stage:  stageSettings,
		decode: func(p *parser, v *yaml.Node, f *Flow) { f.Audit = p.flowAudit(v) },
	},
	{
		name:   "steps",
		doc:    "The actions of the flow, in order. Each step has exactly one action key, plus optional name, timeout, only and optional.",
		schema: func() obj { return obj{"type": "array", "minItems": 1, "items": ref("step")} },
		stage:  stageSteps,
		decode: func(p *parser, v *yaml.Node, f *Flow) { f.Steps = p.parseSteps(v, f) },
		absent: func(p *parser, doc *yaml.Node, _ *Flow) {
			p.errorf(doc, "a flow needs steps (steps: followed by a list of actions)")
		},
	},
	{
		name:   "finally",
		doc:    "Cleanup steps that always run after the flow's steps, after a failure too. Their results are recorded as cleanup steps; they never change whether the run succeeded.",
		schema: func() obj { return obj{"type": "array", "minItems": 1, "items": ref("step")} },
		stage:  stageSteps,
		decode: func(p *parser, v *yaml.Node, f *Flow) { f.Finally = p.parseFinally(v, f) },
	},
}

// flowKeys are the names of flowKeySpecs, in order: the allowed keys of a
// flow document.
var flowKeys = flowKeyNames()

func flowKeyNames() []string {
	names := make([]string, len(flowKeySpecs))
	for i, s := range flowKeySpecs {
		names[i] = s.name
	}
	return names
}

var nameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

func (p *parser) flow(doc *yaml.Node) *Flow {
	p.budget = nodeBudget
	f := &Flow{
		Schedule:    DefaultSchedule,
		Cron:        defaultCron,
		Timeout:     DefaultTimeout,
		StepTimeout: DefaultStepTimeout,
		Source:      p.pos(doc),
	}
	f.Network, _ = lookupNetwork("none")
	f.Dialogs = DialogAccept
	p.flow_ = peekName(doc)
	pairs, ok := p.mapping(doc, "a flow", flowKeys)
	if !ok {
		return f
	}
	byKey := map[string]*yaml.Node{}
	for _, kv := range pairs {
		byKey[kv.key.Value] = kv.value
	}
	p.vars = map[string]string{}
	for stage := range stageCount {
		for _, spec := range flowKeySpecs {
			if spec.stage != stage {
				continue
			}
			if v, ok := byKey[spec.name]; ok {
				spec.decode(p, v, f)
			} else if spec.absent != nil {
				spec.absent(p, doc, f)
			}
		}
		if stage == stageVars {
			for k, v := range p.opts.Vars {
				p.vars[k] = v
			}
		}
	}
	f.vars = p.vars
	f.secrets = append(f.secrets, p.totpSecrets...) // totp.go
	sortLongestFirst(f.secrets)
	p.checkPendingSecrets(f)
	return f
}

func validFlowName(s string) bool { return nameRe.MatchString(s) && len(s) <= MaxNameLength }

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

func (p *parser) parseSecrets(n *yaml.Node) []string {
	names, _ := p.stringList(n, "secrets")
	var values []string
	for _, s := range names {
		if p.secretNames == nil {
			p.secretNames = map[string]bool{}
		}
		p.secretNames[s.Value] = true
		v, ok := p.vars[s.Value]
		if !ok {
			// It may name an extract var, known after the steps.
			p.pendingSecrets = append(p.pendingSecrets, s)
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
