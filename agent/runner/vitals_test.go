package runner

import (
	"bytes"
	"cmp"
	"context"
	_ "embed"
	"fmt"
	"image"
	"image/png"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// webVitalsJS is Google's web-vitals library (testdata/web-vitals), the
// reference the truth tests hold uxprobe's values against, in the same
// pages.
//
//go:embed testdata/web-vitals/web-vitals.iife.js
var webVitalsJS string

// Tolerances of the truth tests, against what the test server did on
// purpose. They allow for a busy machine's paint, not for a wrong
// definition.
const (
	lcpPaintTolerance = 0.100 // LCP after the frame that follows the image's load event, seconds
	clsTolerance      = 0.005
	// interactionSlack is how much later than the block of its handler, or
	// than the first frame after it when that came later, an interaction
	// may end: the frame's paint, which a shared CPU delays as it delays an
	// image's (lcpPaintTolerance).
	interactionSlack = 0.100 // seconds
	// tapSlack is what a click on a touch device, a tap, may take more:
	// the click comes after touchend, from the tap gesture Chrome derives
	// (measured 32-96 ms against a mouse click's 8-24 ms on a busy machine).
	tapSlack      = 0.100 // seconds
	ttfbTolerance = 0.100 // TTFB beyond the server's delay, seconds
	refTolerance  = 0.001 // uxprobe against web-vitals in the same page, seconds
	// timelineMargin is how long after a late event (a shift, a hero) the
	// page must have been watched for the event to count as seen, and how
	// long before for it to count as unseen; in between the test does not
	// judge. It covers the event's paint and its entry's dispatch.
	timelineMargin = 0.300
)

// truthRun is what the test server saw of one run: when the document and
// the hero were served, and web-vitals' latest report of each metric.
type truthRun struct {
	docAt, imgAt time.Time
	ref          map[string]refReport
}

type refReport struct {
	seq   int
	value float64
}

// truthSite serves the truth pages. Every URL carries ?run=ID, so that
// concurrent runs keep their own truth.
type truthSite struct {
	*httptest.Server
	mu   sync.Mutex
	runs map[string]*truthRun
}

func (s *truthSite) run(id string) *truthRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.runs[id]
	if r == nil {
		r = &truthRun{ref: map[string]refReport{}}
		s.runs[id] = r
	}
	return r
}

