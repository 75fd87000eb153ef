package scenarios

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	// The time zone database compiled in: the loader checks `timezone:`
	// with time.LoadLocation, and a slim container (distroless, scratch)
	// has no /usr/share/zoneinfo, where every id would be "unknown". About
	// 450 kB of binary for a check that says the same thing everywhere.
	_ "time/tzdata"

	"golang.org/x/text/language"
	"gopkg.in/yaml.v3"
)

// Conditions are the user's circumstances a run emulates besides the
// screen: language, time zone, place, granted permissions and the display
// preferences a page reads with media queries. The zero value changes
// nothing. A flow sets them for every device and a custom device for
// itself; the device's value of a key wins (see Flow.ConditionsOn).
type Conditions struct {
	// Locale is a BCP 47 tag such as de-DE: navigator.language,
	// Accept-Language and Intl's default locale.
	Locale string `json:"locale,omitempty"`
	// Timezone is an IANA time zone id such as Europe/Berlin.
	Timezone string `json:"timezone,omitempty"`
	// Geolocation is the position getCurrentPosition answers; setting it
	// grants the geolocation permission.
	Geolocation *Geolocation `json:"geolocation,omitempty"`
	// Permissions are granted to every origin, by their names in
	// PermissionNames; nil leaves Chrome's defaults (prompts denied).
	Permissions []string `json:"permissions,omitempty"`
	// ColorScheme is "light", "dark" or "" (Chrome's own, light).
	ColorScheme string `json:"color_scheme,omitempty"`
	// ReducedMotion, when set, emulates prefers-reduced-motion: reduce
	// (true) or no-preference (false).
	ReducedMotion *bool `json:"reduced_motion,omitempty"`
}

// Geolocation is an emulated position.
type Geolocation struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	// Accuracy is in metres.
	Accuracy float64 `json:"accuracy"`
}

// DefaultGeoAccuracy is the accuracy of a geolocation that gives none, in
// metres: a phone's GPS fix outdoors.
const DefaultGeoAccuracy = 10

// PermissionNames are the permissions `permissions:` may grant, by the names
// of the Permissions API (navigator.permissions.query).
var PermissionNames = []string{"geolocation", "notifications", "clipboard-read", "clipboard-write", "camera", "microphone"}

// ColorSchemes are the values of `color_scheme:`.
var ColorSchemes = []string{"light", "dark"}

// IsZero reports whether c changes nothing.
func (c Conditions) IsZero() bool {
	return c.Locale == "" && c.Timezone == "" && c.Geolocation == nil && c.Permissions == nil && c.ColorScheme == "" && c.ReducedMotion == nil
}

// Over returns c with every key c leaves unset taken from base: c is the
// device's, base the flow's.
func (c Conditions) Over(base Conditions) Conditions {
	if c.Locale == "" {
		c.Locale = base.Locale
	}
	if c.Timezone == "" {
		c.Timezone = base.Timezone
	}
	if c.Geolocation == nil {
		c.Geolocation = base.Geolocation
	}
	if c.Permissions == nil {
		c.Permissions = base.Permissions
	}
	if c.ColorScheme == "" {
		c.ColorScheme = base.ColorScheme
	}
	if c.ReducedMotion == nil {
		c.ReducedMotion = base.ReducedMotion
	}
	return c
}

// Clone returns a copy of c that shares nothing with it, for a result
// whose strings the redaction boundary rewrites in place.
func (c Conditions) Clone() Conditions {
	c.Permissions = slices.Clone(c.Permissions)
	if c.Geolocation != nil {
		g := *c.Geolocation
		c.Geolocation = &g
	}
	if c.ReducedMotion != nil {
		b := *c.ReducedMotion
		c.ReducedMotion = &b
	}
	return c
}

// Granted is the permissions to grant: Permissions, plus geolocation when a
// position is set (a position the page may not read is no emulation), each
// once, in the order of PermissionNames.
func (c Conditions) Granted() []string {
	var out []string
	for _, name := range PermissionNames {
		if slices.Contains(c.Permissions, name) || (name == "geolocation" && c.Geolocation != nil) {
			out = append(out, name)
		}
	}
	return out
}

// ConditionsOn is what a run of f on d emulates: the device's conditions
// over the flow's.
func (f *Flow) ConditionsOn(d Device) Conditions {
	return d.Conditions.Over(f.Conditions)
}

// conditionKeys are the keys of Conditions, the same as flow keys and as
// keys of a custom device, in this order.
var conditionKeys = []string{"locale", "timezone", "geolocation", "permissions", "color_scheme", "reduced_motion"}

// conditionDocs documents conditionKeys, for the JSON Schema.
var conditionDocs = map[string]string{
	"locale":         "The user's language as a BCP 47 tag such as de-DE: navigator.language, the Accept-Language header and Intl's default locale.",
	"timezone":       "The user's IANA time zone, such as Europe/Berlin: Date and Intl.DateTimeFormat use it.",
	"geolocation":    fmt.Sprintf("{latitude, longitude, accuracy}: the position getCurrentPosition answers, in degrees (latitude -90 to 90, longitude -180 to 180) and metres (default %d); the geolocation permission is granted.", DefaultGeoAccuracy),
	"permissions":    "Permissions granted to every origin: " + strings.Join(PermissionNames, ", ") + ". Default none: a page's request is denied as a headless user would.",
	"color_scheme":   "prefers-color-scheme: light or dark.",
	"reduced_motion": "true emulates prefers-reduced-motion: reduce; false no-preference.",
}

