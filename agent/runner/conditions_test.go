package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/uxprobe/uxprobe/agent/demoshop"
	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// conditionsPage prints what a page can learn of its user's conditions:
// the language (the page's and the header the server received), the time
// zone and a date in the default locale, the position, the permissions and
// the media features.
const conditionsPage = `<!doctype html><link rel="icon" href="data:,"><title>conditions</title>
<p>Accept-Language: <b id="al">%s</b></p>
<p id="lang"></p><p id="tz"></p><p id="date"></p><p id="geo">waiting</p>
<p><a id="popup" href="/popup" target="_blank">open in a new tab</a></p>
<p id="dark"></p><p id="motion"></p><p id="notif"></p><p id="camera"></p>
<script>
const put = (id, v) => { document.getElementById(id).textContent = String(v); };
put('lang', navigator.language);
put('tz', Intl.DateTimeFormat().resolvedOptions().timeZone);
put('date', new Date(Date.UTC(2026, 0, 15, 12, 0, 0)).toLocaleString());
put('dark', matchMedia('(prefers-color-scheme: dark)').matches);
put('motion', matchMedia('(prefers-reduced-motion: reduce)').matches);
navigator.geolocation.getCurrentPosition(
  p => put('geo', p.coords.latitude + ',' + p.coords.longitude + ',' + p.coords.accuracy),
  e => put('geo', 'error ' + e.code));
navigator.permissions.query({name: 'notifications'}).then(s => put('notif', s.state));
navigator.permissions.query({name: 'camera'}).then(s => put('camera', s.state));
</script>`

// TestUserConditions runs flows with the user's conditions in Chrome, on a
// desktop and on a phone whose own keys win over the flow's, and asserts in
// the page what it printed; a flow without them shows Chrome's defaults,
// so each assertion can fail.
func TestUserConditions(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, conditionsPage, html.EscapeString(r.Header.Get("Accept-Language")))
	}))
	t.Cleanup(srv.Close)

	const flowKeys = `locale: de-DE
timezone: Europe/Berlin
geolocation: {latitude: 52.52, longitude: 13.405, accuracy: 25}
permissions: [notifications]
color_scheme: dark
reduced_motion: true
`
	tests := []struct {
		name, keys, device string
		want               map[string]string // element id: a regexp its text matches
		popup              bool              // assert in a pop-up the page opens
	}{
		{"flow keys on desktop", flowKeys, "desktop", map[string]string{
			"al": `^de-DE(,|$)`, "lang": `^de-DE$`, "tz": `^Europe/Berlin$`,
			"date": `^15\.1\.2026, 13:00:00$`, // German order, Berlin's winter time
			"geo":  `^52\.52,13\.405,25$`, "dark": `^true$`, "motion": `^true$`,
			"notif": `^granted$`, "camera": `^(denied|prompt)$`,
		}, false},
		{"flow keys on a phone", flowKeys, "mobile", map[string]string{
			"al": `^de-DE(,|$)`, "lang": `^de-DE$`, "tz": `^Europe/Berlin$`,
			"geo": `^52\.52,13\.405,25$`, "dark": `^true$`, "motion": `^true$`, "notif": `^granted$`,
		}, false},
		{"the phone's own keys win", flowKeys,
			`{name: mobile, locale: fr-FR, timezone: America/New_York, geolocation: {latitude: -33.86, longitude: 151.2}, permissions: [camera], color_scheme: light, reduced_motion: false}`,
			map[string]string{
				"al": `^fr-FR(,|$)`, "lang": `^fr-FR$`, "tz": `^America/New_York$`,
				"date": `^15/01/2026 07:00:00$`, // French order, New York's time
				"geo":  `^-33\.86,151\.2,10$`, "dark": `^false$`, "motion": `^false$`,
				"notif": `^(denied|prompt)$`, "camera": `^granted$`,
			}, false},
		{"a custom device's keys over none", "",
			`{name: kiosk, width: 800, height: 600, locale: ja-JP, timezone: Asia/Tokyo, color_scheme: dark}`,
			map[string]string{"al": `^ja-JP(,|$)`, "lang": `^ja-JP$`, "tz": `^Asia/Tokyo$`, "dark": `^true$`, "geo": `^error 1$`},
			false,
		},
		{"in a pop-up", flowKeys, "mobile", map[string]string{
			"al": `^de-DE(,|$)`, "lang": `^de-DE$`, "tz": `^Europe/Berlin$`,
			"geo": `^52\.52,13\.405,25$`, "dark": `^true$`, "motion": `^true$`, "notif": `^granted$`,
		}, true},
		{"no conditions: Chrome's own", "", "desktop", map[string]string{
			"al": `^(en-US|$)`, "tz": `^[A-Za-z_/]+$`, "geo": `^error 1$`, "dark": `^false$`, "motion": `^false$`,
			"notif": `^(denied|prompt)$`, "camera": `^(denied|prompt)$`,
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids := make([]string, 0, len(tt.want))
			for id := range tt.want {
				ids = append(ids, id)
			}
			sort.Strings(ids)
			var steps strings.Builder
			fmt.Fprintf(&steps, "  - goto: %s/\n", srv.URL)
			if tt.popup {
				// The pop-up's first document loads before the run takes the
				// tab over: what it read as it loaded is Chrome's own, but
				// it answers with the run's conditions from then on, and
				// its next document has them all.
				steps.WriteString("  - click: \"#popup\"\n  - assert_url: /popup\n" +
					"  - eval: \"matchMedia('(prefers-color-scheme: dark)').matches && matchMedia('(prefers-reduced-motion: reduce)').matches && " +
					"Intl.DateTimeFormat().resolvedOptions().timeZone === 'Europe/Berlin' && navigator.language === 'de-DE'\"\n" +
					"  - goto: " + srv.URL + "/popup?again\n")
			}
			steps.WriteString("  - assert_text: {selector: \"#geo\", matches: \"^[^w]\"}\n")
			for _, id := range ids {
				fmt.Fprintf(&steps, "  - assert_text: {selector: \"#%s\", matches: %q}\n", id, tt.want[id])
			}
			f := mustFlow(t, "name: conditions\n"+tt.keys+"devices: ["+tt.device+"]\nsteps:\n"+steps.String())
			res := (&Runner{Browser: testBrowser}).Run(context.Background(), f, f.Devices[0])
			if !res.Success {
				t.Fatalf("%s: %+v\npage: %s", failedStep(res), res.Error, pageText(t, srv.URL, tt.keys, tt.device))
			}
			// The result records what was emulated, the device's keys won.
			if lang, ok := tt.want["lang"]; ok {
				if res.Conditions == nil || !regexp.MustCompile(lang).MatchString(res.Conditions.Locale) {
					t.Errorf("result conditions = %+v, want locale matching %s", res.Conditions, lang)
				}
			} else if tt.keys == "" && res.Conditions != nil {
				t.Errorf("result conditions = %+v for a run that emulated none", res.Conditions)
			}
		})
	}
}