// refValue waits, bounded, until web-vitals' beacon for the metric says
// want (within tol), and returns the latest value it reported. The beacon
// of a value observed at the page's last moment can still be on its way
// when the run returns.
func (s *truthSite) refValue(id, name string, want, tol float64) (float64, bool) {
	deadline := time.Now().Add(3 * time.Second)
	for {
		s.mu.Lock()
		rep, ok := s.runs[id].ref[name]
		s.mu.Unlock()
		if (ok && math.Abs(rep.value-want) <= tol) || time.Now().After(deadline) {
			return rep.value, ok
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// heroWindow is where the hero's LCP must be, from the start of the
// navigation: not before the server sent the image (the document's request
// came after the navigation started, so the lower bound is safe), and
// within lcpPaintTolerance of the first frame after the image's load event
// in the page.
func (s *truthSite) heroWindow(id string) (lo, hi float64) {
	frame, ok := s.refValue(id, "heroFrame", -1, math.Inf(1))
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.runs[id]
	lo = r.imgAt.Sub(r.docAt).Seconds()
	if !ok {
		return lo, lo // no frame reported: nothing fits
	}
	return lo, frame/1000 + lcpPaintTolerance
}

// truthPages are the bodies of the truth pages by path; RUN is replaced by
// the run's id.
var truthPages = map[string]string{
	"/text": `<h1 style="font-size:32px;margin:0">A page of text only</h1><p>Nothing else arrives.</p>`,
	"/hero": `<p>small text</p><img id="hero" src="/hero.png?run=RUN" width="400" height="300" style="max-width:100%;height:auto" onload="heroLoaded()">`,
	"/late-hero": `<p>small text</p><div id="slot"></div>
<script>addEventListener('load', () => setTimeout(() => {
  const i = new Image(400, 300); i.id = 'hero'; i.style = 'max-width:100%;height:auto'; i.onload = heroLoaded; i.src = '/late.png?run=RUN';
  document.getElementById('slot').appendChild(i); mark('heroAdded');
}, 800));</script>`,
	"/late-shift": `<div id="slot"></div><div class="b" style="height:384px"></div>
<script>addEventListener('load', () => setTimeout(() => banner('slot', 192), 1500));</script>`,
	"/two-windows": `<div id="s1"></div><div id="s2"></div><div class="b" style="height:300px"></div>
<script>addEventListener('load', () => { setTimeout(() => banner('s1', 40), 1000); setTimeout(() => banner('s2', 100), 2300); });</script>`,
	// The shift comes about 200 ms after the document starts, before the
	// load event, which a slow small image holds back: under mobile
	// emulation Chrome flags such a shift hadRecentInput although nothing
	// touched the page.
	"/early-shift": `<div id="slot"></div><div class="b" style="height:384px"></div><img src="/slow.png?run=RUN" width="1" height="1">
<script>setTimeout(() => banner('slot', 192), 200);</script>`,
	"/ttfb": `<h1 style="font-size:32px;margin:0">A slow first byte</h1>`,
	"/blocking-click": `<h1 style="font-size:32px;margin:0">A click handler that blocks</h1>
<script>document.getElementById('btn').addEventListener('click', (e) => {
  const t = performance.now(); while (performance.now() - t < 300); e.target.textContent = 'Done';
  frameAfter('clickFrame', e);
});</script>`,
	"/long-task": `<h1 style="font-size:32px;margin:0">A long task after load</h1>
<script>new PerformanceObserver((l, o) => {
  // After the first contentful paint, so that the whole task counts.
  if (!l.getEntriesByName('first-contentful-paint').length) return;
  o.disconnect();
  setTimeout(() => { const t = performance.now(); while (performance.now() - t < 2000); }, 0);
}).observe({ type: 'paint', buffered: true });</script>`,
}

func newTruthSite(t *testing.T) *truthSite {
	t.Helper()
	s := &truthSite{runs: map[string]*truthRun{}}
	mux := http.NewServeMux()
	head := `<!doctype html><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"><title>truth</title>
<style>/* The button has a fixed box: on a busy machine Chrome may paint it
before its text, then grow it, a real shift but not the page's. */
body{margin:0;font:16px sans-serif} #top{height:60px;overflow:hidden} #btn{width:80px;height:24px;font:13px sans-serif;vertical-align:top} p{margin:0;font-size:12px} .b{background:#8ac}</style>
<script>` + webVitalsJS + `</script>
<script>(() => {
  const run = new URLSearchParams(location.search).get('run');
  let seq = 0;
  const send = (m) => navigator.sendBeacon('/beacon?run=' + run + '&name=' + m.name + '&seq=' + (++seq) + '&value=' + m.value);
  for (const f of ['onLCP', 'onCLS', 'onFCP', 'onTTFB', 'onINP']) webVitals[f](send, { reportAllChanges: true });
})();
// frameAfter reports when the first frame after an input's handler began,
// from the input: its paint, which ends the interaction, comes in that frame
// or soon after.
function frameAfter(name, e) { requestAnimationFrame(() => navigator.sendBeacon('/beacon?run=' + new URLSearchParams(location.search).get('run') + '&name=' + name + '&seq=1&value=' + (performance.now() - e.timeStamp))); }
// heroLoaded reports the frame after the hero's load event: its paint
// comes in that frame or soon after, on a busy machine late.
function heroLoaded() { requestAnimationFrame(() => navigator.sendBeacon('/beacon?run=' + new URLSearchParams(location.search).get('run') + '&name=heroFrame&seq=1&value=' + performance.now())); }
// mark reports when something the truth depends on happened, in the page's
// time; a mark that never arrives never happened: the page was left first.
function mark(name) { navigator.sendBeacon('/beacon?run=' + new URLSearchParams(location.search).get('run') + '&name=' + name + '&seq=1&value=' + performance.now()); }
// The page's own total blocking time, reported at each long task.
(() => {
  let fcp = null, tbt = 0, seq = 0;
  const tasks = [];
  const sum = () => {
    if (fcp === null) return;
    tbt = 0;
    for (const [start, d] of tasks) { const from = Math.max(start, fcp); if (start + d - from > 50) tbt += start + d - from - 50; }
    navigator.sendBeacon('/beacon?run=' + new URLSearchParams(location.search).get('run') + '&name=TBT&seq=' + (++seq) + '&value=' + tbt);
  };
  new PerformanceObserver((l) => { for (const e of l.getEntries()) if (e.name === 'first-contentful-paint') { fcp = e.startTime; sum(); } }).observe({ type: 'paint', buffered: true });
  new PerformanceObserver((l) => { for (const e of l.getEntries()) tasks.push([e.startTime, e.duration]); sum(); }).observe({ type: 'longtask', buffered: true });
})();
function banner(slot, h) { const b = document.createElement('div'); b.style.height = h + 'px'; b.style.background = '#fc8'; document.getElementById(slot).appendChild(b); mark('shift-' + slot); }
</script>
<div id="top"><button id="btn">Act</button> <span>Truth page</span></div>
`
	for path, body := range truthPages {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			id := r.URL.Query().Get("run")
			run := s.run(id)
			s.mu.Lock()
			run.docAt = time.Now()
			s.mu.Unlock()
			if path == "/ttfb" {
				time.Sleep(300 * time.Millisecond)
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, head+strings.ReplaceAll(body, "RUN", id))
		})
	}
	image := func(delay time.Duration, big bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(delay)
			w.Header().Set("Content-Type", "image/png")
			if !big {
				w.Write(tinyPNG())
				return
			}
			run := s.run(r.URL.Query().Get("run"))
			s.mu.Lock()
			run.imgAt = time.Now()
			s.mu.Unlock()
			w.Write(noisyPNG(400, 300))
		}
	}
	mux.HandleFunc("/hero.png", image(600*time.Millisecond, true))
	mux.HandleFunc("/late.png", image(0, true))
	mux.HandleFunc("/slow.png", image(400*time.Millisecond, false))
	mux.HandleFunc("/beacon", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		seq, _ := strconv.Atoi(q.Get("seq"))
		v, err := strconv.ParseFloat(q.Get("value"), 64)
		if err != nil {
			return
		}
		run := s.run(q.Get("run"))
		s.mu.Lock()
		if old, ok := run.ref[q.Get("name")]; !ok || seq > old.seq {
			run.ref[q.Get("name")] = refReport{seq: seq, value: v}
		}
		s.mu.Unlock()
	})
	noisyPNG(400, 300) // made now, not in the first image request, where its cost would be the server's delay
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// seen says whether a late event of the page happened within the time the
// page was watched (observed seconds from its start): yes, no, or too close
// to tell.
type seen int

