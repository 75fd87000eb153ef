package statuspage

import (
	"bytes"
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

// visualPageFlow looks at a failed visual check: on the flow page, under
// the phone, and on the run page, baseline, actual and diff sit side by
// side, each scaled to a third of its column; the run page's button makes
// the run's picture the baseline and comes back saying so.
const visualPageFlow = `
name: visualpage
devices: [desktop, mobile]
steps:
  - goto: ${base}/flows/look
  - name: the three pictures side by side under the phone
    eval: ${sideBySide}
  - assert_visible: "section[aria-labelledby=dev-mobile] section.visual img[alt=diff]"
  - name: scroll to the pictures
    eval: "(document.querySelector('section.visual').scrollIntoView({block: 'start'}), true)"
  - screenshot: flow
  - name: open the failed run
    click: "section[aria-labelledby=dev-mobile] p.muted a"
  - assert_url: /runs/r-look-mobile-visual
  - name: side by side on the run page
    eval: ${sideBySide}
  - name: scroll to the pictures of the run
    eval: "(document.querySelector('section.visual').scrollIntoView({block: 'start'}), true)"
  - screenshot: run
  - name: accept the new picture
    click: "text=Accept as baseline"
  - name: back on the run page, accepted
    assert_text: {selector: "section.visual", contains: "accepted as the baseline of banner"}
  - assert_url: /runs/r-look-mobile-visual
  - name: scroll to the pictures accepted
    eval: "(document.querySelector('section.visual').scrollIntoView({block: 'start'}), true)"
  - screenshot: accepted
`

// sideBySide loads the pictures of every failed visual check on the page,
// then holds when there is one and in each, baseline, actual and diff have
// loaded (the API serves them as pictures), sit on one line left to right,
// each at most a third of its section wide and within the window's
// height, and nothing overflows sideways.
const sideBySide = `(async () => {
  const secs = [...document.querySelectorAll('section.visual')];
  if (secs.length === 0) return false;
  for (const s of secs) {
    const imgs = [...s.querySelectorAll('img')];
    if (imgs.length !== 3 || imgs.map(i => i.alt).join() !== 'baseline,actual,diff') return false;
    for (const i of imgs) { i.loading = 'eager'; await i.decode().catch(() => {}); }
    if (imgs.some(i => i.naturalWidth !== 590)) return false;
    const r = imgs.map(i => i.getBoundingClientRect());
    if (Math.abs(r[0].top - r[1].top) > 1 || Math.abs(r[1].top - r[2].top) > 1) return false;
    if (!(r[0].right <= r[1].left && r[1].right <= r[2].left)) return false;
    if (r.some(b => b.width > s.clientWidth / 3 || b.height > innerHeight)) return false;
  }
  window.scrollTo(0, 0);
  return document.documentElement.scrollWidth <= window.innerWidth;
})()`

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
	visualStore, actual := newVisualStore(t)
	filmStore := newFilmstripStore(t, b)
	baselines := t.TempDir()
	accepted := filepath.Join(baselines, "look", "mobile", "banner.png")
	for _, setup := range []struct {
		name, flow, refPrefix string
		opts                  Options
		refs                  []string
		// before and after each device's run
		before, after func(t *testing.T)
	}{
		{name: "one location", flow: pageFlow, refPrefix: "chrome-", opts: Options{Store: newStore(t)}, refs: []string{"overview", "flow", "flow-failure", "flow-a11y"}},
		{name: "fleet", flow: fleetPageFlow, refPrefix: "chrome-fleet-", opts: Options{Store: newFleetStore(t)}, refs: []string{"overview", "flow"}},
		{name: "visual", flow: visualPageFlow, refPrefix: "chrome-visual-", opts: Options{Store: visualStore, Baselines: baselines}, refs: []string{"flow", "run", "accepted"},
			before: func(t *testing.T) {
				if err := os.RemoveAll(filepath.Join(baselines, "look")); err != nil {
					t.Fatal(err)
				}
			},
			after: func(t *testing.T) {
				data, err := os.ReadFile(accepted)
				if err != nil {
					t.Fatalf("the button wrote no baseline: %v", err)
				}
				if !bytes.Equal(data, actual) {
					t.Errorf("the baseline is not the run's actual picture")
				}
			}},
		{name: "filmstrip", flow: filmstripPageFlow(t, filmStore), refPrefix: "chrome-filmstrip-", opts: Options{Store: filmStore}, refs: []string{"run"}},
	} {
		t.Run(setup.name, func(t *testing.T) {
			testPageFlow(t, b, setup.opts, setup.flow, setup.refPrefix, setup.refs, setup.before, setup.after)
		})
	}
}

func testPageFlow(t *testing.T, b *browser.Browser, opts Options, flow, refPrefix string, refs []string, before, after func(*testing.T)) {
	opts.Now = func() time.Time { return now }
	opts.Flows = func() []*scenarios.Flow { return flows(t) }
	srv := httptest.NewServer(New(opts))
	defer srv.Close()
	fl, err := scenarios.Parse("statuspage.yaml", []byte(flow), scenarios.LoadOptions{Vars: map[string]string{"base": srv.URL, "picturesFit": picturesFit, "sideBySide": sideBySide}})
	if err != nil {
		t.Fatal(err)
	}
	artifacts := t.TempDir()
	r := &runner.Runner{Browser: b, ArtifactsDir: artifacts}
	for _, d := range fl[0].Devices {
		t.Run(d.Name, func(t *testing.T) {
			if before != nil {
				before(t)
			}
			res := r.Run(context.Background(), fl[0], d)
			if !res.Success {
				t.Fatalf("the status page failed its own flow on %s: %+v", d.Name, res.Error)
			}
			if len(res.ConsoleErrors) > 0 || len(res.FailedRequests) > 0 {
				t.Errorf("console errors %q, failed requests %+v", res.ConsoleErrors, res.FailedRequests)
			}
			if after != nil {
				after(t)
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