func failedStep(res *result.Result) string {
	for _, s := range res.Steps {
		if !s.Success {
			return s.Name
		}
	}
	return "no step"
}

// pageText runs the flow once more to read what the page printed, for the
// message of a failed test.
func pageText(t *testing.T, u, keys, device string) string {
	f := mustFlow(t, "name: conditions\n"+keys+"devices: ["+device+"]\nsteps:\n  - goto: "+u+"/\n  - sleep: 300ms\n  - eval: \"document.body.innerText\"\n")
	res := (&Runner{Browser: testBrowser}).Run(context.Background(), f, f.Devices[0])
	for _, s := range res.Steps {
		if s.Value != "" {
			return s.Value
		}
	}
	return fmt.Sprintf("%+v", res.Error)
}

// TestDemoLoginOnAGermanPhoneInDarkMode logs in to the demo shop with its
// password and a one-time code, on a phone in de-DE, Europe/Berlin and dark
// mode, as the demo's example flows do: the shop checks the code with its
// own RFC 6238, shows the sign-in time in the user's locale and time zone
// and turns dark.
func TestDemoLoginOnAGermanPhoneInDarkMode(t *testing.T) {
	t.Parallel()
	shop := demoshop.New()
	srv := httptest.NewServer(shop)
	t.Cleanup(srv.Close)
	src := `name: demo-login
locale: de-DE
timezone: Europe/Berlin
color_scheme: dark
devices: [mobile]
vars:
  password: ${env:UXPROBE_DEMO_PASSWORD}
  seed: ${env:UXPROBE_DEMO_TOTP_SEED}
secrets: [password, seed]
steps:
  - goto: ` + srv.URL + `/account
  - fill: {selector: "#email", value: "` + demoshop.DemoEmail + `"}
  - fill: {selector: "#password", value: "${password}"}
  - click: "#sign-in"
  - fill: {selector: "#code", value: "${totp:seed}"}
  - click: "#verify"
  - assert_text: {selector: "#account-name", equals: "` + demoshop.DemoName + `"}
  # German: "07.12.2026, 15:40", not the page's own "7 Dec 2026, 14:40 UTC".
  - assert_text: {selector: "#signed-in-at", matches: '^\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2}$'}
  - eval: "getComputedStyle(document.documentElement).backgroundColor === 'rgb(21, 25, 28)'"
  - eval: "document.getElementById('signed-in-at').textContent === new Date(document.getElementById('signed-in-at').getAttribute('datetime')).toLocaleString('de-DE', {dateStyle: 'medium', timeStyle: 'short', timeZone: 'Europe/Berlin'})"
`
	env := demoshop.DemoEnv(func(string) (string, bool) { return "", false })
	flows, err := scenarios.Parse("demo-login.yaml", []byte(src), scenarios.LoadOptions{LookupEnv: env})
	if err != nil {
		t.Fatal(err)
	}
	f := flows[0]
	res := (&Runner{Browser: testBrowser}).Run(context.Background(), f, f.Devices[0])
	if !res.Success {
		t.Fatalf("%s: %+v", failedStep(res), res.Error)
	}
	if n := shop.Logins(); n != 1 {
		t.Errorf("the shop counted %d logins, want 1", n)
	}
	for ua, n := range shop.LoginsByUserAgent() {
		if !strings.Contains(ua, "Pixel 5") || n != 1 {
			t.Errorf("%d login(s) by %q, want one by the phone", n, ua)
		}
	}
	out, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{demoshop.DemoPassword, demoshop.DemoTOTPSeed} {
		if strings.Contains(string(out), secret) {
			t.Errorf("the result holds a secret of the demo account")
		}
	}
}