const (
	unseen seen = iota
	observed
	tooClose
)

func (s *truthSite) seen(id, event string, watched float64) seen {
	at, ok := s.refValue(id, event, -1, math.Inf(1))
	switch {
	case !ok || at/1000 > watched:
		return unseen
	case at/1000+timelineMargin <= watched:
		return observed
	}
	return tooClose
}

// shiftScore is the layout shift score of a full-width block of height h0
// pushed down by d px on a viewport of w x h CSS px: the impact region is
// the union of its old and new boxes, the distance is relative to the
// larger viewport side.
func shiftScore(h0, d, w, h float64) float64 {
	return (h0 + d) / h * (d / max(w, h))
}

// truthShapes are the flow shapes of the truth tests.
var truthShapes = []struct {
	name  string
	steps string
}{
	{"goto", ""},
	{"sleep", "\n  - sleep: WATCH"},
	{"click", "\n  - click: \"#btn\""},
}

// truthWatch is how long the sleep shape watches each page after its load:
// past the page's latest event (the late hero at 800 ms, the late shift at
// 1.5 s, the second window at 2.3 s, the 2 s long task) by 0.7 s at least,
// and a second where nothing comes late. checkTruth fails a sleep flow that
// did not watch the page past its late events, so a watch too short for a
// loaded machine shows as such.
var truthWatch = map[string]string{"/late-hero": "2s", "/late-shift": "2.5s", "/two-windows": "3s", "/long-task": "3s"}

func truthSteps(path, steps string) string {
	watch := truthWatch[path]
	if watch == "" {
		watch = "1s"
	}
	return strings.ReplaceAll(steps, "WATCH", watch)
}

// TestVitalsTruth runs each truth page with each flow shape on desktop and
// mobile and holds every reported value against the server's truth and
// against web-vitals in the same page. The page's shifts and late hero come
// at least 800 ms after the load event, so that a goto-only or click flow,
// whose last page settles within a few frames, has certainly ended before
// them.
func TestVitalsTruth(t *testing.T) {
	t.Parallel()
	site := newTruthSite(t)
	// Two runs at a time: paints on a shared 2-core machine stay within the
	// tolerances.
	slots := make(chan struct{}, 2)
	var ids sync.Mutex
	next := 0
	for _, devName := range []string{"desktop", "mobile"} {
		dev, ok := scenarios.LookupDevice(devName)
		if !ok {
			t.Fatalf("no device %s", devName)
		}
		for path := range truthPages {
			for _, shape := range truthShapes {
				t.Run(devName+path+"/"+shape.name, func(t *testing.T) {
					t.Parallel()
					slots <- struct{}{}
					defer func() { <-slots }()
					ids.Lock()
					next++
					id := strconv.Itoa(next)
					ids.Unlock()
					f := mustFlow(t, "name: truth\ntimeout: 30s\nsteps:\n  - goto: "+site.URL+path+"?run="+id+truthSteps(path, shape.steps)+"\n")
					res := (&Runner{Browser: testBrowser}).Run(context.Background(), f, dev)
					if !res.Success {
						t.Fatalf("flow failed: %+v", res.Error)
					}
					checkTruth(t, site, id, path, shape.name, dev, res)
				})
			}
		}
	}
}

