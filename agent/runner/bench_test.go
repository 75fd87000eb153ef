package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/uxprobe/uxprobe/agent/browser"
	"github.com/uxprobe/uxprobe/agent/demoshop"
	"github.com/uxprobe/uxprobe/agent/runner/rawbaseline"
	"github.com/uxprobe/uxprobe/scenarios"
	"github.com/uxprobe/uxprobe/scenarios/examples"
)

// The benchmarks run the shipped example flows against the demo shop, and
// the same flows written as a minimal raw-chromedp script in the same
// Chrome: the baseline uxprobe's per-run time and CPU are held against
// (goal: at most 1.0x). cpu-ms/op counts this process and every Chrome
// process, since a tool that moves work into the browser has not saved it.

// busyServer records how long at least one request was in flight: the time
// the server spent, which is not the runner's.
type busyServer struct {
	h        http.Handler
	mu       sync.Mutex
	inFlight int
	since    time.Time
	busy     time.Duration
}

func (s *busyServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.inFlight == 0 {
		s.since = time.Now()
	}
	s.inFlight++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if s.inFlight--; s.inFlight == 0 {
			s.busy += time.Since(s.since)
		}
		s.mu.Unlock()
	}()
	s.h.ServeHTTP(w, r)
}

func (s *busyServer) total() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.busy
}

func benchShop(b *testing.B) (*httptest.Server, map[string]*scenarios.Flow) {
	srv, flows, _ := benchShopTimed(b)
	return srv, flows
}

func benchShopTimed(b *testing.B) (*httptest.Server, map[string]*scenarios.Flow, *busyServer) {
	b.Helper()
	shop := &busyServer{h: demoshop.New()}
	srv := httptest.NewServer(shop)
	b.Cleanup(srv.Close)
	flows, err := scenarios.LoadFS(examples.FS, scenarios.LoadOptions{Vars: map[string]string{"base_url": srv.URL}, LookupEnv: demoshop.DemoEnv(noEnv)})
	if err != nil {
		b.Fatal(err)
	}
	byName := map[string]*scenarios.Flow{}
	for _, f := range flows {
		byName[f.Name] = f
	}
	// page-check is the most common flow there is, a goto and nothing
	// else: its cost is mostly the final read of the page's vitals.
	check, err := scenarios.Parse("page-check.yaml", []byte("name: page-check\nsteps:\n  - goto: "+srv.URL+"/\n"), scenarios.LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	byName["page-check"] = check[0]
	return srv, byName, shop
}

// BenchmarkRun reports, besides time and CPU per run, the task time the
// result gives, the time the shop spent serving, and the difference: what
// the runner and Chrome add to the server's time, the overhead a user of
// uxprobe pays on top of their site; and the result's setup time (the tab,
// emulation and the final vitals read), which task time leaves out.
//
// It also breaks a run down, to show where the time goes: each phase (the
// tab, every step by its name, the final read, building the result) in
// ms/op, and the protocol round trips each phase sends to the run's tab in
// rt/op. It runs in a browser of its own that hears every protocol message.
func BenchmarkRun(b *testing.B) {
	_, flows, shop := benchShopTimed(b)
	rts := &roundTrips{}
	br, err := browser.Start(browser.Options{NoSandbox: os.Geteuid() == 0, WarmTabs: 1, Debugf: rts.debugf})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = br.Close() })
	r := &Runner{Browser: br, phase: rts.begin}
	r.Progress = func(_, _, step string) { rts.begin("step-" + step) }
	for _, name := range []string{"page-check", "search", "checkout"} {
		for _, dev := range []string{"desktop", "mobile"} {
			f := flows[name]
			d, _ := f.Device(dev)
			b.Run(name+"/"+dev, func(b *testing.B) {
				var task, server, setup time.Duration
				rts.reset()
				measure(b, func() error {
					// As between scheduled runs: the warm tab is ready.
					br.Settle()
					s0 := shop.total()
					rts.startRun()
					res := r.Run(context.Background(), f, d)
					rts.endRun()
					if !res.Success {
						return fmt.Errorf("%s on %s failed: %+v", name, dev, res.Error)
					}
					task += time.Duration(res.DurationSeconds * float64(time.Second))
					setup += time.Duration(res.SetupSeconds * float64(time.Second))
					server += shop.total() - s0
					return nil
				})
				runs := float64(b.N + 1) // measure's warm-up run counts here too
				b.ReportMetric(float64(task.Milliseconds())/runs, "task-ms/op")
				b.ReportMetric(float64(server.Milliseconds())/runs, "server-ms/op")
				b.ReportMetric(float64((task-server).Milliseconds())/runs, "overhead-ms/op")
				b.ReportMetric(float64(setup.Milliseconds())/runs, "setup-ms/op")
				rts.report(b, runs)
			})
		}
	}
}

