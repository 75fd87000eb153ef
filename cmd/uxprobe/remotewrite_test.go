package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/uxprobe/uxprobe/exporters/prometheus/promtest"
)

// TestRunRemoteWrite: `run --remote-write.url` pushes the flows' series to
// a real Prometheus with its remote write receiver, with the job and
// instance a scrape would add.
func TestRunRemoteWrite(t *testing.T) {
	prom := promtest.StartPrometheus(t)
	r := &gatedRunner{gate: make(chan struct{}, 10)}
	r.gate <- struct{}{}
	dir := t.TempDir()
	agentTestWrite(t, filepath.Join(dir, "a.yaml"), agentTestFlow("a", "@every 1h", "http://127.0.0.1:1/"))
	startAgentCmd(t, fakeStarter(r), "run", "--schedule.splay=0", "--storage.path=",
		"--remote-write.url="+prom+"/api/v1/write", "--remote-write.interval=200ms", dir)
	waitUntil(t, "the pushed run in Prometheus", func() bool {
		resp, err := http.Get(prom + "/api/v1/query?query=" + url.QueryEscape(`uxprobe_flow_success{flow="a",device="desktop",job="uxprobe"} == 1`))
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var out struct {
			Data struct {
				Result []struct {
					Metric map[string]string `json:"metric"`
				} `json:"result"`
			} `json:"data"`
		}
		if json.NewDecoder(resp.Body).Decode(&out) != nil || len(out.Data.Result) != 1 {
			return false
		}
		if out.Data.Result[0].Metric["instance"] == "" {
			t.Errorf("pushed without an instance label: %v", out.Data.Result[0].Metric)
		}
		return true
	})
}

func TestRunRemoteWriteBadURL(t *testing.T) {
	for _, u := range []string{"prometheus:9090", "http://user:s3cret@[::1/x"} {
		var stderr strings.Builder
		code := run(t.Context(), &environment{stdout: &strings.Builder{}, stderr: &stderr, lookupEnv: func(string) (string, bool) { return "", false },
			startRunner: fakeStarter(&gatedRunner{gate: make(chan struct{})})},
			[]string{"run", "--web.listen-address=127.0.0.1:0", "--storage.path=", "--remote-write.url=" + u, t.TempDir()})
		if code != exitUsage || !strings.Contains(stderr.String(), "--remote-write.url") {
			t.Errorf("%s: exit %d, stderr %q; want a usage error naming the flag", u, code, stderr.String())
		}
		if strings.Contains(stderr.String(), "s3cret") {
			t.Errorf("the password shows: %s", stderr.String())
		}
	}
}