func checkTruth(t *testing.T, site *truthSite, id, path, shape string, dev scenarios.Device, res *result.Result) {
	t.Helper()
	if len(res.Pages) != 1 {
		t.Fatalf("pages = %+v, want 1", res.Pages)
	}
	p := res.Pages[0]
	within := func(name string, v *float64, lo, hi float64) {
		t.Helper()
		switch {
		case v == nil:
			t.Errorf("%s is absent, want within [%.4f, %.4f]", name, lo, hi)
		case *v < lo || *v > hi:
			t.Errorf("%s = %.4f, want within [%.4f, %.4f]", name, *v, lo, hi)
		}
	}
	absent := func(name string, v *float64) {
		t.Helper()
		if v != nil {
			t.Errorf("%s = %.4f, want it absent: the browser did not report it", name, *v)
		}
	}
	sameAsRef := func(name, metric string, v *float64, scale float64) {
		t.Helper()
		if v == nil {
			return // reported absent elsewhere
		}
		ref, ok := site.refValue(id, metric, *v*scale, refTolerance*scale)
		if !ok {
			// web-vitals handles entries when the page is idle, which a
			// busy page may not be before the run closes it.
			t.Logf("%s: web-vitals reported none before the page was closed", name)
			return
		}
		if math.Abs(ref-*v*scale) > refTolerance*scale {
			t.Errorf("%s = %.4f, web-vitals in the same page says %.4f (reported: %v)", name, *v, ref/scale, ok)
		}
	}

	if p.LCPFinal == nil || !*p.LCPFinal {
		t.Errorf("lcp_final = %v, want true: every truth page settles within the bound", p.LCPFinal)
	}
	if p.ObservedSeconds == nil || p.LoadSeconds == nil || *p.ObservedSeconds < *p.LoadSeconds {
		t.Errorf("observed_seconds %v, want it present and at least load_seconds %v", p.ObservedSeconds, p.LoadSeconds)
	}
	if res.SetupSeconds <= 0 {
		t.Errorf("setup_seconds = %v, want the tab's set-up and the final read", res.SetupSeconds)
	}

	// TTFB, FCP, LCP: present on every page, the same as web-vitals'.
	if path == "/ttfb" {
		within("ttfb", p.TTFBSeconds, 0.300, 0.300+ttfbTolerance)
	}
	sameAsRef("ttfb", "TTFB", p.TTFBSeconds, 1000)
	within("fcp", p.FCPSeconds, 0, 10)
	sameAsRef("fcp", "FCP", p.FCPSeconds, 1000)
	within("lcp", p.LCPSeconds, 0, 10)
	sameAsRef("lcp", "LCP", p.LCPSeconds, 1000)
	if p.LCPSeconds != nil && p.FCPSeconds != nil && *p.LCPSeconds < *p.FCPSeconds {
		t.Errorf("lcp %.4f before fcp %.4f", *p.LCPSeconds, *p.FCPSeconds)
	}
	if p.LCPSeconds != nil && p.LCPElement == "" {
		t.Error("lcp_element is empty")
	}
	watched := 0.0
	if p.ObservedSeconds != nil {
		watched = *p.ObservedSeconds
	}
	lateHero := unseen
	if path == "/late-hero" {
		lateHero = site.seen(id, "heroAdded", watched)
		if shape == "sleep" && lateHero != observed {
			t.Errorf("the sleep flow watched the page for %.3fs, not long enough for the hero added 800 ms after load", watched)
		}
	}
	wantHero := (path == "/hero" && shape != "click") || (lateHero == observed && shape != "click")
	switch {
	case wantHero:
		if p.LCPElement != "img#hero" {
			t.Errorf("lcp_element = %q, want img#hero", p.LCPElement)
		}
		lo, hi := site.heroWindow(id)
		within("lcp", p.LCPSeconds, lo, hi)
	case path == "/late-hero" && lateHero == unseen:
		// The flow ended before the script added the hero.
		if p.LCPElement == "img#hero" {
			t.Errorf("lcp_element = img#hero, but the flow ended before the hero was added")
		}
	}

	// CLS and shifts: each page's arithmetic on the device's viewport.
	w, h := float64(dev.Width), float64(dev.Height)
	// Each late shift counts if the page was watched past it.
	var wantCLS float64
	var wantShifts int
	judge := true
	late := func(event string, score float64) {
		switch site.seen(id, event, watched) {
		case observed:
			wantCLS, wantShifts = max(wantCLS, score), wantShifts+1
		case tooClose:
			judge = false
		}
		if shape == "sleep" && site.seen(id, event, watched) != observed {
			t.Errorf("the sleep flow watched the page for %.3fs, not long enough for %s", watched, event)
		}
	}
	switch path {
	case "/early-shift":
		wantCLS, wantShifts = shiftScore(384, 192, w, h), 1
	case "/late-shift":
		late("shift-slot", shiftScore(384, 192, w, h))
	case "/two-windows":
		// Two windows more than a second apart: CLS is the larger, not the sum.
		late("shift-s1", shiftScore(300, 40, w, h))
		late("shift-s2", shiftScore(300, 100, w, h))
	}
	if judge {
		within("cls", p.CLS, wantCLS-clsTolerance, wantCLS+clsTolerance)
		if p.LayoutShifts == nil || *p.LayoutShifts != wantShifts {
			t.Errorf("layout_shifts = %s, want %d (cls %s)", show(p.LayoutShifts), wantShifts, show(p.CLS))
		}
	}
	if dev.Mobile && path == "/early-shift" && p.CLS != nil {
		ref, _ := site.refValue(id, "CLS", *p.CLS, clsTolerance)
		t.Logf("cls %.4f, web-vitals %.4f: under mobile emulation web-vitals believes Chrome's hadRecentInput", *p.CLS, ref)
	}
	if !dev.Mobile {
		// Under mobile emulation web-vitals believes Chrome's false
		// hadRecentInput; on desktop it must agree with uxprobe.
		if p.CLS != nil && *p.CLS > 0 {
			sameAsRef("cls", "CLS", p.CLS, 1)
		}
	}

	// Interactions: only the click's, and the blocking handler's latency.
	click := res.Steps[len(res.Steps)-1]
	switch {
	case shape != "click":
		for _, st := range res.Steps {
			absent("interaction of "+st.Name, st.InteractionSeconds)
		}
		absent("inp", p.INPSeconds)
	case path == "/blocking-click":
		frame, _ := site.refValue(id, "clickFrame", -1, math.Inf(1))
		hi := max(frame/1000, 0.300) + interactionSlack
		within("interaction", click.InteractionSeconds, 0.300, hi)
		within("inp", p.INPSeconds, 0.300, hi)
	case path == "/long-task":
		// The click waited for the frozen page: the step carries the wait.
		if click.DurationSeconds < 1.5 {
			t.Errorf("the click step took %.3fs, want the long task's wait charged to it", click.DurationSeconds)
		}
		within("interaction", click.InteractionSeconds, 0, 2.5)
	default:
		slack := interactionSlack
		if dev.Touch {
			slack += tapSlack
		}
		within("interaction", click.InteractionSeconds, 0, slack)
		within("inp", p.INPSeconds, 0, slack)
	}

	// TBT: the long tasks' time beyond 50 ms after FCP. The page's own
	// blocking is the floor; on a shared CPU Chrome also reports ordinary
	// tasks as long ones, so the page sums the long tasks it saw itself, as
	// Lighthouse defines TBT, and uxprobe's sum must be the same.
	floor := 0.0
	switch {
	case path == "/long-task":
		floor = 1.950 - 0.010 // 10 ms for the coarse clock of long tasks
	case path == "/blocking-click" && shape == "click":
		floor = 0.250 - 0.010
	}
	within("tbt", p.TBTSeconds, floor, math.Inf(1))
	if shape == "sleep" {
		// Only a page watched for a while has run its own observer on its
		// last long task; in the others uxprobe's final read takes the
		// records first, and the page's sum lags.
		sameAsRef("tbt", "TBT", p.TBTSeconds, 1000)
	}
}

