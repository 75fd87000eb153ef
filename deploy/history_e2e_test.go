package deploy_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/uxprobe/uxprobe/agent/demoshop"
)

// TestE2EHistorySurvivesKill is the "done when" with the real
// binary and Chrome: with checkout broken, the history holds failed runs,
// the flow page names the failing step, the run's HAR has the HTTP 500;
// after kill -9 of the agent and its Chrome, a new agent on the same
// --storage.path still has every run that /api/v1/runs had shown.
func TestE2EHistorySurvivesKill(t *testing.T) {
	uxprobeBin := buildUxprobe(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
	defer cancel()

	shop := demoshop.New()
	shop.SetFaults(demoshop.Faults{CheckoutError: true})
	shopSrv := httptest.NewServer(shop)
	t.Cleanup(shopSrv.Close)
	flowDir := filepath.Join(dir, "flows")
	writeE2EFlow(t, flowDir)

	var procs []*proc
	t.Cleanup(func() {
		if t.Failed() {
			for _, p := range procs {
				t.Logf("----- log of %s -----\n%s", p.name, p.logTail(16<<10))
			}
		}
	})
	start := func(name string) (*proc, string) {
		p := startProc(t, dir, name, uxprobeBin, "run",
			"--web.listen-address=127.0.0.1:0", "--schedule.splay=0", "--browser.max-concurrency=1",
			"--artifacts="+filepath.Join(dir, "artifacts"), "--storage.path="+filepath.Join(dir, "history"),
			"--var", "base_url="+shopSrv.URL, flowDir)
		procs = append(procs, p)
		var addr string
		agentURL := regexp.MustCompile(`url=http://(127\.0\.0\.1:[0-9]+)/metrics`)
		waitUntil(ctx, t, name+" to serve", []*proc{p}, func() (bool, error) {
			m := agentURL.FindStringSubmatch(p.logTail(1 << 20))
			if m == nil {
				return false, nil
			}
			addr = m[1]
			return true, nil
		})
		return p, "http://" + addr
	}
	type run struct {
		ID     string `json:"id"`
		HARURL string `json:"har_url"`
		Result struct {
			Error *struct{ Step string } `json:"error"`
		} `json:"result"`
	}
	runs := func(base string) ([]run, error) {
		body, err := httpGet(ctx, base+"/api/v1/runs?flow="+e2eFlow)
		if err != nil {
			return nil, err
		}
		var rs []run
		return rs, json.Unmarshal([]byte(body), &rs)
	}

	first, base := start("uxprobe")
	var seen []run
	waitUntil(ctx, t, "two failed runs in the history", procs, func() (bool, error) {
		rs, err := runs(base)
		seen = rs
		return len(rs) >= 2, err
	})
	if seen[0].Result.Error == nil || seen[0].Result.Error.Step != "place order" || seen[0].HARURL == "" {
		t.Fatalf("latest run %+v, want a failure at place order with a HAR", seen[0])
	}
	page, err := httpGet(ctx, base+"/flows/"+e2eFlow)
	if err != nil || !strings.Contains(page, "failed at place order (navigation)") {
		t.Errorf("the flow page does not name the failing step (%v)", err)
	}
	harText, err := httpGet(ctx, base+seen[0].HARURL)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Log struct {
			Entries []struct {
				Request  struct{ Method, URL string }
				Response struct{ Status int }
			}
		}
	}
	if err := json.Unmarshal([]byte(harText), &doc); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range doc.Log.Entries {
		found = found || e.Request.Method == "POST" && e.Response.Status == 500
	}
	if !found {
		t.Errorf("the HAR has no POST answered with HTTP 500")
	}

	// kill -9 of the agent's whole process group, Chrome included.
	if err := syscall.Kill(-first.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.done

	_, base = start("uxprobe-restarted")
	rs, err := runs(base)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, r := range rs {
		have[r.ID] = true
	}
	for _, r := range seen {
		if !have[r.ID] {
			t.Errorf("run %s was shown before kill -9 and is gone after the restart", r.ID)
		}
	}
	t.Logf("%d runs before kill -9, %d after the restart", len(seen), len(rs))
}
