package statuspage

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"html/template"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/uxprobe/uxprobe/agent/history"
	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

var funcs = template.FuncMap{
	"seconds": fmtSeconds,
}

func fmtSeconds(s float64) string {
	switch {
	case s < 1:
		return fmt.Sprintf("%.0f ms", s*1000)
	case s < 60:
		return fmt.Sprintf("%.2f s", s)
	default:
		return time.Duration(s * float64(time.Second)).Round(time.Second).String()
	}
}

func age(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", max(0, int(d.Seconds())))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	default:
		return fmt.Sprintf("%dd ago", int(d.Hours()/24))
	}
}

// status is an outcome as people read it: an icon and words beside the
// colour, which is never the only signal.
type status struct {
	Class string // ok, fail, error, none: the colour
	Icon  string
	Text  string
}

func statusOf(r *result.Result) status {
	if r == nil {
		return status{"none", "–", "no run yet"}
	}
	switch r.Outcome() {
	case result.OutcomeSuccess:
		return status{"ok", "✔", "success"}
	case result.OutcomeFailure:
		text := "failed"
		if r.Error != nil {
			text = fmt.Sprintf("failed at %s (%s)", r.Error.Step, r.Error.Kind)
			if r.Error.Step == "" {
				text = fmt.Sprintf("failed (%s)", r.Error.Kind)
			}
		}
		return status{"fail", "✘", text}
	default:
		text := "agent error"
		if r.Error != nil {
			text = fmt.Sprintf("agent error (%s), not the site", r.Error.Kind)
		}
		return status{"error", "⚠", text}
	}
}

type overview struct {
	Devices []string
	// Columns are the devices, each in every location shown: one column
	// per device without locations.
	Columns []column
	// Locations is the location switch, when there are too many
	// locations to show side by side; empty otherwise.
	Locations []locationLink
	Flows     []flowRow
	// Partial says the sparklines and rates cover the most recent runs of
	// the day only (see fleetScan).
	Partial bool
}

type column struct {
	Device, Location string
	Label            string // "desktop", or "desktop · eu" in a fleet
}

type flowRow struct {
	Name, Description string
	Failing           bool
	// FailingIn names the locations where the latest run failed, in a
	// fleet, e.g. "eu, us"; FailingOf is "2 of 3 locations".
	FailingIn, FailingOf string
	Cells                []cell
	// MobileVsDesktop compares the last task times, e.g. "mobile 1.8×
	// desktop"; empty without both.
	MobileVsDesktop string
}

type cell struct {
	Device, Location, Label string
	Runs                    bool // the flow runs (or ran) on this device
	Status                  status
	Age                     string
	RunURL                  string
	Agent                   string // which agent made the latest run, in a fleet
	Rate                    string
	Spark                   template.HTML

	rate  *float64
	count int
	last  *history.Run
}