// TestHeroIsLCPEveryRun is the issue's own check: a goto-only flow on the
// page whose hero arrives 600 ms after the HTML reports the hero as LCP in
// every run, on desktop and mobile. UXPROBE_HERO_RUNS sets the number of
// runs per device (default 5).
func TestHeroIsLCPEveryRun(t *testing.T) {
	t.Parallel()
	site := newTruthSite(t)
	runs := 5
	if n, err := strconv.Atoi(os.Getenv("UXPROBE_HERO_RUNS")); err == nil && n > 0 {
		runs = n
	}
	for _, devName := range []string{"desktop", "mobile"} {
		dev, _ := scenarios.LookupDevice(devName)
		hits, chromeMissed := 0, 0
		var lcps []float64
		for i := range runs {
			id := fmt.Sprintf("hero-%s-%d", devName, i)
			f := mustFlow(t, "name: hero\nsteps:\n  - goto: "+site.URL+"/hero?run="+id+"\n")
			res := (&Runner{Browser: testBrowser}).Run(context.Background(), f, dev)
			if !res.Success || len(res.Pages) != 1 {
				t.Fatalf("run %d: %+v", i, res)
			}
			p := res.Pages[0]
			lo, hi := site.heroWindow(id)
			lcp := -1.0
			if p.LCPSeconds != nil {
				lcp = *p.LCPSeconds
			}
			if p.LCPElement == "img#hero" {
				hits++
			}
			// Now and then, under load, Chrome reports no candidate for
			// the hero at all: web-vitals in the same page then has the
			// same LCP as uxprobe, which is the truth uxprobe is held to.
			// One such run in ten is Chrome's; a read that ended before
			// the hero's entry came differs from web-vitals and fails.
			if p.LCPElement != "img#hero" && p.LCPSeconds != nil && chromeMissed < (runs+9)/10 {
				if ref, ok := site.refValue(id, "LCP", lcp*1000, refTolerance*1000); ok && math.Abs(ref-lcp*1000) <= refTolerance*1000 {
					chromeMissed++
					t.Logf("%s run %d: Chrome reported no hero candidate; LCP %.4f of %q, as web-vitals in the page says", devName, i, lcp, p.LCPElement)
					lcps = append(lcps, lcp-lo)
					continue
				}
			}
			if p.LCPElement != "img#hero" || lcp < lo || lcp > hi {
				ref, ok := site.refValue(id, "LCP", lcp*1000, refTolerance*1000)
				t.Errorf("%s run %d: lcp %.4f of %q, want img#hero within [%.4f, %.4f] (web-vitals: %.4f, reported %v; lcp_final %s, observed %ss)", devName, i, lcp, p.LCPElement, lo, hi, ref/1000, ok, show(p.LCPFinal), show(p.ObservedSeconds))
			}
			lcps = append(lcps, lcp-lo)
		}
		t.Logf("%s: hero reported as LCP in %d of %d goto-only runs (%d where Chrome reported no hero candidate); LCP after the image was sent (s): %.3f", devName, hits, runs, chromeMissed, lcps)
	}
}

