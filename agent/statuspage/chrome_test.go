package statuspage

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/uxprobe/uxprobe/agent/browser"
	"github.com/uxprobe/uxprobe/agent/runner"
	"github.com/uxprobe/uxprobe/scenarios"
)

// pageFlow is what a person does on the status page, as a uxprobe flow: on
// the overview, the failing flow's step and both device columns are
// visible, the first Tab reaches the skip link, and nothing overflows
// sideways; the flow page shows both devices and the failing step, and
// the phone's accessibility findings by impact, worst first. The
// screenshots become the references under testdata/ with -update.
const pageFlow = `
name: statuspage
devices: [desktop, mobile]
steps:
  - goto: ${base}/
  - name: failing step shown
    assert_text: {selector: "tr.failing", contains: "failed at place order (navigation)"}
  - name: device columns shown
    eval: "document.body.innerText.includes('desktop') && document.body.innerText.includes('mobile')"
  - name: no sideways overflow on the overview
    eval: "document.documentElement.scrollWidth <= window.innerWidth"
  - name: keyboard reaches the skip link
    press: Tab
  - eval: "document.activeElement.classList.contains('skip')"
  - screenshot: overview
  - name: open the failing flow
    click: "text=checkout"
  - assert_url: /flows/checkout
  - assert_visible: "#dev-desktop"
  - assert_visible: "#dev-mobile"
  - name: failing step on the flow page
    assert_text: {selector: "section[aria-labelledby=dev-mobile]", contains: "failed at place order"}
  - assert_visible: "img[alt*='last successful run']"
  - name: no sideways overflow on the flow page
    eval: "document.documentElement.scrollWidth <= window.innerWidth"
  - name: the phone's failure screenshot scales to its device column
    eval: ${picturesFit}
  - screenshot: flow
  - name: scroll to the failure screenshot
    eval: "(document.querySelector('img[src*=failure-]').scrollIntoView({block: 'start'}), true)"
  - screenshot: flow-failure
  - name: the phone's accessibility findings, by impact
    assert_text: {selector: "section[aria-labelledby=dev-mobile] section.a11y", contains: "critical · 2 elements"}
  - name: worst first, what axe could not decide apart and last, each with its help link
    eval: "[...document.querySelectorAll('section[aria-labelledby=dev-mobile] h5.impact')].map(h => h.textContent.split(' ')[0]).join() === 'critical,serious,moderate,needs' && document.querySelectorAll('section[aria-labelledby=dev-mobile] section.a11y a[href^=\"https://dequeuniversity.com/rules/axe/\"]').length === 4"
  - name: no accessibility section for the desktop run that did not audit
    eval: "!document.querySelector('section[aria-labelledby=dev-desktop] section.a11y')"
  - name: scroll to the accessibility findings
    eval: "(document.querySelector('section.a11y').scrollIntoView({block: 'start'}), true)"
  - screenshot: flow-a11y
`

// picturesFit loads every picture in the sections a page has (device
// columns, or main), then holds when the phone's failure screenshot (1179
// px wide) is among them and each fits its section's content box and the
// window's height: a phone's picture, 2.2 times as tall as wide, is seen
// whole without scrolling.
// Pictures are lazy: each is loaded first, or an unloaded one would fit
// trivially. Flow variables expand after the YAML is parsed, so the text
// needs no quoting.
const picturesFit = `(async () => {
  const imgs = [...document.querySelectorAll('main img')];
  for (const i of imgs) { i.loading = 'eager'; await i.decode().catch(() => {}); }
  window.scrollTo(0, 0);
  const box = i => { const c = i.closest('section.device') || i.closest('main'); const s = getComputedStyle(c);
    return c.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight); };
  const fits = i => { const r = i.getBoundingClientRect(); return r.width <= box(i) + 0.5 && r.height <= innerHeight; };
  return imgs.some(i => i.naturalWidth === 1179) && imgs.every(fits);
})()`

