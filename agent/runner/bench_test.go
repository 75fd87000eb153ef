package runner

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/device"
	"github.com/chromedp/chromedp/kb"

	"github.com/uxprobe/uxprobe/agent/demoshop"
	"github.com/uxprobe/uxprobe/scenarios"
	"github.com/uxprobe/uxprobe/scenarios/examples"
)

// The benchmarks run the shipped example flows against the demo shop, and
// the same flows written as a minimal raw-chromedp script in the same
// Chrome: the baseline uxprobe's per-run time and CPU are held against
// (goal: at most 0.8x). cpu-ms/op counts this process and every Chrome
// process, since a tool that moves work into the browser has not saved it.

func benchShop(b *testing.B) (*httptest.Server, map[string]*scenarios.Flow) {
	b.Helper()
	srv := httptest.NewServer(demoshop.New())
	b.Cleanup(srv.Close)
	flows, err := scenarios.LoadFS(examples.FS, scenarios.LoadOptions{Vars: map[string]string{"base_url": srv.URL}})
	if err != nil {
		b.Fatal(err)
	}
	byName := map[string]*scenarios.Flow{}
	for _, f := range flows {
		byName[f.Name] = f
	}
	return srv, byName
}

func BenchmarkRun(b *testing.B) {
	_, flows := benchShop(b)
	r := &Runner{Browser: testBrowser}
	for _, name := range []string{"search", "checkout"} {
		for _, dev := range []string{"desktop", "mobile"} {
			f := flows[name]
			d, _ := f.Device(dev)
			b.Run(name+"/"+dev, func(b *testing.B) {
				measure(b, func() error {
					res := r.Run(context.Background(), f, d)
					if !res.Success {
						return fmt.Errorf("%s on %s failed: %+v", name, dev, res.Error)
					}
					return nil
				})
			})
		}
	}
}

func BenchmarkRawChromedp(b *testing.B) {
	srv, _ := benchShop(b)
	scripts := map[string]func(ctx context.Context) error{
		"search":   func(ctx context.Context) error { return rawSearch(ctx, srv.URL) },
		"checkout": func(ctx context.Context) error { return rawCheckout(ctx, srv.URL) },
	}
	emulate := map[string]chromedp.Action[chromedp.Void]{
		"desktop": chromedp.EmulateViewport(1366, 768),
		"mobile":  chromedp.Emulate(device.Pixel5),
	}
	for _, name := range []string{"search", "checkout"} {
		for _, dev := range []string{"desktop", "mobile"} {
			b.Run(name+"/"+dev, func(b *testing.B) {
				measure(b, func() error {
					ctx, cancel := chromedp.NewContext(testBrowser.Context(), chromedp.WithNewBrowserContext())
					defer cancel()
					tctx, stop := context.WithTimeout(ctx, 30*time.Second)
					defer stop()
					if err := chromedp.Do(ctx); err != nil { // attach without a deadline
						return err
					}
					if err := chromedp.Do(tctx, emulate[dev]); err != nil {
						return err
					}
					return scripts[name](tctx)
				})
			})
		}
	}
}

func rawSearch(ctx context.Context, base string) error {
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.SendKeys(chromedp.CSS("#q"), "lamp"),
		chromedp.SendKeys(chromedp.CSS("#q"), kb.Enter),
		chromedp.WaitVisible(chromedp.CSS("a.result")),
	); err != nil {
		return err
	}
	h1, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
	if err != nil || !strings.Contains(h1, "lamp") {
		return fmt.Errorf("h1 %q: %v", h1, err)
	}
	return nil
}

func rawCheckout(ctx context.Context, base string) error {
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/product/lamp-1"),
		chromedp.Click(chromedp.CSS("#add-to-cart")),
		chromedp.WaitVisible(chromedp.CSS("#checkout")),
		chromedp.Click(chromedp.CSS("#checkout")),
		chromedp.SendKeys(chromedp.CSS("#email"), "guest@example.com"),
		chromedp.SendKeys(chromedp.CSS("#name"), "Ada Guest"),
		chromedp.SendKeys(chromedp.CSS("#address"), "1 Probe Street, Testville"),
		chromedp.SetValue(chromedp.CSS("#shipping"), "express"),
		chromedp.Click(chromedp.CSS("#place-order")),
		chromedp.WaitVisible(chromedp.CSS("#order-number")),
	); err != nil {
		return err
	}
	h1, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
	if err != nil || !strings.Contains(h1, "Thank you") {
		return fmt.Errorf("h1 %q: %v", h1, err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.Contains(loc, "/confirmation") {
		return fmt.Errorf("location %q: %v", loc, err)
	}
	return nil
}

// measure runs one flow per iteration after a warm-up run and reports the
// CPU of this process and of Chrome per run.
func measure(b *testing.B, run func() error) {
	b.Helper()
	if err := run(); err != nil { // warm-up: first renderer, caches
		b.Fatal(err)
	}
	cpu0 := processCPU() + chromeCPU(testBrowser.PID())
	b.ResetTimer()
	for b.Loop() {
		if err := run(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	cpu := processCPU() + chromeCPU(testBrowser.PID()) - cpu0
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// chromeCPU sums user and system time of root and all its descendants,
// from /proc. Processes that exited in between are not counted, which
// favours neither side: both use the same Chrome.
func chromeCPU(root int) time.Duration {
	if root == 0 {
		return 0
	}
	type proc struct {
		ppid int
		cpu  time.Duration
	}
	procs := map[int]proc{}
	ents, _ := os.ReadDir("/proc")
	tick := 100 // USER_HZ on Linux
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// The command name may hold spaces; fields start after its ")".
		s := string(data)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 13 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		ut, _ := strconv.Atoi(f[11])
		st, _ := strconv.Atoi(f[12])
		procs[pid] = proc{ppid, time.Duration(ut+st) * time.Second / time.Duration(tick)}
	}
	var total time.Duration
	for pid, p := range procs {
		for q := pid; q != 0; q = procs[q].ppid {
			if q == root {
				total += p.cpu
				break
			}
			if _, ok := procs[q]; !ok {
				break
			}
		}
	}
	return total
}