// tinyPNG is a 1x1 image: too small and too plain to be an LCP candidate.
func tinyPNG() []byte {
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1)))
	return buf.Bytes()
}

func show[T any](v *T) string {
	if v == nil {
		return "absent"
	}
	return fmt.Sprint(*v)
}

// TestSettleBound: the final read waits for an image in the viewport that
// is still on its way, up to the bound of the flow (vitals_settle) or the
// runner (--vitals.settle), and says when the bound cut it short.
func TestSettleBound(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><title>t</title><p>small text</p>
<script>addEventListener('load', () => { const i = new Image(400, 300); i.id = 'hero'; i.src = '/slow.png'; document.body.appendChild(i); });</script>`)
	})
	mux.HandleFunc("/slow.png", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
			return
		case <-time.After(1200 * time.Millisecond):
		}
		w.Header().Set("Content-Type", "image/png")
		w.Write(noisyPNG(400, 300))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	tests := []struct {
		name       string
		flowKey    string
		runner     time.Duration
		wantFinal  bool
		wantHero   bool
		maxWatched float64 // observed_seconds at most, when the bound cut the read
	}{
		{"the default waits for the image", "", 0, true, true, 0},
		{"the runner's bound cuts it", "", 300 * time.Millisecond, false, false, 1.1},
		{"the flow's bound overrides the runner's", "vitals_settle: 300ms\n", 5 * time.Second, false, false, 1.1},
		{"the flow's 0s reads at once", "vitals_settle: 0s\n", 0, false, false, 1.1},
		{"a negative runner bound reads at once", "", -1, false, false, 1.1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := mustFlow(t, "name: settle\n"+tt.flowKey+"steps:\n  - goto: "+srv.URL+"/\n")
			res := (&Runner{Browser: testBrowser, VitalsSettle: tt.runner}).Run(context.Background(), f, desktop(t))
			if !res.Success || len(res.Pages) != 1 {
				t.Fatalf("run: %+v", res)
			}
			p := res.Pages[0]
			if p.LCPFinal == nil || *p.LCPFinal != tt.wantFinal {
				t.Errorf("lcp_final = %s, want %v", show(p.LCPFinal), tt.wantFinal)
			}
			if hero := p.LCPElement == "img#hero"; hero != tt.wantHero {
				t.Errorf("lcp_element = %q, want the hero: %v", p.LCPElement, tt.wantHero)
			}
			if tt.maxWatched > 0 && (p.ObservedSeconds == nil || *p.ObservedSeconds > tt.maxWatched) {
				t.Errorf("observed_seconds = %s, want at most %.1f: the bound ends the read", show(p.ObservedSeconds), tt.maxWatched)
			}
			if res.DurationSeconds > res.Steps[0].DurationSeconds+0.001 {
				t.Errorf("task time %.3fs exceeds the step's %.3fs: the final read is not task time", res.DurationSeconds, res.Steps[0].DurationSeconds)
			}
		})
	}
}

// TestLongTaskBeforeFirstPaint: a page that blocks its main thread before
// its first contentful paint still reports FCP and LCP: the final read's
// wait for the first paint starts again after the long task, which spent
// the time without painting.
func TestLongTaskBeforeFirstPaint(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The first paint is the background alone; the heading comes just
		// before the long task, so that its paint waits for the task.
		fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><title>t</title><body style="background:#cde">
<script>new PerformanceObserver((l, o) => {
  o.disconnect();
  setTimeout(() => {
    const h = document.createElement('h1'); h.textContent = 'Blocked before it paints'; document.body.appendChild(h);
    const t = performance.now(); while (performance.now() - t < 1500);
  }, 0);
}).observe({ type: 'paint', buffered: true });</script>`)
	}))
	t.Cleanup(srv.Close)
	f := mustFlow(t, "name: frozen\nsteps:\n  - goto: "+srv.URL+"/\n")
	res := (&Runner{Browser: testBrowser}).Run(context.Background(), f, desktop(t))
	if !res.Success || len(res.Pages) != 1 {
		t.Fatalf("run: %+v", res)
	}
	p := res.Pages[0]
	if p.FCPSeconds == nil || p.LCPSeconds == nil {
		t.Fatalf("fcp %s, lcp %s: want both, the page painted after its long task", show(p.FCPSeconds), show(p.LCPSeconds))
	}
}