func (h *Handler) buildOverview(ctx context.Context, askedLocation string, all bool) (*overview, error) {
	now := h.opts.Now()
	fd, err := h.readFleet(ctx, now.Add(-window), "")
	if err != nil {
		return nil, err
	}

	// Flows: the loaded ones with their devices in flow order, then flows
	// that only the history knows (run by uxprobe check, or removed).
	devicesOf := map[string][]string{}
	descr := map[string]string{}
	var names, devices []string
	addDevice := func(flow, d string) {
		if !slices.Contains(devicesOf[flow], d) {
			devicesOf[flow] = append(devicesOf[flow], d)
		}
		if !slices.Contains(devices, d) {
			devices = append(devices, d)
		}
	}
	for _, f := range h.opts.Flows() {
		names = append(names, f.Name)
		descr[f.Name] = f.Description
		for _, d := range f.Devices {
			addDevice(f.Name, d.Name)
		}
	}
	latest := slices.SortedFunc(maps.Keys(fd.latest), func(a, b lkey) int {
		return cmp.Or(strings.Compare(a.flow, b.flow), strings.Compare(a.device, b.device), strings.Compare(a.location, b.location))
	})
	for _, k := range latest {
		if !slices.Contains(names, k.flow) {
			names = append(names, k.flow)
		}
		addDevice(k.flow, k.device)
	}

	shown, links := shownLocations(fd, askedLocation, all)
	ov := &overview{Devices: devices, Locations: links, Partial: fd.truncated}
	for _, d := range devices {
		for _, l := range shown {
			label := d
			if fd.fleet {
				label = d + " · " + l
				if l == "" {
					label = d + " · (no location)"
				}
			}
			ov.Columns = append(ov.Columns, column{Device: d, Location: l, Label: label})
		}
	}
	for _, name := range names {
		row := flowRow{Name: name, Description: descr[name]}
		if fd.fleet {
			var failing, ran []string
			for _, l := range fd.locations {
				for _, d := range devicesOf[name] {
					r := fd.latest[lkey{name, d, l}]
					if r == nil {
						continue
					}
					if !slices.Contains(ran, l) {
						ran = append(ran, l)
					}
					if r.Result.Outcome() == result.OutcomeFailure && !slices.Contains(failing, l) {
						failing = append(failing, l)
					}
				}
			}
			if len(failing) > 0 {
				row.FailingIn = strings.Join(failing, ", ")
				row.FailingOf = fmt.Sprintf("%d of %d locations", len(failing), len(ran))
				row.Failing = true
			}
		}
		var mobile, desktop *timed
		for _, col := range ov.Columns {
			d := col.Device
			c := cell{Device: d, Location: col.Location, Label: col.Label, Runs: slices.Contains(devicesOf[name], d)}
			if !c.Runs {
				row.Cells = append(row.Cells, c)
				continue
			}
			k := lkey{name, d, col.Location}
			c.last = fd.latest[k]
			var res *result.Result
			if c.last != nil {
				res = c.last.Result
				c.Age = age(now, res.StartedAt)
				c.RunURL = "runs/" + c.last.ID
				if fd.fleet {
					c.Agent = res.Agent
				}
				// Compare successful runs only: a task abandoned early is
				// not faster.
				if good, ok := lastSuccess(fd.points[k]); ok {
					switch res.DeviceClass {
					case string(scenarios.ClassMobile):
						mobile = cmpTimed(mobile, &timed{d, good})
					case string(scenarios.ClassDesktop):
						desktop = cmpTimed(desktop, &timed{d, good})
					}
				}
			}
			c.Status = statusOf(res)
			if c.Status.Class == "fail" {
				row.Failing = true
			}
			var ok, tested int
			for _, p := range fd.points[k] {
				c.count++
				if p.Outcome != result.OutcomeError {
					tested++
				}
				if p.Outcome == result.OutcomeSuccess {
					ok++
				}
			}
			span := "in 24 h"
			if fd.truncated {
				span = "recently"
			}
			if tested > 0 {
				r := float64(ok) / float64(tested)
				c.rate = &r
				c.Rate = fmt.Sprintf("%s%% of %d runs %s", trimPct(r*100), tested, span)
			} else {
				c.Rate = "no runs " + span
			}
			c.Spark = sparkline(fd.points[k], now.Add(-window), now)
			row.Cells = append(row.Cells, c)
		}
		if mobile != nil && desktop != nil && desktop.seconds > 0 {
			row.MobileVsDesktop = fmt.Sprintf("%s: %.1f× %s", mobile.device, mobile.seconds/desktop.seconds, desktop.device)
		}
		ov.Flows = append(ov.Flows, row)
	}
	// Failing flows first, so the red rows are what one sees at 3 am.
	slices.SortStableFunc(ov.Flows, func(a, b flowRow) int {
		switch {
		case a.Failing == b.Failing:
			return 0
		case a.Failing:
			return -1
		default:
			return 1
		}
	})
	return ov, nil
}

// timed is a device's last successful task time.
type timed struct {
	device  string
	seconds float64
}

func lastSuccess(ps []history.Point) (float64, bool) {
	for i := len(ps) - 1; i >= 0; i-- {
		if ps[i].Outcome == result.OutcomeSuccess {
			return ps[i].DurationSeconds, true
		}
	}
	return 0, false
}

// cmpTimed keeps the first device of a class: the flow's first one.
func cmpTimed(have, r *timed) *timed {
	if have != nil {
		return have
	}
	return r
}

func trimPct(p float64) string {
	if p == math.Trunc(p) {
		return fmt.Sprintf("%.0f", p)
	}
	return fmt.Sprintf("%.1f", p)
}

type flowView struct {
	Name, Description string
	Fleet             bool
	Devices           []deviceView
	History           []historyRow
	Page              int
	PrevURL, NextURL  string
}

// deviceView is a device of the flow page: one place without locations,
// every location side by side in a fleet.
type deviceView struct {
	Device string
	Places []placeView
}

