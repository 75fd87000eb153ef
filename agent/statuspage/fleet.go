package statuspage

import (
	"context"
	"net/url"
	"slices"
	"time"

	"github.com/uxprobe/uxprobe/agent/history"
	"github.com/uxprobe/uxprobe/agent/result"
)

// A fleet is agents in several locations (--location) that share one
// history: every page shows every location's runs. A run's location is
// the one in its stored result; a history of agents without --location
// has only the empty location, and its pages look as they did before
// locations existed.

// LocationLatest is what a Store may add for the fleet view: the latest run
// of each flow, device and location, in one query. A Store without it is
// read through Runs over the last day (fleetScan runs at most).
type LocationLatest interface {
	LatestByLocation(ctx context.Context) ([]history.Run, error)
}

// fleetScan bounds the runs the fleet view reads at once for the latest run
// and the sparkline of each flow, device and location: a day of 10 flows on
// 2 devices every 5 minutes in 3 locations is 17,280 runs, so a busy fleet
// sees the most recent part of the day.
const fleetScan = 2000

// maxLocationColumns is how many locations the overview shows side by side;
// with more, a switch shows one location at a time.
const maxLocationColumns = 4

// lkey names a flow on a device in a location.
type lkey struct{ flow, device, location string }

// fleetData is what the overview and the flow page show of each flow,
// device and location: the latest run and the runs of the window.
type fleetData struct {
	fleet     bool // some run has a location
	latest    map[lkey]*history.Run
	points    map[lkey][]history.Point
	locations []string // sorted; [""] without locations
	// truncated says the window held more runs than fleetScan: the
	// sparklines and rates cover the most recent fleetScan runs only.
	truncated bool
}

// readFleet reads the latest run and the window's runs of each flow,
// device and location; flow, when not empty, limits them to one flow.
func (h *Handler) readFleet(ctx context.Context, since time.Time, flow string) (*fleetData, error) {
	latest, err := h.opts.Store.Latest(ctx)
	if err != nil {
		return nil, err
	}
	d := &fleetData{latest: map[lkey]*history.Run{}, points: map[lkey][]history.Point{}}
	if ll, ok := h.opts.Store.(LocationLatest); ok {
		more, err := ll.LatestByLocation(ctx)
		if err != nil {
			return nil, err
		}
		latest = append(latest, more...)
	}
	for i := range latest {
		if latest[i].Result.Location != "" {
			d.fleet = true
		}
	}
	keep := func(r *result.Result) bool { return flow == "" || r.Flow == flow }
	if !d.fleet {
		// One location: the store's own queries, as before locations.
		points, err := h.opts.Store.Points(ctx, since)
		if err != nil {
			return nil, err
		}
		for _, p := range points {
			if flow == "" || p.Flow == flow {
				k := lkey{p.Flow, p.Device, ""}
				d.points[k] = append(d.points[k], p)
			}
		}
	} else {
		runs, err := h.opts.Store.Runs(ctx, history.Query{Flow: flow, Since: since, Limit: fleetScan})
		if err != nil {
			return nil, err
		}
		d.truncated = len(runs) == fleetScan
		for i := len(runs) - 1; i >= 0; i-- { // oldest first, as Points
			r := &runs[i]
			k := keyOf(r.Result)
			d.points[k] = append(d.points[k], history.Point{Flow: k.flow, Device: k.device, StartedAt: r.Result.StartedAt,
				Outcome: r.Result.Outcome(), DurationSeconds: r.Result.DurationSeconds})
			d.latest[k] = r
		}
	}
	for i := range latest {
		r := &latest[i]
		k := keyOf(r.Result)
		if !keep(r.Result) {
			continue
		}
		if have := d.latest[k]; have == nil || r.Result.StartedAt.After(have.Result.StartedAt) {
			d.latest[k] = r
		}
	}
	set := map[string]bool{}
	for k := range d.latest {
		set[k.location] = true
	}
	for k := range d.points {
		set[k.location] = true
	}
	if !d.fleet {
		set = map[string]bool{"": true}
	}
	for l := range set {
		d.locations = append(d.locations, l)
	}
	slices.Sort(d.locations)
	return d, nil
}

func keyOf(r *result.Result) lkey { return lkey{r.Flow, r.Device, r.Location} }

// locationLink is one entry of the overview's location switch.
type locationLink struct {
	Name, URL string
	Current   bool
	Failing   int // flows and devices whose latest run failed there
}

// shownLocations picks the locations the overview shows as columns: all of
// them up to maxLocationColumns, else the one asked for (?location=), by
// default the first with a failure, then the first; with the switch. All
// shows every location, for the API.
func shownLocations(d *fleetData, asked string, all bool) ([]string, []locationLink) {
	if all || len(d.locations) <= maxLocationColumns {
		return d.locations, nil
	}
	failing := map[string]int{}
	for k, r := range d.latest {
		if r.Result.Outcome() == result.OutcomeFailure {
			failing[k.location]++
		}
	}
	cur := asked
	if !slices.Contains(d.locations, cur) {
		cur = d.locations[0]
		for _, l := range d.locations {
			if failing[l] > 0 {
				cur = l
				break
			}
		}
	}
	links := make([]locationLink, 0, len(d.locations))
	for _, l := range d.locations {
		links = append(links, locationLink{Name: l, URL: "./?location=" + url.QueryEscape(l), Current: l == cur, Failing: failing[l]})
	}
	return []string{cur}, links
}