// TestSoftNavigation: a single-page app's click that changes the URL and
// the content without a new document is a page of its own, opened by the
// click's step, with its own LCP.
func TestSoftNavigation(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><title>spa</title><button id="go">Next view</button><main id="m"><h1>Home view</h1></main>
<script>document.getElementById('go').addEventListener('click', () => {
  history.pushState({}, '', '/view2');
  document.getElementById('m').innerHTML = '<h1 style="font-size:48px">The second view, a lot larger</h1>';
});</script>`)
	}))
	t.Cleanup(srv.Close)
	f := mustFlow(t, "name: spa\nsteps:\n  - goto: "+srv.URL+"/\n  - name: open view\n    click: \"#go\"\n")
	res := (&Runner{Browser: testBrowser}).Run(context.Background(), f, desktop(t))
	if !res.Success {
		t.Fatalf("run: %+v", res.Error)
	}
	if len(res.Pages) != 2 {
		t.Fatalf("pages = %+v, want the document and the soft navigation", res.Pages)
	}
	doc, view := res.Pages[0], res.Pages[1]
	if doc.Step != "1-goto" || doc.LCPElement != "main#m > h1" {
		t.Errorf("document page: step %q, lcp_element %q; want 1-goto and its heading", doc.Step, doc.LCPElement)
	}
	if view.URL != srv.URL+"/view2" || view.Step != "open view" {
		t.Errorf("soft page: url %q, step %q; want %s/view2 opened by the click", view.URL, view.Step, srv.URL)
	}
	if view.LCPSeconds == nil || *view.LCPSeconds <= 0 || *view.LCPSeconds > 1 || view.LCPElement != "main#m > h1" {
		t.Errorf("soft page LCP %s of %q, want the new heading, painted within a second of the click", show(view.LCPSeconds), view.LCPElement)
	}
}

// lateHeroSite serves / with small text and, after the load event, a hero
// image that arrives 800 ms later (a late LCP only a final read sees),
// /lazy with the same hero as an <img loading="lazy"> in the viewport, and
// /next, a plain page to leave it for.
func lateHeroSite(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><title>t</title><p>small text</p>
<script>addEventListener('load', () => { const i = new Image(400, 300); i.id = 'hero'; i.src = '/slow.png'; document.body.appendChild(i); });</script>`)
	})
	mux.HandleFunc("/lazy", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"><title>t</title><p>small text</p>
<img id="hero" loading="lazy" src="/slow.png" width="400" height="300" alt="A lamp" style="max-width:100%;height:auto">`)
	})
	mux.HandleFunc("/next", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><title>next</title><h1>Next page</h1>`)
	})
	mux.HandleFunc("/slow.png", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
			return
		case <-time.After(800 * time.Millisecond):
		}
		w.Header().Set("Content-Type", "image/png")
		w.Write(noisyPNG(400, 300))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestFinalReadBeforeGoto: a page that a goto leaves is read when final
// too, and the wait for it is neither the goto's time nor the task's.
func TestFinalReadBeforeGoto(t *testing.T) {
	t.Parallel()
	srv := lateHeroSite(t)
	f := mustFlow(t, "name: two\nsteps:\n  - goto: "+srv.URL+"/\n  - goto: "+srv.URL+"/next\n")
	res := (&Runner{Browser: testBrowser}).Run(context.Background(), f, desktop(t))
	if !res.Success || len(res.Pages) != 2 {
		t.Fatalf("run: %+v", res)
	}
	first := res.Pages[0]
	if first.LCPElement != "img#hero" || first.LCPFinal == nil || !*first.LCPFinal {
		t.Errorf("the page left by the goto: lcp_element %q, lcp_final %s; want the hero that arrived before it was left, final", first.LCPElement, show(first.LCPFinal))
	}
	var steps float64
	for _, st := range res.Steps {
		steps += st.DurationSeconds
	}
	// The wait for the hero (~800 ms) is in neither: the steps are a
	// page load each, and the task time is their sum plus the loop's
	// bookkeeping.
	if res.DurationSeconds > steps+0.05 {
		t.Errorf("task time %.3fs, steps %.3fs: the final read of the first page counted as task time", res.DurationSeconds, steps)
	}
	if res.SetupSeconds < 0.5 {
		t.Errorf("setup_seconds %.3f, want it to hold the ~800 ms wait for the first page", res.SetupSeconds)
	}
}

