package scenarios

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// flow.schema.json is generated from the tables of this package; refresh it
// after changing them with:
//
//go:generate go test -run TestSchemaUpToDate -update .

// commonStepKeyDocs documents commonStepKeys for the JSON Schema; stepSchemas
// fails when a key lacks a doc, so the two cannot drift.
var commonStepKeyDocs = map[string]string{
	"name":     "The step's label in results and metrics; default \"<index>-<action>\" such as \"3-click\". Unique within the flow.",
	"timeout":  "Time limit of this step, overriding the flow's step_timeout.",
	"only":     "Run this step only on these device classes (desktop, mobile, tablet) or device names of the flow.",
	"optional": "When true, a failure of this step is recorded but the flow goes on.",
}

// customDeviceKeyDocs documents customDeviceKeys.
var customDeviceKeyDocs = map[string]string{
	"name":       "Required. The device's name, a metric label: a-z, 0-9, _ and -. It must not be a known device name.",
	"width":      fmt.Sprintf("Required. Viewport width in CSS pixels, %d to %d.", MinDeviceSize, MaxDeviceSize),
	"height":     fmt.Sprintf("Required. Viewport height in CSS pixels, %d to %d.", MinDeviceSize, MaxDeviceSize),
	"scale":      fmt.Sprintf("Device pixel ratio, above 0 and at most %d. Default 1.", MaxDeviceScale),
	"mobile":     "Emulate a mobile browser (meta viewport, mobile user agent behaviour). A mobile device whose short side is 600 px or more is of class tablet.",
	"touch":      "Emulate a touch screen.",
	"user_agent": "User-Agent string; default the browser's own.",
}

