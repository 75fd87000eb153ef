package runner

import (
	"context"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"golang.org/x/sync/errgroup"

	"github.com/uxprobe/uxprobe/scenarios"
)

// The user's conditions (scenarios/conditions.go) in Chrome. Language, time
// zone, position and media features are a tab's, so setup applies them to
// every tab of a run, pop-ups too; permissions are the browser context's,
// granted once when the run's tab opens.

// conditionCalls are the commands that emulate c on the tab t, for setup
// to send along with the rest: each is independent of the others.
func conditionCalls(ctx context.Context, t cdp.Session, c scenarios.Conditions) []func() error {
	var calls []func() error
	if c.Locale != "" {
		// Intl's default locale; navigator.language and Accept-Language
		// come with the user agent override (withAcceptLanguage).
		calls = append(calls, func() error {
			_, err := cdp.Call(ctx, t, emulation.SetLocaleOverride, emulation.SetLocaleOverrideParams{Locale: c.Locale})
			return err
		})
	}
	if c.Timezone != "" {
		calls = append(calls, func() error {
			_, err := cdp.Call(ctx, t, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: c.Timezone})
			return err
		})
	}
	if g := c.Geolocation; g != nil {
		calls = append(calls, func() error {
			_, err := cdp.Call(ctx, t, emulation.SetGeolocationOverride, emulation.SetGeolocationOverrideParams{
				Latitude: &g.Latitude, Longitude: &g.Longitude, Accuracy: &g.Accuracy,
			})
			return err
		})
	}
	if features := mediaFeatures(c); len(features) > 0 {
		calls = append(calls, func() error {
			_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: features})
			return err
		})
	}
	return calls
}

// mediaFeatures are the media queries c answers.
func mediaFeatures(c scenarios.Conditions) []*emulation.MediaFeature {
	var out []*emulation.MediaFeature
	if c.ColorScheme != "" {
		out = append(out, &emulation.MediaFeature{Name: "prefers-color-scheme", Value: c.ColorScheme})
	}
	if c.ReducedMotion != nil {
		v := "no-preference"
		if *c.ReducedMotion {
			v = "reduce"
		}
		out = append(out, &emulation.MediaFeature{Name: "prefers-reduced-motion", Value: v})
	}
	return out
}

// withAcceptLanguage adds the locale to the user agent override ua (nil:
// none yet), which is where Chrome takes navigator.language and the
// Accept-Language header from. An empty user agent keeps Chrome's own.
func withAcceptLanguage(ua *emulation.SetUserAgentOverrideParams, locale string) *emulation.SetUserAgentOverrideParams {
	if locale == "" {
		return ua
	}
	if ua == nil {
		ua = &emulation.SetUserAgentOverrideParams{}
	}
	ua.AcceptLanguage = locale
	return ua
}

// grantPermissions grants the run's permissions to every origin in the
// browser context of tab, so that the page's request resolves without a
// prompt. Nothing to grant leaves Chrome's defaults: headless denies. The
// names of `permissions:` are the Permissions API's, which setPermission
// takes as they are.
func grantPermissions(ctx context.Context, tab context.Context, c scenarios.Conditions) error {
	cc := chromedp.FromContext(tab)
	g, ctx := errgroup.WithContext(ctx)
	for _, name := range c.Granted() {
		g.Go(func() error {
			_, err := cdp.Call(ctx, cc.Browser, browser.SetPermission, browser.SetPermissionParams{
				Permission: &browser.PermissionDescriptor{Name: name}, Setting: browser.PermissionSettingGranted,
				BrowserContextID: cc.BrowserContextID,
			})
			return err
		})
	}
	return g.Wait()
}