type placeView struct {
	Location string // empty without locations
	ID       string // for the element id: dev-desktop, dev-desktop-eu
	Latest   *runView
	LastGood *runView // when the latest run did not succeed
}

type historyRow struct {
	URL, Started, Device, Location, Agent, Duration string
	Status                                          status
}

// lastGoodScan bounds the successful runs of a flow and device read to find
// the last good one of each location in a fleet.
const lastGoodScan = 200

func (h *Handler) buildFlow(ctx context.Context, name string, pageNo int) (*flowView, error) {
	fv := &flowView{Name: name, Page: pageNo}
	var devices []string
	known := false
	for _, f := range h.opts.Flows() {
		if f.Name == name {
			known = true
			fv.Description = f.Description
			for _, d := range f.Devices {
				devices = append(devices, d.Name)
			}
		}
	}
	fd, err := h.readFleet(ctx, h.opts.Now().Add(-window), name)
	if err != nil {
		return nil, err
	}
	fv.Fleet = fd.fleet
	for k := range fd.latest {
		if k.flow != name {
			continue
		}
		known = true
		if !slices.Contains(devices, k.device) {
			devices = append(devices, k.device)
		}
	}
	if !known {
		return nil, history.ErrNotFound
	}
	for _, d := range devices {
		dv := deviceView{Device: d}
		var good map[string]*history.Run // the last success of each location, in a fleet
		for _, l := range fd.locations {
			pv := placeView{Location: l, ID: "dev-" + d}
			if l != "" {
				pv.ID += "-" + l
			}
			r := fd.latest[lkey{name, d, l}]
			if r == nil {
				if fd.fleet {
					continue // this location has not run it
				}
				dv.Places = append(dv.Places, pv)
				continue
			}
			pv.Latest = h.runView(*r, "../")
			if r.Result.Outcome() != result.OutcomeSuccess {
				if !fd.fleet {
					g, err := h.opts.Store.LastOf(ctx, name, d, result.OutcomeSuccess)
					if err == nil {
						pv.LastGood = h.runView(g, "../")
					} else if !errors.Is(err, history.ErrNotFound) {
						return nil, err
					}
				} else {
					if good == nil {
						good = map[string]*history.Run{}
						runs, err := h.opts.Store.Runs(ctx, history.Query{Flow: name, Device: d, Outcome: result.OutcomeSuccess, Limit: lastGoodScan})
						if err != nil {
							return nil, err
						}
						for i := range runs {
							if good[runs[i].Result.Location] == nil {
								good[runs[i].Result.Location] = &runs[i]
							}
						}
					}
					if g := good[l]; g != nil {
						pv.LastGood = h.runView(*g, "../")
					}
				}
			}
			dv.Places = append(dv.Places, pv)
		}
		fv.Devices = append(fv.Devices, dv)
	}
	runs, err := h.opts.Store.Runs(ctx, history.Query{Flow: name, Limit: pageSize + 1, Offset: pageNo * pageSize})
	if err != nil {
		return nil, err
	}
	if len(runs) > pageSize {
		runs = runs[:pageSize]
		fv.NextURL = fmt.Sprintf("%s?page=%d", name, pageNo+1)
	}
	if pageNo > 0 {
		fv.PrevURL = fmt.Sprintf("%s?page=%d", name, pageNo-1)
	}
	for _, r := range runs {
		fv.History = append(fv.History, historyRow{
			URL: "../runs/" + r.ID, Started: r.Result.StartedAt.UTC().Format("2006-01-02 15:04:05 UTC"),
			Device: r.Result.Device, Location: r.Result.Location, Agent: r.Result.Agent,
			Duration: fmtSeconds(r.Result.DurationSeconds), Status: statusOf(r.Result),
		})
	}
	return fv, nil
}

type runView struct {
	ID, URL, Flow, Device, Started, Age, Duration string
	// Location and Agent say where the run was made and by which agent;
	// empty when the result does not say.
	Location, Agent string
	Attempts        int
	Status          status
	Error           *result.Error
	Timeline        template.HTML
	Steps           []stepView
	Pages           []pageView
	ConsoleErrors   []string
	FailedRequests  []result.FailedRequest
	// Findings are the page rules' (the mobile UX audit); axe-core's
	// violations are in Accessibility.
	Findings      []result.Finding
	Accessibility *a11yView
	Screenshots   []shot
	// Final is the run's last screenshot: the failure's, or the last
	// screenshot step's.
	Final *shot
	// Visuals are the failed assert_screenshot steps' pictures.
	Visuals []visualView
	// Frames are the run's filmstrip, on the run's own page only.
	Frames          []frameView
	HARURL, JSONURL string
}

