package prometheus

import (
	"context"
	"fmt"
	"github.com/uxprobe/uxprobe/exporters/prometheus/promtest"
	"net"
	"net/http"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

func gatewayMetrics(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// hasSample reports whether a family has a sample whose labels include want,
// with the value.
func hasSample(fams map[string]*dto.MetricFamily, name string, want map[string]string, value float64) bool {
	for _, m := range fams[name].GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			if labels[k] != v {
				match = false
			}
		}
		v := m.GetGauge().GetValue() + m.GetCounter().GetValue()
		if match && v == value {
			return true
		}
	}
	return false
}

func TestPush(t *testing.T) {
	url := promtest.StartPushgateway(t)
	results := []*result.Result{checkoutDesktopOK(), checkoutMobileFailed(), searchDesktop(true, "", t0)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := Push(ctx, url, "", results); err != nil {
		t.Fatal(err)
	}
	fams := gatewayMetrics(t, url)
	type L = map[string]string
	tests := []struct {
		metric string
		labels L
		value  float64
	}{
		{MetricFlowSuccess, L{"job": "uxprobe", "flow": "checkout", "device": "desktop"}, 1},
		{MetricFlowSuccess, L{"job": "uxprobe", "flow": "checkout", "device": "mobile"}, 0},
		{MetricFlowSuccess, L{"job": "uxprobe", "flow": "search", "device": "desktop"}, 1},
		{MetricFlowRuns, L{"job": "uxprobe", "flow": "checkout", "device": "mobile", "result": "failure"}, 1},
		{MetricFlowFailures, L{"job": "uxprobe", "flow": "checkout", "device": "mobile", "step": "place order", "kind": string(scenarios.KindNavigation)}, 1},
		{MetricPageTTFB, L{"job": "uxprobe", "flow": "checkout", "device": "desktop", "step": "place order"}, 0.6},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s%v", tt.metric, tt.labels), func(t *testing.T) {
			if !hasSample(fams, tt.metric, tt.labels, tt.value) {
				t.Errorf("pushgateway has no %s%v = %v", tt.metric, tt.labels, tt.value)
			}
		})
	}

	// A second push of a flow replaces that flow's group only.
	if err := Push(ctx, url, "", []*result.Result{searchDesktop(false, scenarios.KindAssertion, t0)}); err != nil {
		t.Fatal(err)
	}
	fams = gatewayMetrics(t, url)
	if !hasSample(fams, MetricFlowSuccess, L{"flow": "search", "device": "desktop"}, 0) {
		t.Error("the second push did not replace the search flow's success")
	}
	if !hasSample(fams, MetricFlowSuccess, L{"flow": "checkout", "device": "desktop"}, 1) {
		t.Error("the second push removed the checkout flow's metrics")
	}
}

// TestPushLocations: two locations pushing the same flow keep a group
// each, so neither replaces the other's results.
func TestPushLocations(t *testing.T) {
	url := promtest.StartPushgateway(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	eu := searchDesktop(false, scenarios.KindAssertion, t0)
	eu.Location = "eu"
	us := searchDesktop(true, "", t0)
	us.Location = "us"
	for _, r := range []*result.Result{eu, us} {
		if err := NewPusher(url, "").Export(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	fams := gatewayMetrics(t, url)
	type L = map[string]string
	for _, tc := range []struct {
		labels L
		value  float64
	}{
		{L{"job": "uxprobe", "flow": "search", "device": "desktop", "location": "eu"}, 0},
		{L{"job": "uxprobe", "flow": "search", "device": "desktop", "location": "us"}, 1},
	} {
		if !hasSample(fams, MetricFlowSuccess, tc.labels, tc.value) {
			t.Errorf("pushgateway has no %s%v = %v", MetricFlowSuccess, tc.labels, tc.value)
		}
	}
}

func TestPushUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	l.Close()
	err = Push(context.Background(), url, "ci", []*result.Result{checkoutDesktopOK()})
	if err == nil {
		t.Fatal("push to a closed port gave no error")
	}
}
