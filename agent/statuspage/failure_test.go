package statuspage

import (
	"image/png"
	"net/http"
	"strings"
	"testing"
)

// TestFailureShot asks for the picture an alert links to: the failure
// screenshot of the latest failed run while the flow has not recovered,
// 404 otherwise, never cached.
func TestFailureShot(t *testing.T) {
	one := newServer(t, Options{Store: newStore(t)})
	fleet := newServer(t, Options{Store: newFleetStore(t)})
	tests := []struct {
		name, url string
		status    int
		canonical string // the run's own artifact URL, relative
	}{
		{"failed on mobile", one.URL + "/flows/checkout/failure.png?device=mobile", 200,
			"../../api/v1/runs/r-checkout-mobile-bad/artifacts/failure-place_order.png"},
		// Any device: the latest run (desktop) ended in an agent error, so
		// the latest failure since the last success stands (mobile's).
		{"any device, latest run an agent error", one.URL + "/flows/checkout/failure.png", 200,
			"../../api/v1/runs/r-checkout-mobile-bad/artifacts/failure-place_order.png"},
		{"agent error and no failure since the last success", one.URL + "/flows/checkout/failure.png?device=desktop", 404, ""},
		{"last run succeeded", one.URL + "/flows/search/failure.png?device=desktop", 404, ""},
		{"no runs", one.URL + "/flows/fresh/failure.png", 404, ""},
		{"unknown flow", one.URL + "/flows/nope/failure.png", 404, ""},
		{"bad location", one.URL + "/flows/checkout/failure.png?location=EU!", 400, ""},
		{"fleet: failing location", fleet.URL + "/flows/checkout/failure.png?device=mobile&location=eu", 200,
			"../../api/v1/runs/eu-checkout-mobile-bad/artifacts/failure-place_order.png"},
		// The freshest run of any location (us) succeeded.
		{"fleet: any location", fleet.URL + "/flows/checkout/failure.png?device=mobile", 404, ""},
		{"fleet: working location", fleet.URL + "/flows/checkout/failure.png?device=mobile&location=us", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Get(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.status != 200 {
				return
			}
			if ct := resp.Header.Get("Content-Type"); ct != "image/png" {
				t.Errorf("Content-Type %q, want image/png", ct)
			}
			if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q, want no-store: the URL shows the newest failure", cc)
			}
			if l := resp.Header.Get("Link"); !strings.Contains(l, "<"+tt.canonical+">") {
				t.Errorf("Link %q, want the run's artifact %s", l, tt.canonical)
			}
			img, err := png.Decode(resp.Body)
			if err != nil {
				t.Fatalf("not a PNG: %v", err)
			}
			if got := img.Bounds().Size(); got != failureShotSize {
				t.Errorf("picture of %v, want the failure screenshot's %v", got, failureShotSize)
			}
		})
	}
}