// roundTrips breaks runs down into phases: how long each took and how many
// protocol commands it sent to the run's tab, which each wait for an
// answer. Commands of other targets (the warm tab opened in the background)
// are left out; commands to the browser itself are counted apart.
type roundTrips struct {
	mu      sync.Mutex
	running bool
	phase   string
	since   time.Time
	order   []string
	time    map[string]time.Duration
	sent    []sentCmd // of the current run
	rt      map[string]int
	browser int
}

type sentCmd struct{ phase, session, method string }

func (rt *roundTrips) reset() {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.order, rt.time, rt.rt, rt.browser = nil, map[string]time.Duration{}, map[string]int{}, 0
}

func (rt *roundTrips) startRun() {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.running, rt.phase, rt.sent = true, "", nil
}

// begin starts a phase, ending the one before.
func (rt *roundTrips) begin(name string) func() {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.endPhase()
	if _, ok := rt.time[name]; !ok {
		rt.order = append(rt.order, name)
		rt.time[name] = 0
	}
	rt.phase, rt.since = name, time.Now()
	return func() {
		rt.mu.Lock()
		defer rt.mu.Unlock()
		if rt.phase == name {
			rt.endPhase()
		}
	}
}

func (rt *roundTrips) endPhase() {
	if rt.phase != "" {
		rt.time[rt.phase] += time.Since(rt.since)
	}
	rt.phase = "between"
	rt.since = time.Now()
}

// endRun attributes the run's commands: the run's tab is the target that
// got the device emulation.
func (rt *roundTrips) endRun() {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.endPhase()
	rt.running = false
	session := ""
	for _, c := range rt.sent {
		if c.method == "Emulation.setDeviceMetricsOverride" {
			session = c.session
		}
	}
	for _, c := range rt.sent {
		switch {
		case c.session == "":
			rt.browser++
		case c.session == session:
			rt.rt[c.phase]++
		}
	}
}

func (rt *roundTrips) debugf(format string, args ...any) {
	if !strings.HasPrefix(format, "-> ") || len(args) != 1 {
		return
	}
	raw, ok := args[0].([]byte)
	if !ok {
		return
	}
	var msg struct {
		Method    string `json:"method"`
		SessionID string `json:"sessionId"`
	}
	if json.Unmarshal(raw, &msg) != nil {
		return
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.running {
		rt.sent = append(rt.sent, sentCmd{rt.phase, msg.SessionID, msg.Method})
	}
}

func (rt *roundTrips) report(b *testing.B, runs float64) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	unit := strings.NewReplacer(" ", "_", "/", "_")
	for _, ph := range rt.order {
		u := unit.Replace(ph)
		b.ReportMetric(float64(rt.time[ph].Microseconds())/1000/runs, u+"-ms/op")
		b.ReportMetric(float64(rt.rt[ph])/runs, u+"-rt/op")
	}
	b.ReportMetric(float64(rt.browser)/runs, "browser-rt/op")
}

// BenchmarkRawChromedp gives the baselines' absolute figures; see
// rawbaseline.
func BenchmarkRawChromedp(b *testing.B) {
	srv, _ := benchShop(b)
	for _, binary := range []string{"default", "same-binary"} {
		raw := startRawBrowser(b, binary)
		for _, name := range []string{"search", "checkout"} {
			for _, dev := range []string{"desktop", "mobile"} {
				b.Run(binary+"/"+name+"/"+dev, func(b *testing.B) {
					measure(b, func() error { return raw.Run(srv.URL, name, dev) })
				})
			}
		}
		raw.Close()
	}
}