// JSONSchema returns a draft-07 JSON Schema of one flow document, for editors.
// It is generated from the tables the loader uses (flow keys, step actions,
// device keys, network profiles), so it describes what the loader accepts.
// It cannot express everything the loader checks, such as unique names or
// defined variables, and it accepts ${var} wherever the loader expands one.
func JSONSchema() ([]byte, error) {
	s, err := flowSchema()
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // the docs say "<index>-<action>", for people to read
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

type obj = map[string]any

func flowSchema() (obj, error) {
	props := obj{}
	for _, k := range flowKeySpecs {
		if k.doc == "" || k.schema == nil || k.decode == nil {
			return nil, fmt.Errorf("flow key %q needs a doc, a schema and a decode function", k.name)
		}
		s := k.schema()
		s["description"] = k.doc
		props[k.name] = s
	}
	steps, err := stepSchemas()
	if err != nil {
		return nil, err
	}
	device, err := customDeviceSchema()
	if err != nil {
		return nil, err
	}
	return obj{
		"$schema":              "http://json-schema.org/draft-07/schema#",
		"$id":                  "https://github.com/uxprobe/uxprobe/scenarios/flow.schema.json",
		"title":                "uxprobe flow",
		"description":          "One user flow that uxprobe runs in headless Chrome. A flow file may hold several flows as YAML documents separated by ---.",
		"type":                 "object",
		"required":             []string{"name", "steps"},
		"additionalProperties": false,
		"properties":           props,
		"definitions": obj{
			"duration":     durationSchema(),
			"selector":     selectorSchema(),
			"scalar":       obj{"type": []string{"string", "number", "boolean"}},
			"only":         onlySchema(),
			"auditRule":    auditRuleSchema(),
			"customDevice": device,
			"step":         obj{"description": "One step: exactly one action key, plus optional name, timeout, only and optional.", "oneOf": steps},
		},
	}, nil
}

func ref(name string) obj { return obj{"$ref": "#/definitions/" + name} }

// jsPattern returns a Go regular expression as a JSON Schema pattern. The
// loader's patterns use only syntax that RE2 and ECMA 262 read alike.
func jsPattern(re *regexp.Regexp) string { return re.String() }

func nameOrList(doc string) obj {
	item := obj{"type": "string", "description": doc}
	return obj{"anyOf": []obj{item, {"type": "array", "items": item}}}
}

func onlySchema() obj {
	s := nameOrList("A device class (desktop, mobile, tablet) or a device name of the flow.")
	s["examples"] = []string{string(ClassDesktop), string(ClassMobile), string(ClassTablet)}
	return s
}

func durationSchema() obj {
	return obj{
		"type":        "string",
		"description": "A positive Go duration such as 500ms, 10s, 2m or 1m30s.",
		"pattern":     `^([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))*$`,
	}
}

func selectorSchema() obj {
	return obj{
		"type":        "string",
		"minLength":   1,
		"description": "A selector: " + SelectorForms + ". CSS selectors pierce open shadow roots.",
	}
}

func commonStepKeySchema(key string) (obj, error) {
	switch key {
	case "name":
		return obj{"type": "string", "minLength": 1, "maxLength": MaxNameLength}, nil
	case "timeout":
		return obj{"allOf": []obj{ref("duration")}}, nil
	case "only":
		return ref("only"), nil
	case "optional":
		return obj{"type": "boolean", "default": false}, nil
	}
	return nil, fmt.Errorf("step key %q has no JSON Schema; add it to commonStepKeySchema", key)
}

// stepSchemas gives one object schema per action: the action key, required,
// with the common step keys. Each allows only its own action key, so exactly
// one of them matches a valid step.
func stepSchemas() ([]obj, error) {
	common := obj{}
	for _, k := range commonStepKeys {
		doc, ok := commonStepKeyDocs[k]
		if !ok {
			return nil, fmt.Errorf("step key %q has no doc in commonStepKeyDocs", k)
		}
		s, err := commonStepKeySchema(k)
		if err != nil {
			return nil, err
		}
		s["description"] = doc
		common[k] = s
	}
	var out []obj
	for _, spec := range actionSpecs {
		props := obj{}
		for k, v := range common {
			props[k] = v
		}
		a, err := actionSchema(spec)
		if err != nil {
			return nil, err
		}
		props[spec.name] = a
		out = append(out, obj{
			"title":                spec.name,
			"description":          spec.doc,
			"type":                 "object",
			"required":             []string{spec.name},
			"additionalProperties": false,
			"properties":           props,
		})
	}
	return out, nil
}

// actionSchema describes an action's value: the scalar form when the action
// has one, and the mapping form of its params.
func actionSchema(spec actionSpec) (obj, error) {
	if spec.bare {
		return obj{"type": "null", "description": spec.doc + " It takes no value."}, nil
	}
	props := obj{}
	var required []string
	var scalar obj
	for _, pm := range spec.params {
		s, err := paramSchema(pm)
		if err != nil {
			return nil, fmt.Errorf("action %s: %w", spec.name, err)
		}
		props[pm.name] = s
		if pm.required {
			required = append(required, pm.name)
		}
		if pm.name == spec.scalar {
			scalar = s
		}
	}
	mapping := obj{"type": "object", "additionalProperties": false, "properties": props}
	if len(required) > 0 {
		mapping["required"] = required
	}
	if len(spec.oneOf) > 0 {
		var alts []obj
		for _, k := range spec.oneOf {
			alts = append(alts, obj{"required": []string{k}})
		}
		mapping["oneOf"] = alts
	}
	if spec.scalar == "" {
		mapping["description"] = spec.doc
		return mapping, nil
	}
	if scalar == nil {
		return nil, fmt.Errorf("action %s: scalar parameter %q is not among its params", spec.name, spec.scalar)
	}
	return obj{"description": spec.doc + " A single value sets " + spec.scalar + ".", "anyOf": []obj{scalar, mapping}}, nil
}

// varText matches a value that is expanded before it is checked: ${...} may
// stand for any text.
const varText = `\$\{[^}]*\}`

func paramSchema(pm param) (obj, error) {
	var s obj
	switch pm.typ {
	case typeString:
		s = ref("scalar")
	case typeSelector:
		s = ref("selector")
	case typeDuration:
		s = ref("duration")
	case typeBool:
		s = obj{"type": "boolean"}
	case typeKey:
		alts := make([]string, 0, len(keyNames)+1)
		for _, k := range keyNames {
			alts = append(alts, caseInsensitive(k))
		}
		alts = append(alts, ".", varText)
		mods := make([]string, 0, len(modifierNames))
		for _, m := range modifierNames {
			mods = append(mods, caseInsensitive(m))
		}
		s = obj{
			"type": "string",
			"description": "A single character, or a named key in any case: " + strings.Join(keyNames, ", ") +
				"; either after modifiers joined by +: " + strings.Join(modifierNames, ", ") + " (Control+A, Shift+Enter).",
			"pattern":  "^((" + strings.Join(mods, "|") + ")\\+)*(" + strings.Join(alts, "|") + ")$",
			"examples": append(KeyNames(), "Control+A", "Shift+Enter", "Meta+K"),
		}
	case typeState:
		s = obj{"enum": []WaitState{StateVisible, StateHidden, StatePresent}, "default": StateVisible}
	case typeRegexp:
		s = obj{"type": "string", "format": "regex", "description": "A Go (RE2) regular expression."}
	case typeVarName:
		s = obj{"type": "string", "pattern": jsPattern(varNameRe)}
	case typeMethod:
		s = obj{"type": "string", "pattern": jsPattern(methodRe), "default": "GET", "examples": []string{"GET", "POST", "PUT", "DELETE"}}
	case typeStatus:
		code := obj{"type": "integer", "minimum": 100, "maximum": 599}
		s = obj{"oneOf": []any{code, obj{"type": "array", "items": code, "minItems": 1}}}
	case typeHeaders:
		s = obj{"type": "object", "propertyNames": obj{"pattern": jsPattern(headerNameRe)}, "additionalProperties": ref("scalar")}
	case typeFileName:
		s = obj{
			"type":        "string",
			"description": "A file-safe name: letters, digits, ., _ and -, at most 100 characters; it must not contain a secret.",
			"pattern":     "^([A-Za-z0-9._-]|" + varText + ")+$",
		}
	case typeAuditRules:
		s = auditRulesSchema()
	case typeImpact:
		s = impactSchema()
	case typeSelectors:
		s = obj{"anyOf": []obj{ref("selector"), {"type": "array", "items": ref("selector")}}}
	case typeRatio:
		s = obj{"type": "number", "minimum": 0, "maximum": 1}
	case typeNetworkState:
		s = obj{"enum": []string{NetworkOffline, NetworkOnline}}
	case typeUploadFiles:
		s = obj{"anyOf": []obj{ref("scalar"), {"type": "array", "minItems": 1, "items": ref("scalar")}}}
	default:
		return nil, fmt.Errorf("parameter %s has a type with no JSON Schema", pm.name)
	}
	if pm.doc != "" {
		// $ref siblings are ignored in draft-07, so a doc wraps the ref.
		if _, isRef := s["$ref"]; isRef {
			s = obj{"allOf": []obj{s}}
		}
		s["description"] = pm.doc
	}
	return s, nil
}

// caseInsensitive turns a key name into a pattern of any case, since JSON
// Schema patterns have no case-insensitive flag.
func caseInsensitive(s string) string {
	var b strings.Builder
	for _, r := range s {
		lo, up := strings.ToLower(string(r)), strings.ToUpper(string(r))
		if lo == up {
			b.WriteString(regexp.QuoteMeta(string(r)))
			continue
		}
		b.WriteString("[" + up + lo + "]")
	}
	return b.String()
}

// shortDuration renders whole seconds as "60s", the way users write them.
func shortDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return d.String()
}

