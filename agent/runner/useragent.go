package runner

import (
	"regexp"
	"strings"

	"github.com/chromedp/cdproto/emulation"

	"github.com/uxprobe/uxprobe/scenarios"
)

// chromeToken is the Chrome version in a user agent string; it does not
// match "HeadlessChrome/" or iOS's "CriOS/".
var chromeToken = regexp.MustCompile(`\bChrome/[0-9][0-9.]*`)

// androidToken finds the Android version and model a preset's user agent
// names, as in "(Linux; Android 11; Pixel 5)".
var androidToken = regexp.MustCompile(`\(Linux; Android ([0-9.]+); ([^;)]+)\)`)

// userAgentOverride is the user agent a run sends on device d. Presets were
// written for the Chrome of their day (chromedp's Pixel 5 says Chrome/99):
// a site that reads the user agent must see the browser that really runs,
// so a preset keeps its model and OS and carries the running Chrome's major
// version, reduced to "N.0.0.0" as Chrome's own user agent is. Android
// presets also get the matching client hints (navigator.userAgentData,
// Sec-CH-UA-*), which Chrome sends only when the override gives them. A user
// agent the flow file sets is sent as written. Nil: keep Chrome's own.
func userAgentOverride(d scenarios.Device, chromeVersion string) *emulation.SetUserAgentOverrideParams {
	if d.UserAgent == "" {
		return nil
	}
	major, _, _ := strings.Cut(chromeVersion, ".")
	if !d.PresetUserAgent || major == "" || !chromeToken.MatchString(d.UserAgent) {
		return &emulation.SetUserAgentOverrideParams{UserAgent: d.UserAgent}
	}
	ua := chromeToken.ReplaceAllString(d.UserAgent, "Chrome/"+major+".0.0.0")
	p := &emulation.SetUserAgentOverrideParams{UserAgent: ua}
	if m := androidToken.FindStringSubmatch(ua); m != nil {
		brands := []*emulation.UserAgentBrandVersion{{Brand: "Chromium", Version: major}, {Brand: "Not_A Brand", Version: "24"}}
		full := []*emulation.UserAgentBrandVersion{{Brand: "Chromium", Version: chromeVersion}, {Brand: "Not_A Brand", Version: "24.0.0.0"}}
		p.Platform = "Linux armv8l"
		p.UserAgentMetadata = &emulation.UserAgentMetadata{
			Brands: brands, FullVersionList: full,
			Platform: "Android", PlatformVersion: m[1], Model: m[2], Mobile: d.Mobile,
		}
	}
	return p
}
