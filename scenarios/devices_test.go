package scenarios

import (
	"reflect"
	"strings"
	"testing"

	"github.com/chromedp/chromedp/device"
)

func TestDeviceNamesResolve(t *testing.T) {
	names := DeviceNames()
	if len(names) < 50 {
		t.Fatalf("only %d device names; the chromedp presets are missing", len(names))
	}
	for _, name := range names {
		for _, spelling := range []string{name, strings.ToLower(name), strings.ToUpper(name), "  " + name + " "} {
			d, ok := LookupDevice(spelling)
			if !ok {
				t.Errorf("LookupDevice(%q) found nothing, but %q is in DeviceNames", spelling, name)
				continue
			}
			if d.Name != name {
				t.Errorf("LookupDevice(%q).Name = %q, want %q", spelling, d.Name, name)
			}
		}
	}
	if _, ok := LookupDevice("toaster"); ok {
		t.Error("LookupDevice found an unknown device")
	}
	if _, ok := LookupDevice(""); ok {
		t.Error("LookupDevice found the empty name (the Reset preset has it)")
	}
}

func TestDeviceAliases(t *testing.T) {
	tests := []struct {
		name          string
		class         DeviceClass
		width, height int64
		mobile, touch bool
	}{
		{"desktop", ClassDesktop, 1366, 768, false, false},
		{"desktop-hd", ClassDesktop, 1920, 1080, false, false},
		{"mobile", ClassMobile, 393, 851, true, true},  // Pixel 5
		{"tablet", ClassTablet, 768, 1024, true, true}, // iPad Mini
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := LookupDevice(tt.name)
			if !ok {
				t.Fatal("not found")
			}
			if d.Name != tt.name || d.Class != tt.class || d.Width != tt.width || d.Height != tt.height || d.Mobile != tt.mobile || d.Touch != tt.touch {
				t.Errorf("got %+v", d)
			}
			if d.Scale <= 0 {
				t.Errorf("scale %v", d.Scale)
			}
			if d.Class == ClassDesktop && d.UserAgent != "" {
				t.Errorf("desktop aliases keep the browser's own user agent, got %q", d.UserAgent)
			}
		})
	}
	// The phone and tablet aliases are copies of their presets under
	// another name, user agent included.
	for alias, preset := range map[string]string{"mobile": "Pixel 5", "tablet": "iPad Mini"} {
		a, _ := LookupDevice(alias)
		p, ok := LookupDevice(preset)
		if !ok {
			t.Fatalf("preset %q not found", preset)
		}
		a.Name = p.Name
		if !reflect.DeepEqual(a, p) {
			t.Errorf("%s = %+v, want the %s preset %+v", alias, a, preset, p)
		}
	}
}

func TestPresetWalk(t *testing.T) {
	all := presets(device.MotoG4landscape)
	if len(all) == 0 {
		t.Fatal("no presets")
	}
	if first := all[0]; first.Name == "" {
		t.Error("the walk includes device.Reset, which is not a device")
	}
	if last := all[len(all)-1]; last.Name != "Moto G4 landscape" {
		t.Errorf("last preset %q, want Moto G4 landscape", last.Name)
	}
	// MotoG4landscape must be the last preset of chromedp/device: if an
	// upgrade adds presets after it, Device() on the next value no longer
	// panics and this fails, so the walk's end is moved.
	func() {
		defer func() { _ = recover() }()
		if next := (device.MotoG4landscape + 1).Device(); next.Name != "" {
			t.Errorf("chromedp/device has a preset after Moto G4 landscape: %q; walk up to the new last one", next.Name)
		}
	}()
	for _, info := range all {
		d, ok := LookupDevice(info.Name)
		if !ok {
			t.Errorf("preset %q does not resolve", info.Name)
			continue
		}
		if d.Name != info.Name || d.Width != info.Width || d.Height != info.Height || d.Scale != info.Scale || d.Mobile != info.Mobile || d.Touch != info.Touch || d.UserAgent != info.UserAgent {
			t.Errorf("preset %q resolves to %+v, want %+v", info.Name, d, info)
		}
	}
	// Every preset plus the four aliases, with no name lost to a clash.
	if got, want := len(DeviceNames()), len(all)+4; got != want {
		t.Errorf("%d device names, want %d presets + 4 aliases", got, want)
	}
}

func TestDeviceClass(t *testing.T) {
	tests := []struct {
		name string
		want DeviceClass
	}{
		{"iPad Mini", ClassTablet},
		{"iPad Pro", ClassTablet},
		{"iPhone 15", ClassMobile},
		{"iPhone SE", ClassMobile},
		{"Pixel 5", ClassMobile},
		{"Moto G4 landscape", ClassMobile}, // 640x360: the short side decides
		{"Blackberry PlayBook", ClassTablet},
		{"desktop-hd", ClassDesktop},
	}
	for _, tt := range tests {
		d, ok := LookupDevice(tt.name)
		if !ok {
			t.Errorf("%q not found", tt.name)
			continue
		}
		if d.Class != tt.want {
			t.Errorf("%s (%dx%d, mobile=%v) is %s, want %s", tt.name, d.Width, d.Height, d.Mobile, d.Class, tt.want)
		}
	}
	for _, name := range DeviceNames() {
		d, _ := LookupDevice(name)
		if strings.HasPrefix(name, "iPhone") && d.Class != ClassMobile {
			t.Errorf("%s is %s, want mobile", name, d.Class)
		}
		if strings.HasPrefix(name, "iPad") && d.Class != ClassTablet {
			t.Errorf("%s is %s, want tablet", name, d.Class)
		}
	}
	custom := []struct {
		d    Device
		want DeviceClass
	}{
		{Device{Width: 1080, Height: 1920, Mobile: false}, ClassDesktop},
		{Device{Width: 599, Height: 900, Mobile: true}, ClassMobile},
		{Device{Width: 900, Height: 600, Mobile: true}, ClassTablet},
	}
	for _, c := range custom {
		if got := classOf(c.d); got != c.want {
			t.Errorf("classOf(%+v) = %s, want %s", c.d, got, c.want)
		}
	}
}