func customDeviceSchema() (obj, error) {
	props := obj{}
	for _, k := range customDeviceKeys {
		doc, ok := customDeviceKeyDocs[k]
		if !ok && !slices.Contains(conditionKeys, k) {
			return nil, fmt.Errorf("custom device key %q has no doc in customDeviceKeyDocs", k)
		}
		var s obj
		switch k {
		case "name":
			s = obj{"type": "string", "pattern": jsPattern(nameRe)}
		case "width", "height":
			s = obj{"type": "integer", "minimum": MinDeviceSize, "maximum": MaxDeviceSize}
		case "scale":
			s = obj{"type": "number", "exclusiveMinimum": 0, "maximum": MaxDeviceScale, "default": 1}
		case "mobile", "touch":
			s = obj{"type": "boolean", "default": false}
		case "user_agent":
			s = obj{"type": "string"}
		case "locale", "timezone", "geolocation", "permissions", "color_scheme", "reduced_motion":
			s = conditionSchema(k) // conditions.go
			doc = s["description"].(string) + " Wins over the flow's."
		default:
			return nil, fmt.Errorf("custom device key %q has no JSON Schema; add it to customDeviceSchema", k)
		}
		s["description"] = doc
		props[k] = s
	}
	return obj{
		"type":                 "object",
		"description":          "A custom device: name, width and height are required; or a known device's name with conditions only, such as {name: mobile, color_scheme: dark}.",
		"required":             []string{"name"},
		"additionalProperties": false,
		"properties":           props,
	}, nil
}