// fleetPageFlow is pageFlow for a fleet of two locations: the overview has
// a column per device and location and says where checkout fails; the flow
// page puts eu and us side by side; the run page names agent and location.
const fleetPageFlow = `
name: fleetpage
devices: [desktop, mobile]
steps:
  - goto: ${base}/
  - name: where it fails
    assert_text: {selector: "tr.failing", contains: "failing in eu (1 of 2 locations)"}
  - name: a cell per device and location, labelled (a column head on a desktop, a card label on a phone)
    eval: "['desktop · eu', 'desktop · us', 'mobile · eu', 'mobile · us'].every(c => document.querySelector('tr.failing td[data-label=\"' + c + '\"]'))"
  - name: which agent ran it
    assert_text: {selector: "tr.failing", contains: "by eu-2"}
  - name: no sideways overflow on the overview
    eval: "document.documentElement.scrollWidth <= window.innerWidth"
  - screenshot: overview
  - name: open the failing flow
    click: "text=checkout"
  - assert_url: /flows/checkout
  - assert_visible: "#dev-mobile-eu"
  - assert_visible: "#dev-mobile-us"
  - name: eu fails, us works, side by side
    assert_text: {selector: "section[aria-labelledby=dev-mobile-eu]", contains: "failed at place order"}
  - assert_text: {selector: "section[aria-labelledby=dev-mobile-us]", contains: "success"}
  - name: no sideways overflow on the flow page
    eval: "document.documentElement.scrollWidth <= window.innerWidth"
  - name: the failure screenshot scales to its location column
    eval: ${picturesFit}
  - screenshot: flow
  - name: open the failing run
    click: "section[aria-labelledby=dev-mobile-eu] p.muted a"
  - assert_text: {selector: "main", contains: "location eu · agent eu-2"}
  - name: the failure screenshot scales to the run page
    eval: ${picturesFit}
  - name: no sideways overflow on the run page
    eval: "document.documentElement.scrollWidth <= window.innerWidth"
  - screenshot: run
`

func TestStatusPageInChrome(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chrome")
	}
	b, err := browser.Start(browser.Options{NoSandbox: os.Geteuid() == 0})
	if err != nil {
		t.Fatalf("this test needs Chrome: %v", err)
	}
	defer func() {
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	}()
	for _, setup := range []struct {
		name, flow, refPrefix string
		store                 Store
		refs                  []string
	}{
		{"one location", pageFlow, "chrome-", newStore(t), []string{"overview", "flow", "flow-failure", "flow-a11y"}},
		{"fleet", fleetPageFlow, "chrome-fleet-", newFleetStore(t), []string{"overview", "flow"}},
	} {
		t.Run(setup.name, func(t *testing.T) {
			testPageFlow(t, b, setup.store, setup.flow, setup.refPrefix, setup.refs)
		})
	}
}

func testPageFlow(t *testing.T, b *browser.Browser, store Store, flow, refPrefix string, refs []string) {
	srv := httptest.NewServer(New(Options{Store: store, Now: func() time.Time { return now },
		Flows: func() []*scenarios.Flow { return flows(t) }}))
	defer srv.Close()
	fl, err := scenarios.Parse("statuspage.yaml", []byte(flow), scenarios.LoadOptions{Vars: map[string]string{"base": srv.URL, "picturesFit": picturesFit}})
	if err != nil {
		t.Fatal(err)
	}
	artifacts := t.TempDir()
	r := &runner.Runner{Browser: b, ArtifactsDir: artifacts}
	for _, d := range fl[0].Devices {
		t.Run(d.Name, func(t *testing.T) {
			res := r.Run(context.Background(), fl[0], d)
			if !res.Success {
				t.Fatalf("the status page failed its own flow on %s: %+v", d.Name, res.Error)
			}
			if len(res.ConsoleErrors) > 0 || len(res.FailedRequests) > 0 {
				t.Errorf("console errors %q, failed requests %+v", res.ConsoleErrors, res.FailedRequests)
			}
			for _, name := range refs {
				ref := filepath.Join("testdata", refPrefix+name+"-"+d.Name+".png")
				if *update {
					data, err := os.ReadFile(filepath.Join(artifacts, fl[0].Name, d.Name, name+".png"))
					if err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(ref, data, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				// Pixels differ with fonts and Chrome versions: the
				// references are for people, looked at once, not compared.
				if _, err := os.Stat(ref); err != nil {
					t.Errorf("no reference screenshot %s (run with -update and look at it): %v", ref, err)
				}
			}
		})
	}
}
