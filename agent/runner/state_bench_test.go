package runner

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/uxprobe/uxprobe/scenarios"
)

// BenchmarkStartingState is the cost of a run's starting state: one page
// with none, with two cookies, and with local storage of one origin (a
// helper tab loads an empty page of the origin to fill it).
func BenchmarkStartingState(b *testing.B) {
	srv := httptest.NewServer(&stateSite{})
	defer srv.Close()
	d, _ := scenarios.LookupDevice("desktop")
	r := &Runner{Browser: testBrowser}
	for _, bc := range []struct{ name, keys string }{
		{"none", ""},
		{"cookies", "cookies:\n  - {name: a, value: \"1\", url: \"" + srv.URL + "/\"}\n  - {name: b, value: \"2\", url: \"" + srv.URL + "/\"}\n"},
		{"local_storage", "local_storage:\n  \"" + srv.URL + "\": {flag: \"on\"}\n"},
	} {
		flows, err := scenarios.Parse("b.yaml", []byte("name: b\n"+bc.keys+"steps:\n  - goto: "+srv.URL+"/page\n"), scenarios.LoadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			var setup float64
			for b.Loop() {
				res := r.Run(context.Background(), flows[0], d)
				if !res.Success {
					b.Fatalf("run failed: %+v", res.Error)
				}
				setup += res.SetupSeconds
			}
			// The state is set before the first step: it is set-up time.
			b.ReportMetric(setup*1000/float64(b.N), "setup-ms/op")
		})
	}
}