// TestInteractionPerStep: each input step gets the latency of its own
// input, not its neighbours': the page's handlers block for known times,
// different for each kind of input.
func TestInteractionPerStep(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	frames := map[string]float64{} // by input: the page's first frame after the handler, from the input, ms
	// The page's own Event Timing entries, as web-vitals reads INP: the
	// longest event of each interaction, by the interaction's id.
	type pageInteraction struct{ start, duration float64 }
	interactions := map[string]pageInteraction{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/beacon" {
			v, _ := strconv.ParseFloat(r.URL.Query().Get("value"), 64)
			mu.Lock()
			frames[r.URL.Query().Get("name")] = v
			mu.Unlock()
			return
		}
		if r.URL.Path == "/event" {
			q := r.URL.Query()
			start, _ := strconv.ParseFloat(q.Get("start"), 64)
			d, _ := strconv.ParseFloat(q.Get("duration"), 64)
			mu.Lock()
			if cur, ok := interactions[q.Get("id")]; !ok || d > cur.duration {
				interactions[q.Get("id")] = pageInteraction{start, d}
			}
			mu.Unlock()
			return
		}
		fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><title>t</title><h1>Forms that block</h1>
<input id="q" style="width:200px"><button id="b" style="width:80px;height:24px">Go</button><p id="out" style="height:20px"></p>
<script>
const block = (ms) => { const t = performance.now(); while (performance.now() - t < ms); };
const frameAfter = (name, e) => requestAnimationFrame(() => navigator.sendBeacon('/beacon?name=' + name + '&value=' + (performance.now() - e.timeStamp)));
document.getElementById('b').addEventListener('click', (e) => { block(250); out.textContent = 'clicked'; frameAfter('click', e); });
document.getElementById('q').addEventListener('input', (e) => { block(150); out.textContent = 'typed'; frameAfter('fill', e); });
document.getElementById('q').addEventListener('keydown', (e) => { if (e.key === 'Escape') { block(350); out.textContent = 'escaped'; frameAfter('press', e); } });
new PerformanceObserver((l) => { for (const e of l.getEntries()) if (e.interactionId) navigator.sendBeacon('/event?id=' + e.interactionId + '&start=' + e.startTime + '&duration=' + e.duration); })
  .observe({ type: 'event', durationThreshold: 16, buffered: true });
</script>`)
	}))
	t.Cleanup(srv.Close)
	f := mustFlow(t, `name: steps
steps:
  - goto: `+srv.URL+`/
  - click: "#b"
  - fill: {selector: "#q", value: lamp}
  - press: {selector: "#q", key: Escape}
  - assert_text: {selector: "#out", equals: escaped}
`)
	res := (&Runner{Browser: testBrowser}).Run(context.Background(), f, desktop(t))
	if !res.Success {
		t.Fatalf("run: %+v", res.Error)
	}
	within := func(name string, v *float64, lo, hi float64) {
		t.Helper()
		if v == nil || *v < lo || *v > hi {
			t.Errorf("%s = %s, want within [%.3f, %.3f]", name, show(v), lo, hi)
		}
	}
	// The beacons may still be on their way: three frames, and six
	// interactions (the click, four keys of the fill, the Escape).
	deadline := time.Now().Add(3 * time.Second)
	for {
		mu.Lock()
		n, m := len(frames), len(interactions)
		mu.Unlock()
		if (n == 3 && m >= 6) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	// The page's interactions in order: the click's, the fill's keys, and
	// the Escape's. Each step's reference is the longest of its own: a
	// step with a neighbour's latency is out of its bounds, as the blocks
	// differ.
	var order []pageInteraction
	for _, in := range interactions {
		order = append(order, in)
	}
	slices.SortFunc(order, func(a, b pageInteraction) int { return cmp.Compare(a.start, b.start) })
	pageRef := map[string]float64{}
	if len(order) >= 3 {
		pageRef["click"] = order[0].duration / 1000
		pageRef["press"] = order[len(order)-1].duration / 1000
		for _, in := range order[1 : len(order)-1] {
			pageRef["fill"] = max(pageRef["fill"], in.duration/1000)
		}
	} else {
		t.Errorf("the page saw %d interactions, want the click, the fill's keys and the Escape", len(order))
	}
	var worst float64
	for _, in := range []struct {
		step  int
		name  string
		block float64
	}{{1, "click", 0.250}, {2, "fill", 0.150}, {3, "press", 0.350}} {
		// At most the page's own entry (Event Timing rounds durations
		// to 8 ms), or the frame after the handler with the paint's
		// slack when the page's entry is missing.
		hi := max(frames[in.name]/1000, in.block) + interactionSlack
		if ref, ok := pageRef[in.name]; ok && ref > 0 {
			hi = max(ref, in.block) + 0.008
		}
		within("interaction of "+res.Steps[in.step].Name, res.Steps[in.step].InteractionSeconds, in.block, hi)
		if v := res.Steps[in.step].InteractionSeconds; v != nil && *v > worst {
			worst = *v
		}
	}
	for _, i := range []int{0, 4} {
		if v := res.Steps[i].InteractionSeconds; v != nil {
			t.Errorf("%s sent no input but has interaction %.3f", res.Steps[i].Name, *v)
		}
	}
	if p := res.Pages[0].INPSeconds; p == nil || *p != worst {
		t.Errorf("inp = %s, want the worst of the steps' interactions, %.3f", show(p), worst)
	}
}
