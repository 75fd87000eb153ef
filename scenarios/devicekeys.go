package scenarios

import (
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Limits of a custom device, enforced by the loader and stated by the JSON
// Schema.
const (
	// MinDeviceSize and MaxDeviceSize bound the width and height of a custom
	// device in CSS pixels: smaller is no real screen, larger would make
	// screenshots of hundreds of megabytes.
	MinDeviceSize = 100
	MaxDeviceSize = 10000
	// MaxDeviceScale bounds the device pixel ratio of a custom device; the
	// sharpest phones have 4, and screenshots grow with its square.
	MaxDeviceScale = 5
)

var customDeviceKeys = append([]string{"name", "width", "height", "scale", "mobile", "touch", "user_agent"}, conditionKeys...)

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
			if _, known := LookupDevice(s); ok && !nameRe.MatchString(s) && !known { // a known name may carry conditions
				p.errorf(kv.value, "device name %q must use only a-z, 0-9, _ and -, because it becomes a metric label", clip(s))
				ok = false
			}
			d.Name, good = s, good && ok
		case "width", "height":
			s, ok := p.scalar(kv.value, kv.key.Value)
			v, err := strconv.ParseInt(s, 10, 64)
			if ok && (err != nil || v < MinDeviceSize || v > MaxDeviceSize) {
				p.errorf(kv.value, "%s %q must be a whole number of CSS pixels from %d to %d", kv.key.Value, clip(s), MinDeviceSize, MaxDeviceSize)
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
			if ok && (err != nil || !(v > 0 && v <= MaxDeviceScale)) { // written so that NaN fails
				p.errorf(kv.value, "scale %q must be a number above 0 and at most %d", clip(s), MaxDeviceScale)
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
		default: // conditions.go
			good = p.condition(kv.key.Value, kv.value, &d.Conditions) && good
		}
	}
	if known, ok := presetWithConditions(d, have); ok {
		return known, good
	}
	var missing []string
	for _, k := range []string{"name", "width", "height"} {
		if !have[k] {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		p.errorf(n, "custom device is missing %s; a custom device needs name, width and height (scale, mobile, touch, user_agent and the conditions %s are optional), or the name of a known device with conditions only", strings.Join(missing, ", "), strings.Join(conditionKeys, ", "))
		return Device{}, false
	}
	if _, clash := LookupDevice(d.Name); clash && good {
		p.errorf(n, "custom device name %q is already a known device; choose another name", d.Name)
		return Device{}, false
	}
	d.Class = classOf(d)
	return d, good
}

// presetWithConditions reads {name: mobile, color_scheme: dark}, a known
// device with conditions of its own and nothing else, as that device with
// them: a phone in dark mode needs no copy of the phone's sizes.
func presetWithConditions(d Device, have map[string]bool) (Device, bool) {
	known, ok := LookupDevice(d.Name)
	if !ok {
		return Device{}, false
	}
	for k := range have {
		if k != "name" && !slices.Contains(conditionKeys, k) {
			return Device{}, false
		}
	}
	known.Conditions = d.Conditions
	return known, true
}