type shot struct{ Name, URL string }

// frameView is one picture of a run's filmstrip with its label.
type frameView struct{ URL, T, Step string }

// frameViews lists the run's filmstrip, oldest first.
func frameViews(run history.Run, root string) []frameView {
	var out []frameView
	for _, a := range run.Frames() {
		fv := frameView{URL: artifactURL(root, run.ID, a.Name), Step: a.Step}
		if a.T != nil {
			fv.T = fmt.Sprintf("%.1f s", *a.T)
		}
		out = append(out, fv)
	}
	return out
}

type stepView struct {
	Name, Action, Duration, Error string
	Status                        status
}

type pageView struct {
	URL, Step string
	Status    int
	Vitals    []vital
}

type vital struct {
	Name, Value string
	Rating      rating
}

type rating struct{ Class, Text string }

// Web vitals thresholds as web.dev defines them: good at or below the
// first, poor above the second.
var thresholds = map[string][2]float64{
	"TTFB": {0.8, 1.8},
	"FCP":  {1.8, 3.0},
	"LCP":  {2.5, 4.0},
	"CLS":  {0.1, 0.25},
}

func rate(name string, v float64) rating {
	t := thresholds[name]
	switch {
	case v <= t[0]:
		return rating{"ok", "good"}
	case v <= t[1]:
		return rating{"warn", "needs improvement"}
	default:
		return rating{"fail", "poor"}
	}
}

func (h *Handler) runView(run history.Run, root string) *runView {
	r := run.Result
	v := &runView{
		ID: run.ID, URL: root + "runs/" + run.ID, Flow: r.Flow, Device: r.Device, Location: r.Location, Agent: r.Agent,
		Started: r.StartedAt.UTC().Format("2006-01-02 15:04:05 UTC"), Age: age(h.opts.Now(), r.StartedAt),
		Duration: fmtSeconds(r.DurationSeconds), Attempts: r.Attempts, Status: statusOf(r), Error: r.Error,
		ConsoleErrors: r.ConsoleErrors, FailedRequests: r.FailedRequests,
		JSONURL: root + "api/v1/runs/" + run.ID,
	}
	for _, f := range r.Findings {
		if !isA11y(f) {
			v.Findings = append(v.Findings, f)
		}
	}
	v.Accessibility = accessibilityView(r)
	failing := ""
	if r.Error != nil {
		failing = r.Error.Step
	}
	for _, s := range r.Steps {
		st := status{"ok", "✔", "passed"}
		switch {
		case s.Skipped:
			st = status{"none", "↷", "skipped"}
		case !s.Success:
			st = status{"fail", "✘", "failed"}
		}
		v.Steps = append(v.Steps, stepView{Name: s.Name, Action: s.Action, Duration: fmtSeconds(s.DurationSeconds), Error: s.Error, Status: st})
	}
	v.Timeline = timeline(r.Steps, failing)
	for _, p := range r.Pages {
		pv := pageView{URL: p.URL, Step: p.Step, Status: p.Status}
		for _, m := range []struct {
			name string
			v    *float64
		}{{"TTFB", p.TTFBSeconds}, {"FCP", p.FCPSeconds}, {"LCP", p.LCPSeconds}, {"CLS", p.CLS}} {
			if m.v == nil {
				continue
			}
			val := fmtSeconds(*m.v)
			if m.name == "CLS" {
				val = fmt.Sprintf("%.3f", *m.v)
			}
			pv.Vitals = append(pv.Vitals, vital{m.name, val, rate(m.name, *m.v)})
		}
		v.Pages = append(v.Pages, pv)
	}
	for _, a := range run.Artifacts {
		switch a.Kind {
		case history.KindScreenshot:
			v.Screenshots = append(v.Screenshots, shot{a.Name, artifactURL(root, run.ID, a.Name)})
		case history.KindHAR:
			v.HARURL = root + "api/v1/runs/" + run.ID + "/har"
		}
	}
	v.Visuals = visualViews(run, root)
	if n := len(v.Screenshots); n > 0 {
		v.Final = &v.Screenshots[n-1]
		for i := range v.Screenshots {
			if strings.HasPrefix(v.Screenshots[i].Name, "failure-") {
				v.Final = &v.Screenshots[i]
			}
		}
	}
	return v
}
