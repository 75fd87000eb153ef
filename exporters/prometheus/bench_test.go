package prometheus

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/uxprobe/uxprobe/scenarios"
)

// BenchmarkScrape measures one scrape of /metrics over HTTP with 100 flows
// on 3 devices, each with a full result of steps and pages.
func BenchmarkScrape(b *testing.B) {
	var flows []*scenarios.Flow
	var devices []scenarios.Device
	for _, n := range []string{"desktop", "mobile", "tablet"} {
		d, _ := scenarios.LookupDevice(n)
		devices = append(devices, d)
	}
	for i := range 100 {
		flows = append(flows, &scenarios.Flow{Name: fmt.Sprintf("flow-%03d", i), Schedule: "@every 1m", Devices: devices})
	}
	src := newTestSource(flows)
	e := NewCollector(src)
	for _, f := range flows {
		for _, d := range devices {
			r := checkoutDesktopOK()
			r.Flow, r.Device = f.Name, d.Name
			record(b, src, e, r)
		}
	}
	reg := prom.NewRegistry()
	reg.MustRegister(e)
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	b.ReportAllocs()
	var size int64
	for b.Loop() {
		resp, err := http.Get(srv.URL)
		if err != nil {
			b.Fatal(err)
		}
		size, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	b.ReportMetric(float64(size)/1024, "KiB/scrape")
}