// conditionSchema is the JSON Schema of one condition key.
func conditionSchema(key string) obj {
	var s obj
	switch key {
	case "locale":
		s = obj{"type": "string", "examples": []string{"de-DE", "en-GB", "fr"}}
	case "timezone":
		s = obj{"type": "string", "examples": []string{"Europe/Berlin", "America/New_York", "UTC"}}
	case "geolocation":
		s = obj{"type": "object", "required": []string{"latitude", "longitude"}, "additionalProperties": false,
			"properties": obj{
				"latitude":  obj{"type": "number", "minimum": -90, "maximum": 90},
				"longitude": obj{"type": "number", "minimum": -180, "maximum": 180},
				"accuracy":  obj{"type": "number", "minimum": 0, "default": DefaultGeoAccuracy},
			}}
	case "permissions":
		s = obj{"type": "array", "uniqueItems": true, "items": obj{"enum": PermissionNames}}
	case "color_scheme":
		s = obj{"enum": ColorSchemes}
	case "reduced_motion":
		s = obj{"type": "boolean"}
	default:
		panic("condition key without a schema: " + key)
	}
	s["description"] = conditionDocs[key]
	return s
}

// conditionFlowKey is the flow key of one condition, for flowKeySpecs.
func conditionFlowKey(key string) flowKeySpec {
	return flowKeySpec{
		name:   key,
		doc:    conditionDocs[key] + " A custom device's own value wins.",
		schema: func() obj { s := conditionSchema(key); delete(s, "description"); return s },
		stage:  stageSettings,
		decode: func(p *parser, v *yaml.Node, f *Flow) { p.condition(key, v, &f.Conditions) },
	}
}

// condition decodes the value of one condition key into c, reporting a bad
// value at its position.
func (p *parser) condition(key string, v *yaml.Node, c *Conditions) bool {
	switch key {
	case "locale":
		s, ok := p.str(v, "locale")
		if !ok {
			return false
		}
		tag, err := language.Parse(s)
		if base, _ := tag.Base(); err == nil && base.String() == "und" {
			// Well-formed but no language ("und", "x-private"): Chrome
			// would refuse it when the run starts.
			err = errors.New("no language")
		}
		if err != nil || strings.ContainsAny(s, " _") {
			p.errorf(v, "locale %q is not a BCP 47 language tag; write it like de-DE, en-GB or fr", clip(s))
			return false
		}
		c.Locale = tag.String()
	case "timezone":
		s, ok := p.str(v, "timezone")
		if !ok {
			return false
		}
		// LoadLocation also takes "" and "Local", which say nothing
		// about the user, and a path-like name it would read from disk.
		if _, err := time.LoadLocation(s); err != nil || s == "" || s == "Local" || strings.Contains(s, "..") {
			p.errorf(v, "unknown time zone %q; use an IANA id such as Europe/Berlin, America/New_York or UTC", clip(s))
			return false
		}
		c.Timezone = s
	case "geolocation":
		g, ok := p.geolocation(v)
		if !ok {
			return false
		}
		c.Geolocation = g
	case "permissions":
		items, ok := p.stringList(v, "permissions")
		if !ok {
			return false
		}
		granted := []string{}
		good := true
		for _, it := range items {
			name := it.Value
			switch {
			case !slices.Contains(PermissionNames, name):
				p.errorf(it, "unknown permission %q%s; allowed: %s", clip(name), didYouMean(name, PermissionNames), strings.Join(PermissionNames, ", "))
				good = false
			case slices.Contains(granted, name):
				p.errorf(it, "permission %q is listed twice", name)
				good = false
			default:
				granted = append(granted, name)
			}
		}
		if !good {
			return false
		}
		c.Permissions = granted
	case "color_scheme":
		s, ok := p.scalar(v, "color_scheme")
		if !ok {
			return false
		}
		if !slices.Contains(ColorSchemes, s) {
			p.errorf(v, "color_scheme %q must be light or dark", clip(s))
			return false
		}
		c.ColorScheme = s
	case "reduced_motion":
		b, ok := p.boolean(v, "reduced_motion")
		if !ok {
			return false
		}
		c.ReducedMotion = &b
	}
	return true
}

var geolocationKeys = []string{"latitude", "longitude", "accuracy"}

func (p *parser) geolocation(n *yaml.Node) (*Geolocation, bool) {
	pairs, ok := p.mapping(n, "geolocation", geolocationKeys)
	if !ok {
		return nil, false
	}
	g := &Geolocation{Accuracy: DefaultGeoAccuracy}
	good := true
	have := map[string]bool{}
	for _, kv := range pairs {
		k := kv.key.Value
		have[k] = true
		s, ok := p.str(kv.value, k)
		if !ok {
			good = false
			continue
		}
		x, err := strconv.ParseFloat(s, 64)
		var lo, hi float64
		switch k {
		case "latitude":
			lo, hi, g.Latitude = -90, 90, x
		case "longitude":
			lo, hi, g.Longitude = -180, 180, x
		case "accuracy":
			lo, hi, g.Accuracy = 0, math.MaxFloat64, x
		}
		if err != nil || !(x >= lo && x <= hi) { // written so that NaN fails
			if k == "accuracy" {
				p.errorf(kv.value, "accuracy %q must be a number of metres, 0 or more", clip(s))
			} else {
				p.errorf(kv.value, "%s %q must be a number of degrees from %v to %v", k, clip(s), lo, hi)
			}
			good = false
		}
	}
	var missing []string
	for _, k := range geolocationKeys[:2] {
		if !have[k] {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		p.errorf(n, "geolocation is missing %s; write it like {latitude: 52.52, longitude: 13.405}", strings.Join(missing, " and "))
		return nil, false
	}
	return g, good
}
