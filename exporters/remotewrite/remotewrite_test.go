package remotewrite

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"

	"github.com/uxprobe/uxprobe/agent/result"
	promexp "github.com/uxprobe/uxprobe/exporters/prometheus"
	"github.com/uxprobe/uxprobe/exporters/prometheus/promtest"
	"github.com/uxprobe/uxprobe/scenarios"
)

// agentRegistry is what an agent in location eu registers: the flows'
// collector after one failed run of checkout on mobile, and a histogram of
// its own, as the agent's queue wait is.
func agentRegistry(t *testing.T) *prom.Registry {
	t.Helper()
	desktop, _ := scenarios.LookupDevice("desktop")
	mobile, _ := scenarios.LookupDevice("mobile")
	var src result.LatestSet
	src.Sync([]*scenarios.Flow{{Name: "checkout", Schedule: "@every 1m", Devices: []scenarios.Device{desktop, mobile}}})
	c := promexp.NewCollector(&src, promexp.WithLocation("eu"))
	r := &result.Result{Flow: "checkout", Device: "mobile", DeviceClass: "mobile", Location: "eu", Agent: "eu-1",
		StartedAt: time.Now().Add(-time.Minute), DurationSeconds: 4.5,
		Error: &result.Error{Step: "place order", Kind: scenarios.KindNavigation, Message: "HTTP 500"}}
	src.Put(r)
	if err := c.Export(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	h := prom.NewHistogram(prom.HistogramOpts{Name: "uxprobe_test_wait_seconds", Help: "A histogram.", Buckets: []float64{0.5, 1}})
	h.Observe(0.7)
	reg := prom.NewRegistry()
	reg.MustRegister(c, h)
	return reg
}

// TestPushToPrometheus pushes to a real Prometheus started with its remote
// write receiver and reads the series back with PromQL.
func TestPushToPrometheus(t *testing.T) {
	base := promtest.StartPrometheus(t)
	p, err := New(base+"/api/v1/write", agentRegistry(t), Options{Labels: map[string]string{"job": "uxprobe", "instance": "eu-1"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.Push(ctx); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		query  string
		labels map[string]string
		value  string
	}{
		{`uxprobe_flow_success{location="eu"}`,
			map[string]string{"__name__": "uxprobe_flow_success", "flow": "checkout", "device": "mobile", "location": "eu", "job": "uxprobe", "instance": "eu-1"}, "0"},
		{`uxprobe_flow_last_failure_info{location="eu"}`,
			map[string]string{"__name__": "uxprobe_flow_last_failure_info", "flow": "checkout", "device": "mobile", "location": "eu", "step": "place order", "kind": "navigation", "job": "uxprobe", "instance": "eu-1"}, "1"},
		// Not run yet: counted from 0 under the agent's location.
		{`uxprobe_flow_runs_total{device="desktop",result="success"}`,
			map[string]string{"__name__": "uxprobe_flow_runs_total", "flow": "checkout", "device": "desktop", "location": "eu", "result": "success", "job": "uxprobe", "instance": "eu-1"}, "0"},
		{`uxprobe_test_wait_seconds_bucket{le="1"}`,
			map[string]string{"__name__": "uxprobe_test_wait_seconds_bucket", "le": "1", "job": "uxprobe", "instance": "eu-1"}, "1"},
		{`uxprobe_test_wait_seconds_bucket{le="+Inf"}`,
			map[string]string{"__name__": "uxprobe_test_wait_seconds_bucket", "le": "+Inf", "job": "uxprobe", "instance": "eu-1"}, "1"},
		{`uxprobe_test_wait_seconds_count`,
			map[string]string{"__name__": "uxprobe_test_wait_seconds_count", "job": "uxprobe", "instance": "eu-1"}, "1"},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			got := query(t, base, tc.query)
			if len(got) != 1 {
				t.Fatalf("%d series, want 1: %+v", len(got), got)
			}
			for k, v := range tc.labels {
				if got[0].Metric[k] != v {
					t.Errorf("label %s = %q, want %q (labels %v)", k, got[0].Metric[k], v, got[0].Metric)
				}
			}
			if len(got[0].Metric) != len(tc.labels) {
				t.Errorf("labels %v, want exactly %v", got[0].Metric, tc.labels)
			}
			if got[0].Value[1] != tc.value {
				t.Errorf("value %v, want %s", got[0].Value[1], tc.value)
			}
		})
	}
}

type vectorSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

func query(t *testing.T, base, q string) []vectorSample {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Status string `json:"status"`
		Data   struct {
			Result []vectorSample `json:"result"`
		} `json:"data"`
		Error string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if out.Status != "success" {
		t.Fatalf("query %s: %s", q, out.Error)
	}
	return out.Data.Result
}

// TestPushFailureKeepsThePassword: a receiver that refuses says so, and
// neither the error nor the log shows the URL's password.
func TestPushFailureKeepsThePassword(t *testing.T) {
	var mu sync.Mutex
	var auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth = r.Header.Get("Authorization")
		mu.Unlock()
		_, _ = io.Copy(io.Discard, r.Body)
		http.Error(w, "out of order sample", http.StatusBadRequest)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL + "/api/v1/write")
	u.User = url.UserPassword("agent", "s3cret-pw")
	p, err := New(u.String(), agentRegistry(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = p.Push(context.Background())
	if err == nil {
		t.Fatal("a 400 answer gave no error")
	}
	if strings.Contains(err.Error(), "s3cret-pw") || strings.Contains(p.URL(), "s3cret-pw") {
		t.Errorf("the password shows: %v / %s", err, p.URL())
	}
	mu.Lock()
	defer mu.Unlock()
	if auth == "" {
		t.Error("the URL's user and password were not sent as basic auth")
	}
}

func TestNewRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"", "prometheus:9090", "ftp://host/x", "http://user:pw@[::1/x"} {
		_, err := New(u, prom.NewRegistry(), Options{})
		if err == nil {
			t.Errorf("%q: no error", u)
		} else if strings.Contains(err.Error(), "pw") {
			t.Errorf("%q: the error shows the password: %v", u, err)
		}
	}
}
