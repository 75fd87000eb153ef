package scenarios

import (
	"sort"
	"strings"

	"github.com/chromedp/chromedp/device"
)

// DeviceClass groups devices for `only:` and for comparing experiences.
type DeviceClass string

// The device classes.
const (
	ClassDesktop DeviceClass = "desktop"
	ClassMobile  DeviceClass = "mobile"
	ClassTablet  DeviceClass = "tablet"
)

// Device is a resolved emulation target.
type Device struct {
	Name      string
	Class     DeviceClass
	Width     int64
	Height    int64
	Scale     float64
	Mobile    bool
	Touch     bool
	UserAgent string // empty: the browser's own user agent
	// PresetUserAgent says UserAgent comes from a chromedp preset, written
	// for the Chrome of its day: the runner gives it the running Chrome's
	// version. A user agent from the flow file is sent as written.
	PresetUserAgent bool
	// Conditions are the device's own locale, time zone and the like
	// (conditions.go); a key set here wins over the flow's.
	Conditions Conditions
}

// Matches reports whether name names the device, by its name or its class,
// in any case. It is the one rule of `only:`, `uxprobe check --device` and
// the loader's check of `only:`.
func (d Device) Matches(name string) bool {
	return strings.EqualFold(name, d.Name) || strings.EqualFold(name, string(d.Class))
}

// Presets chosen for the device aliases. Pixel 5 stands for phones because it
// runs Chrome, the engine we drive, at a common 393 px width; iPad Mini for
// tablets because 768 px is the usual tablet breakpoint.
var (
	mobileAlias = device.Pixel5
	tabletAlias = device.IPadMini
)

// deviceTable maps lower-case names to devices: our aliases plus every preset
// of chromedp/device under the name Chrome DevTools gives it.
var deviceTable = buildDeviceTable()

func buildDeviceTable() map[string]Device {
	t := map[string]Device{
		"desktop":    {Name: "desktop", Class: ClassDesktop, Width: 1366, Height: 768, Scale: 1},
		"desktop-hd": {Name: "desktop-hd", Class: ClassDesktop, Width: 1920, Height: 1080, Scale: 1},
	}
	for _, info := range presets(device.MotoG4landscape) {
		d := fromPreset(info)
		t[strings.ToLower(d.Name)] = d
	}
	m := fromPreset(mobileAlias.Device())
	m.Name = "mobile"
	t["mobile"] = m
	tab := fromPreset(tabletAlias.Device())
	tab.Name = "tablet"
	t["tablet"] = tab
	return t
}

// presets lists the devices of chromedp/device. The package has no list, only
// an enumeration of unexported type up to last, so walk it by value.
func presets[T interface {
	~int
	Device() device.Info
}](last T) []device.Info {
	var out []device.Info
	for i := T(1); i <= last; i++ { // 0 is device.Reset, not a device
		out = append(out, i.Device())
	}
	return out
}

func fromPreset(info device.Info) Device {
	d := Device{
		Name:      info.Name,
		Width:     info.Width,
		Height:    info.Height,
		Scale:     info.Scale,
		Mobile:    info.Mobile,
		Touch:     info.Touch,
		UserAgent: info.UserAgent,
	}
	d.PresetUserAgent = d.UserAgent != ""
	d.Class = classOf(d)
	return d
}

// classOf derives a class from the viewport: a mobile device whose short side
// is 600 CSS px or more is a tablet, the common responsive breakpoint.
func classOf(d Device) DeviceClass {
	if !d.Mobile {
		return ClassDesktop
	}
	if min(d.Width, d.Height) >= 600 {
		return ClassTablet
	}
	return ClassMobile
}

// LookupDevice finds a device by alias or preset name, case-insensitively.
func LookupDevice(name string) (Device, bool) {
	d, ok := deviceTable[strings.ToLower(strings.TrimSpace(name))]
	return d, ok
}

// DeviceNames lists every known device name, sorted.
func DeviceNames() []string {
	names := make([]string, 0, len(deviceTable))
	for _, d := range deviceTable {
		names = append(names, d.Name)
	}
	sort.Strings(names)
	return names
}
