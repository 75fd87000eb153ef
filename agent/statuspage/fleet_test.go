package statuspage

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/uxprobe/uxprobe/agent/history"
	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// at is a run of an agent of a fleet.
func at(r *result.Result, location, agent string) *result.Result {
	r.Location, r.Agent = location, agent
	return r
}

// newFleetStore fills a store shared by three agents, eu-1 and eu-2 in eu
// and us-1 in us, plus the locations of extra (one desktop run of search
// each): checkout fails on mobile in eu only, after an earlier success
// there; everything else works.
func newFleetStore(t *testing.T, extra ...string) *history.Store {
	t.Helper()
	s, err := history.Open(context.Background(), t.TempDir(), history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	dir := t.TempDir()
	shot := func(r *result.Result, name string) *result.Result {
		// One folder per run, as the runner's: the stored name is the
		// file's.
		p := filepath.Join(dir, r.ID, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, testPNG(t, name), 0o644); err != nil {
			t.Fatal(err)
		}
		r.Screenshots = []string{p}
		return r
	}
	runs := []*result.Result{
		at(res("eu-search-desktop", "search", "desktop", 3*time.Minute, "", ""), "eu", "eu-1"),
		at(res("eu-search-mobile", "search", "mobile", 3*time.Minute, "", ""), "eu", "eu-2"),
		at(res("us-search-desktop", "search", "desktop", 2*time.Minute, "", ""), "us", "us-1"),
		at(res("us-search-mobile", "search", "mobile", 2*time.Minute, "", ""), "us", "us-1"),
		shot(at(res("eu-checkout-mobile-good", "checkout", "mobile", 2*time.Hour, "", ""), "eu", "eu-1"), "confirmation.png"),
		at(res("eu-checkout-desktop", "checkout", "desktop", 4*time.Minute, "", ""), "eu", "eu-1"),
		shot(at(res("eu-checkout-mobile-bad", "checkout", "mobile", 5*time.Minute, "place order", scenarios.KindNavigation), "eu", "eu-2"), "failure-place_order.png"),
		at(res("us-checkout-desktop", "checkout", "desktop", 3*time.Minute, "", ""), "us", "us-1"),
		shot(at(res("us-checkout-mobile", "checkout", "mobile", time.Minute, "", ""), "us", "us-1"), "confirmation.png"),
	}
	for i, l := range extra {
		runs = append(runs, at(res(l+"-search-desktop", "search", "desktop", time.Duration(i+1)*time.Minute, "", ""), l, l+"-1"))
	}
	for _, r := range runs {
		if err := s.Export(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestFleetPages(t *testing.T) {
	srv := newServer(t, Options{Store: newFleetStore(t)})
	tests := []struct {
		name, path    string
		want, notWant []string
	}{
		{"overview: device × location columns", "/", []string{
			`<th scope="col">desktop · eu</th><th scope="col">desktop · us</th><th scope="col">mobile · eu</th><th scope="col">mobile · us</th>`,
			"failing in eu (1 of 2 locations)",
			`href="./runs/eu-checkout-mobile-bad">5m ago</a> by eu-2`,
			`href="./runs/us-checkout-mobile">1m ago</a> by us-1`,
			// eu's mobile checkout: one success and one failure in 24 h.
			"50% of 2 runs in 24 h",
		}, []string{`nav class="locations"`}},
		{"flow page: locations side by side", "/flows/checkout", []string{
			`<h3 id="dev-mobile">mobile</h3>`,
			`aria-labelledby="dev-mobile-eu"`, `<h4 id="dev-mobile-eu" class="loc">eu</h4>`,
			`<h4 id="dev-mobile-us" class="loc">us</h4>`,
			// The last good run of eu, not us's newer one.
			`src="../api/v1/runs/eu-checkout-mobile-good/artifacts/`,
			`<th scope="col">location</th><th scope="col">agent</th>`,
			`<td data-label="location">eu</td><td data-label="agent">eu-2</td>`,
		}, nil},
		{"run page: agent and location", "/runs/eu-checkout-mobile-bad", []string{
			"checkout</a> on mobile in eu</h2>", `location <strong class="loc">eu</strong>`, `agent <span class="agent">eu-2</span>`,
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, _ := get(t, srv.URL+tt.path)
			if status != 200 {
				t.Fatalf("status %d:\n%s", status, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(body, w) {
					t.Errorf("page has %q", w)
				}
			}
		})
	}
	// The flow failing in one location comes first.
	_, body, _ := get(t, srv.URL+"/")
	if c, s := strings.Index(body, `flows/checkout"`), strings.Index(body, `flows/search"`); c < 0 || s < 0 || c > s {
		t.Errorf("the failing flow checkout is not above search")
	}
}

// TestFleetLocationSwitch: with more locations than fit side by side, the
// overview shows one at a time, the failing one first, and a switch.
func TestFleetLocationSwitch(t *testing.T) {
	srv := newServer(t, Options{Store: newFleetStore(t, "ap", "sa", "af")})
	tests := []struct {
		path          string
		want, notWant []string
	}{
		{"/", []string{
			`<nav class="locations" aria-label="locations">`,
			`<a href="./?location=eu" aria-current="page">eu <span class="st fail">(1 failing)</span></a>`,
			`<a href="./?location=ap">ap</a>`,
			`<th scope="col">desktop · eu</th><th scope="col">mobile · eu</th></tr>`,
			// The row says where it fails, whatever location is shown.
			"failing in eu (1 of 2 locations)", // checkout runs in eu and us only
		}, []string{"desktop · us"}},
		{"/?location=ap", []string{
			`<a href="./?location=ap" aria-current="page">ap</a>`,
			`<th scope="col">desktop · ap</th><th scope="col">mobile · ap</th></tr>`,
			"failing in eu (1 of 2 locations)", // checkout runs in eu and us only
		}, []string{"desktop · eu</th>"}},
		{"/?location=nowhere", []string{`<a href="./?location=eu" aria-current="page">`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			status, body, _ := get(t, srv.URL+tt.path)
			if status != 200 {
				t.Fatalf("status %d", status)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(body, w) {
					t.Errorf("page has %q", w)
				}
			}
		})
	}
	// The API has every location, switch or not.
	_, body, _ := get(t, srv.URL+"/api/v1/flows")
	var fl []struct {
		Flow    string
		Devices []struct {
			Device, Location string
			Last             *struct{ ID string }
		}
	}
	if err := json.Unmarshal([]byte(body), &fl); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range fl {
		for _, d := range f.Devices {
			id := ""
			if d.Last != nil {
				id = d.Last.ID
			}
			got[f.Flow+" "+d.Device+" "+d.Location] = id
		}
	}
	for k, want := range map[string]string{
		"search desktop ap":   "ap-search-desktop",
		"search desktop sa":   "sa-search-desktop",
		"search desktop us":   "us-search-desktop",
		"search mobile eu":    "eu-search-mobile",
		"checkout desktop eu": "eu-checkout-desktop",
		"checkout mobile eu":  "eu-checkout-mobile-bad",
		"checkout mobile us":  "us-checkout-mobile",
	} {
		if got[k] != want {
			t.Errorf("/api/v1/flows %s: last %q, want %q", k, got[k], want)
		}
	}
}

// TestNotice: the store's note (e.g. a recovery from a damaged database)
// is on every page, the error pages included.
func TestNotice(t *testing.T) {
	const note = "The run history was damaged and moved aside as uxprobe.db.damaged-20261201T115900Z; a new one was started."
	for _, opts := range []Options{
		{Store: newStore(t), Notice: func() string { return note }},
		{StoreError: func() error { return nil }, Notice: func() string { return note }},
	} {
		srv := newServer(t, opts)
		for _, path := range []string{"/", "/flows/search"} {
			_, body, _ := get(t, srv.URL+path)
			if !strings.Contains(body, `<p class="notice" role="status"><strong>Note:</strong> `+note+`</p>`) {
				t.Errorf("GET %s (store %v): no notice", path, opts.Store != nil)
			}
		}
	}
	srv := newServer(t, Options{Store: newStore(t), Notice: func() string { return "" }})
	if _, body, _ := get(t, srv.URL+"/"); strings.Contains(body, `class="notice"`) {
		t.Error("an empty note shows a notice")
	}
}

// TestFleetRunsByLocation: /api/v1/runs?location= answers the runs of one
// location, newest first, with limit and offset over that location's runs.
func TestFleetRunsByLocation(t *testing.T) {
	srv := newServer(t, Options{Store: newFleetStore(t)})
	for _, tc := range []struct {
		query  string
		status int
		ids    []string
	}{
		{"location=us", 200, []string{"us-checkout-mobile", "us-search-mobile", "us-search-desktop", "us-checkout-desktop"}},
		{"location=us&limit=2&offset=1", 200, []string{"us-search-mobile", "us-search-desktop"}},
		{"location=eu&flow=checkout&device=mobile", 200, []string{"eu-checkout-mobile-bad", "eu-checkout-mobile-good"}},
		{"location=", 200, nil}, // agents without --location: none here
		{"location=EU", 400, nil},
	} {
		t.Run(tc.query, func(t *testing.T) {
			status, body, _ := get(t, srv.URL+"/api/v1/runs?"+tc.query)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			if status != 200 {
				return
			}
			var runs []struct{ ID string }
			if err := json.Unmarshal([]byte(body), &runs); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range runs {
				got = append(got, r.ID)
			}
			if strings.Join(got, " ") != strings.Join(tc.ids, " ") {
				t.Errorf("ids %q, want %q", got, tc.ids)
			}
		})
	}
}
