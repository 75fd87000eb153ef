package deploy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/uxprobe/uxprobe/agent/demoshop"
	promexp "github.com/uxprobe/uxprobe/exporters/prometheus"
	"github.com/uxprobe/uxprobe/scenarios"
)

// e2eTimeout bounds the end-to-end test after the build: starting
// everything, the first good checkout, the alert firing and resolving. On an
// idle machine it takes well under a minute; the rest is headroom for the
// two shared cores that `go test ./...` also gives other packages' Chrome
// tests.
const e2eTimeout = 3 * time.Minute

// The failure the test provokes: the demo shop's checkout fault makes POST
// /checkout answer HTTP 500, which the example checkout flow meets at this
// step.
const (
	e2eFlow        = "checkout"
	e2eFailingStep = "place order"
	e2eAlert       = "UXProbeFlowFailing"
)

// siteForLine is the rewrite that uxprobe.rules.yml documents for tests that
// cannot wait minutes: it shortens the `for:` of every site alert, whose line
// ends in `# site-for`, and leaves the agent alerts alone.
var siteForLine = regexp.MustCompile(`(?m)^( *for:) [0-9a-z]+( *# site-for)$`)

// TestE2ECheckoutAlert runs the whole alerting path as users deploy it: the
// demo shop, `uxprobe run` on the example checkout flow, a real Prometheus
// with uxprobe's rules and a real Alertmanager whose webhook is this test. It
// breaks checkout in the shop and expects a page that names the failing step
// and links its screenshot, which the agent serves, then repairs it and
// expects the page to resolve. The agent serves under a path, as behind a
// reverse proxy (--web.external-url), so every link must carry it.
func TestE2ECheckoutAlert(t *testing.T) {
	prometheusBin := requireBinary(t, "prometheus", "prometheus")
	alertmanagerBin := requireBinary(t, "prometheus-alertmanager", "prometheus-alertmanager")
	uxprobeBin := buildUxprobe(t)
	dir := t.TempDir()
	start := time.Now()

	// Registered first, so it runs last: after every program has stopped and
	// its log is complete.
	var procs []*proc
	t.Cleanup(func() {
		if t.Failed() {
			for _, p := range procs {
				t.Logf("----- log of %s (%s) -----\n%s", p.name, p.logPath, p.logTail(16<<10))
			}
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
	defer cancel()

	hook := &webhook{t: t}
	hookSrv := httptest.NewServer(hook)
	t.Cleanup(hookSrv.Close)

	// The shop runs in this process: it is the same package `uxprobe demo`
	// serves, and its fault switch is still driven over HTTP below.
	shopSrv := httptest.NewServer(demoshop.New())
	t.Cleanup(shopSrv.Close)

	// The agent, on a copy of the example checkout flow. Its address must
	// be known before it starts, for its external URL.
	flowDir := filepath.Join(dir, "flows")
	writeE2EFlow(t, flowDir)
	agentAddr := freeAddress(t)
	externalURL := "http://" + agentAddr + e2ePrefix
	uxprobe := startProc(t, dir, "uxprobe", uxprobeBin, "run",
		"--web.listen-address="+agentAddr,
		"--web.external-url="+externalURL+"/",
		"--schedule.splay=0",
		// One tab at a time: the test shares two cores with other packages.
		"--browser.max-concurrency=1",
		"--shutdown.timeout=5s",
		"--artifacts="+filepath.Join(dir, "artifacts"),
		"--storage.path="+filepath.Join(dir, "history"),
		"--var", "base_url="+shopSrv.URL,
		flowDir)
	procs = append(procs, uxprobe)
	waitUntil(ctx, t, "the agent to serve "+e2ePrefix+"/metrics", procs, func() (bool, error) {
		_, err := httpGet(ctx, externalURL+"/metrics")
		return err == nil, err
	})

	amAddr := freeAddress(t)
	amConfig := filepath.Join(dir, "alertmanager.yml")
	writeYAML(t, amConfig, map[string]any{
		"route": map[string]any{
			"receiver": "test",
			// One alert per group, so each notification is about one step.
			"group_by":        []string{"alertname", "flow", "device", "step"},
			"group_wait":      "1s",
			"group_interval":  "1s",
			"repeat_interval": "1h",
		},
		"receivers": []any{map[string]any{
			"name": "test",
			"webhook_configs": []any{map[string]any{
				"url":           hookSrv.URL + "/hook",
				"send_resolved": true,
			}},
		}},
	})
	am := startProc(t, dir, "alertmanager", alertmanagerBin,
		"--config.file="+amConfig,
		"--storage.path="+filepath.Join(dir, "alertmanager-data"),
		"--web.listen-address="+amAddr,
		// Empty: no cluster gossip, which would need a network.
		"--cluster.listen-address=")
	procs = append(procs, am)

	promAddr := freeAddress(t)
	promURL := "http://" + promAddr
	promConfig := filepath.Join(dir, "prometheus.yml")
	writeYAML(t, promConfig, map[string]any{
		"global": map[string]any{
			"scrape_interval":     "1s",
			"scrape_timeout":      "1s",
			"evaluation_interval": "1s",
		},
		"rule_files": e2eRuleFiles(t, dir),
		"alerting": map[string]any{
			"alertmanagers": []any{map[string]any{
				"static_configs": []any{map[string]any{"targets": []string{amAddr}}},
			}},
		},
		"scrape_configs": []any{map[string]any{
			// The job name the rules expect (UXProbeAgentDown).
			"job_name":       "uxprobe",
			"metrics_path":   e2ePrefix + "/metrics",
			"static_configs": []any{map[string]any{"targets": []string{agentAddr}}},
		}},
	})
	prom := startProc(t, dir, "prometheus", prometheusBin,
		"--config.file="+promConfig,
		"--storage.tsdb.path="+filepath.Join(dir, "prometheus-data"),
		"--web.listen-address="+promAddr)
	procs = append(procs, prom)

	// Registered after Prometheus and Alertmanager started, so it runs
	// before they are stopped.
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, q := range []string{
			promURL + "/api/v1/alerts",
			promURL + "/api/v1/rules?type=alert",
			promURL + "/api/v1/query?query=" + url.QueryEscape(`{__name__=~"`+promexp.MetricFlowSuccess+`|`+promexp.MetricFlowFailures+`|`+promexp.MetricFlowRuns+`"}`),
			"http://" + amAddr + "/api/v2/alerts",
		} {
			body, err := httpGet(context.Background(), q)
			if err != nil {
				body = err.Error()
			}
			t.Logf("----- %s -----\n%s", q, body)
		}
		t.Logf("----- webhook payloads -----\n%s", hook.dump())
	})

	for _, svc := range []struct{ name, url string }{
		{"Alertmanager", "http://" + amAddr + "/-/ready"},
		{"Prometheus", promURL + "/-/ready"},
	} {
		waitUntil(ctx, t, svc.name+" to be ready", procs, func() (bool, error) {
			_, err := httpGet(ctx, svc.url)
			return err == nil, err
		})
	}

	// The flow must work before the fault, or the alert would prove nothing.
	waitUntil(ctx, t, "Prometheus to see a successful checkout", procs, func() (bool, error) {
		res, err := promQuery(ctx, promURL, promexp.MetricFlowSuccess+`{flow="`+e2eFlow+`"} == 1`)
		return len(res) > 0, err
	})

	setFaults(ctx, t, shopSrv.URL, "checkout")
	isOurs := func(a amAlert) bool {
		return a.Labels["alertname"] == e2eAlert && a.Labels["flow"] == e2eFlow
	}
	var fired amAlert
	waitUntil(ctx, t, "the webhook to receive a firing "+e2eAlert, procs, func() (bool, error) {
		var ok bool
		fired, ok = hook.find(func(a amAlert) bool {
			return a.Status == "firing" && isOurs(a) && a.Labels["step"] == e2eFailingStep
		})
		return ok, nil
	})
	t.Logf("firing: %v, summary %q", fired.Labels, fired.Annotations["summary"])
	// Where the page goes and what the person paged reads.
	if fired.Labels["component"] != "site" || fired.Labels["severity"] != "critical" {
		t.Errorf("alert labels %v, want component=site and severity=critical", fired.Labels)
	}
	if want := `step "` + e2eFailingStep + `"`; !strings.Contains(fired.Annotations["summary"], want) {
		t.Errorf("summary %q does not name the failing step (%s)", fired.Annotations["summary"], want)
	}
	shotURL := fired.Annotations["screenshot"]
	if want := externalURL + "/flows/" + e2eFlow + "/failure.png?device=desktop"; shotURL != want {
		t.Errorf("screenshot annotation %q, want %q", shotURL, want)
	}
	checkFailureShot(ctx, t, shotURL)
	if want := externalURL + "/flows/" + e2eFlow + "#dev-desktop"; fired.Annotations["status_page"] != want {
		t.Errorf("status_page annotation %q, want %q", fired.Annotations["status_page"], want)
	} else if page, err := httpGet(ctx, want); err != nil || !strings.Contains(page, `id="dev-desktop"`) {
		t.Errorf("status_page %s: %v, or no desktop section in:\n%.500s", want, err, page)
	}

	setFaults(ctx, t, shopSrv.URL, "none")
	waitUntil(ctx, t, "the webhook to receive the resolved "+e2eAlert, procs, func() (bool, error) {
		_, ok := hook.find(func(a amAlert) bool {
			return a.Status == "resolved" && maps.Equal(a.Labels, fired.Labels)
		})
		return ok, nil
	})

	// The flow works again: the link of the old notification shows no
	// failure as if it were current.
	if code := httpStatus(ctx, t, shotURL); code != http.StatusNotFound {
		t.Errorf("GET %s after recovery: HTTP %d, want 404", shotURL, code)
	}

	// The agent must stop cleanly on SIGTERM, as under a service manager or
	// Kubernetes, and take its Chrome with it.
	if err := uxprobe.stop(30 * time.Second); err != nil {
		t.Errorf("uxprobe run ended with %s on SIGTERM, want exit status 0", exitCode(err))
	}
	if len(uxprobe.leftovers) > 0 {
		t.Errorf("uxprobe run left processes running after it exited: %v", uxprobe.leftovers)
	}
	t.Logf("end to end in %s", time.Since(start).Round(time.Second))
}

// e2ePrefix is the path the agent serves under in TestE2ECheckoutAlert.
const e2ePrefix = "/uxprobe"

// checkFailureShot fetches the alert's screenshot URL: a PNG of the desktop
// viewport, taken by the run that failed at the failing step (the run its
// Link header names).
func checkFailureShot(ctx context.Context, t *testing.T, shotURL string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, shotURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s, Content-Type %q, want 200 image/png: %.300s", shotURL, resp.Status, resp.Header.Get("Content-Type"), body)
	}
	img, err := png.Decode(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: not a PNG: %v", shotURL, err)
	}
	d, _ := scenarios.LookupDevice("desktop")
	want := image.Pt(int(float64(d.Width)*d.Scale), int(float64(d.Height)*d.Scale))
	if got := img.Bounds().Size(); got != want {
		t.Errorf("screenshot of %v px, want the desktop viewport's %v", got, want)
	}
	// The Link names the run's own copy: .../api/v1/runs/ID/artifacts/NAME.
	link := regexp.MustCompile(`^<([^>]+)>`).FindStringSubmatch(resp.Header.Get("Link"))
	if link == nil {
		t.Fatalf("GET %s: no Link to the run's artifact: %q", shotURL, resp.Header.Get("Link"))
	}
	base, _ := url.Parse(shotURL)
	art, err := base.Parse(link[1])
	if err != nil {
		t.Fatal(err)
	}
	runURL, _, ok := strings.Cut(art.String(), "/artifacts/")
	if !ok || !strings.HasPrefix(runURL, strings.TrimSuffix(base.String(), base.RequestURI())+e2ePrefix+"/api/v1/runs/") {
		t.Fatalf("Link %s is not a run's artifact under %s", art, e2ePrefix)
	}
	body, err := httpGet(ctx, runURL)
	if err != nil {
		t.Fatal(err)
	}
	var run struct {
		Result struct {
			Error *struct{ Step string } `json:"error"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(body), &run); err != nil {
		t.Fatal(err)
	}
	if run.Result.Error == nil || run.Result.Error.Step != e2eFailingStep {
		t.Errorf("the screenshot is of run %s, which did not fail at %q: %.300s", runURL, e2eFailingStep, body)
	}
}

// httpStatus returns the status of a GET.
func httpStatus(ctx context.Context, t *testing.T, u string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// writeE2EFlow copies the example checkout flow into dir with a schedule of
// seconds instead of a minute, and on desktop only: one device is enough to
// see the alert and halves the Chrome work on shared cores. The rewrites
// fail loudly if the example changes shape, rather than testing something
// else.
func writeE2EFlow(t *testing.T, dir string) {
	t.Helper()
	src := "../scenarios/examples/" + e2eFlow + ".yaml"
	text := string(readFile(t, src))
	for _, r := range []struct {
		re   *regexp.Regexp
		with string
	}{
		{regexp.MustCompile(`(?m)^schedule: .*$`), `schedule: "@every 5s"`},
		{regexp.MustCompile(`(?m)^devices: .*$`), `devices: [desktop]`},
	} {
		if !r.re.MatchString(text) {
			t.Fatalf("%s has no line matching %s to rewrite", src, r.re)
		}
		text = r.re.ReplaceAllString(text, r.with)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, e2eFlow+".yaml"), []byte(text))
}

// e2eRuleFiles copies the rule files into dir with the site alerts' `for:`
// shortened to 2s (still long enough to go through pending) and returns
// their paths.
func e2eRuleFiles(t *testing.T, dir string) []string {
	t.Helper()
	text := string(readFile(t, rulesFile))
	if !siteForLine.MatchString(text) {
		t.Fatalf("%s has no `for:` line marked # site-for to shorten", rulesFile)
	}
	files := map[string]string{
		filepath.Join(dir, "uxprobe.rules.yml"):      siteForLine.ReplaceAllString(text, "${1} 2s${2}"),
		filepath.Join(dir, "uxprobe.thresholds.yml"): string(readFile(t, thresholdsFile)),
	}
	var paths []string
	for path, data := range files {
		writeFile(t, path, []byte(data))
		paths = append(paths, path)
	}
	return paths
}

func writeYAML(t *testing.T, path string, v any) {
	t.Helper()
	data, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, data)
}

// waitUntil polls cond until it holds, failing the test when ctx ends first
// or when one of the programs exits: then nothing it waits for can come.
func waitUntil(ctx context.Context, t *testing.T, what string, procs []*proc, cond func() (bool, error)) {
	t.Helper()
	start := time.Now()
	for {
		for _, p := range procs {
			if p.exited() {
				t.Fatalf("%s ended (%s) while waiting for %s", p.name, exitCode(p.err), what)
			}
		}
		ok, err := cond()
		if ok {
			t.Logf("%s: %s", what, time.Since(start).Round(100*time.Millisecond))
			return
		}
		select {
		case <-ctx.Done():
			last := ""
			if err != nil {
				last = " (last error: " + err.Error() + ")"
			}
			t.Fatalf("waiting for %s: gave up after %s%s", what, time.Since(start).Round(time.Second), last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// httpClient bounds each request, so that a hung program cannot stall the
// test past its deadline.
var httpClient = &http.Client{Timeout: 5 * time.Second}

// httpGet returns the body of a 200 response.
func httpGet(ctx context.Context, u string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return string(body), fmt.Errorf("GET %s: %s: %s", u, resp.Status, body)
	}
	return string(body), nil
}

// promQuery runs an instant query and returns the label sets of the result
// vector.
func promQuery(ctx context.Context, promURL, query string) ([]map[string]string, error) {
	body, err := httpGet(ctx, promURL+"/api/v1/query?query="+url.QueryEscape(query))
	if err != nil {
		return nil, err
	}
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		return nil, fmt.Errorf("query %s: %v: %s", query, err, body)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("query %s: %s", query, body)
	}
	var sets []map[string]string
	for _, s := range r.Data.Result {
		sets = append(sets, s.Metric)
	}
	return sets, nil
}

// setFaults switches the shop's faults through its admin endpoint, as the
// README tells a person to, and checks that the shop took them.
func setFaults(ctx context.Context, t *testing.T, shopURL, spec string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, shopURL+"/admin/faults?format=text",
		strings.NewReader(url.Values{"faults": {spec}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := httpClient.Do(req) // follows the redirect to the current faults
	if err != nil {
		t.Fatalf("setting faults %q: %v", spec, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if got := strings.TrimSpace(string(body)); resp.StatusCode != http.StatusOK || got != spec {
		t.Fatalf("setting faults %q: %s, faults now %q", spec, resp.Status, got)
	}
	t.Logf("shop faults: %s", spec)
}

// amAlert is one alert of an Alertmanager webhook notification.
type amAlert struct {
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

// webhook is the receiver Alertmanager notifies: it keeps every alert of
// every notification for the test to look through.
type webhook struct {
	t        *testing.T
	mu       sync.Mutex
	alerts   []amAlert
	payloads []string
}

func (h *webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	var n struct {
		Alerts []amAlert `json:"alerts"`
	}
	if err == nil {
		err = json.Unmarshal(body, &n)
	}
	if r.URL.Path != "/hook" || err != nil {
		h.t.Errorf("webhook: %s %s: %v: %s", r.Method, r.URL, err, body)
		http.Error(w, "bad notification", http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.alerts = append(h.alerts, n.Alerts...)
	h.payloads = append(h.payloads, string(body))
}

// find returns the first alert received that matches.
func (h *webhook) find(match func(amAlert) bool) (amAlert, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, a := range h.alerts {
		if match(a) {
			return a, true
		}
	}
	return amAlert{}, false
}

func (h *webhook) dump() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return strings.Join(h.payloads, "\n")
}