// BenchmarkVsRawChromedp checks the goal directly: it alternates a uxprobe
// run and a raw-chromedp run of the same flow, so that both see the same
// machine from moment to moment, and reports uxprobe's time and CPU as a
// ratio of the baseline's (goal: at most 1.0). uxprobe's CPU window ends
// when its released tab is gone and the next warm tab is open, so the work
// it moves into the background is counted. Each side's CPU window also
// takes teardownTail after that, and the other side starts after it: Chrome
// ends a closed tab's renderer process after the protocol answered, and
// without the tail that work of each side fell into the other's window.
func BenchmarkVsRawChromedp(b *testing.B) {
	srv, flows := benchShop(b)
	r := &Runner{Browser: testBrowser}
	for _, binary := range []string{"default", "same-binary"} {
		raw := startRawBrowser(b, binary)
		for _, name := range []string{"search", "checkout"} {
			for _, dev := range []string{"desktop", "mobile"} {
				f := flows[name]
				d, _ := f.Device(dev)
				b.Run(binary+"/"+name+"/"+dev, func(b *testing.B) {
					ours := func() error {
						if res := r.Run(context.Background(), f, d); !res.Success {
							return fmt.Errorf("uxprobe: %+v", res.Error)
						}
						return nil
					}
					theirs := func() error { return raw.Run(srv.URL, name, dev) }
					for _, warm := range []func() error{ours, theirs} {
						if err := warm(); err != nil {
							b.Fatal(err)
						}
					}
					var oursTime, oursCPU, theirTime, theirCPU time.Duration
					testBrowser.Settle()
					time.Sleep(teardownTail)
					for b.Loop() {
						c0, t0 := rawbaseline.MachineCPU(), time.Now()
						if err := ours(); err != nil {
							b.Fatal(err)
						}
						oursTime += time.Since(t0)
						testBrowser.Settle()
						time.Sleep(teardownTail)
						oursCPU += rawbaseline.MachineCPU() - c0

						c0, t0 = rawbaseline.MachineCPU(), time.Now()
						if err := theirs(); err != nil {
							b.Fatal(err)
						}
						theirTime += time.Since(t0)
						time.Sleep(teardownTail)
						theirCPU += rawbaseline.MachineCPU() - c0
					}
					b.ReportMetric(float64(oursTime)/float64(theirTime), "time-ratio")
					b.ReportMetric(float64(oursCPU)/float64(theirCPU), "cpu-ratio")
				})
			}
		}
		raw.Close()
	}
}

// teardownTail is how long Chrome takes, after a closed tab's browser
// context was disposed of, to end its renderer process, with room to spare.
const teardownTail = 150 * time.Millisecond

// startRawBrowser starts the baseline (see rawbaseline): "default" is what
// such a program gets from chromedp's defaults (it finds Chromium on PATH);
// "same-binary" drives the browser binary uxprobe uses, so that the
// difference left is uxprobe's own work per run.
func startRawBrowser(b *testing.B, binary string) *rawbaseline.Browser {
	b.Helper()
	path := ""
	if binary == "same-binary" {
		path = testBrowser.Path()
	}
	raw, err := rawbaseline.Start(path)
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

// measure runs one flow per iteration after a warm-up run and reports the
// machine's CPU time per run. The whole machine, from /proc/stat: Chrome's
// renderers come and go with every run, and a process that exited takes its
// CPU time out of any per-process sum. So `make bench` wants an otherwise
// idle machine.
func measure(b *testing.B, run func() error) {
	b.Helper()
	if err := run(); err != nil { // warm-up: first renderer, caches
		b.Fatal(err)
	}
	cpu0, self0 := rawbaseline.MachineCPU(), selfCPU()
	b.ResetTimer()
	for b.Loop() {
		if err := run(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	cpu, self := rawbaseline.MachineCPU()-cpu0, selfCPU()-self0
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
	// The share of this process: the runner's own work and the test
	// server's, the rest is Chrome's.
	b.ReportMetric(float64(self.Microseconds())/1000/float64(b.N), "go-cpu-ms/op")
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRawChromedpSteps times the raw script's search step by step
// (desktop, same binary), to hold against BenchmarkRun's phases: where
// uxprobe's wall time goes beyond the script's.
func BenchmarkRawChromedpSteps(b *testing.B) {
	srv, _ := benchShop(b)
	raw := startRawBrowser(b, "same-binary")
	defer raw.Close()
	phases := map[string]time.Duration{}
	var order []string
	for b.Loop() {
		t0 := time.Now()
		step := func(name string, err error) {
			if err != nil {
				b.Fatalf("%s: %v", name, err)
			}
			if _, ok := phases[name]; !ok {
				order = append(order, name)
			}
			phases[name] += time.Since(t0)
			t0 = time.Now()
		}
		ctx, cancel := chromedp.NewContext(raw.Context(), chromedp.WithNewBrowserContext())
		step("context", chromedp.Do(ctx))
		emulate, _ := rawbaseline.Emulation("desktop")
		step("emulate", chromedp.Do(ctx, emulate))
		step("navigate", chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")))
		step("type", chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#q"), "lamp")))
		step("enter", chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#q"), kb.Enter)))
		step("results", chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("a.result"))))
		_, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
		step("text", err)
		cancel()
		step("close", nil)
	}
	for _, name := range order {
		b.ReportMetric(float64(phases[name].Microseconds())/1000/float64(b.N), name+"-ms/op")
	}
}
