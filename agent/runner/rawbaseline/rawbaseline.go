// Package rawbaseline is the benchmarks' baseline, not part of uxprobe's
// runtime: the example flows (search and checkout of the demo shop) written
// as the minimal chromedp program a user would write, one new browser
// context per run, sequential setup, chromedp's node-based queries. uxprobe's
// time and CPU per run are held against it (goal: at most 1.0x).
//
// It is a package rather than test code so that the same code serves the
// in-process benchmark (agent/runner's BenchmarkVsRawChromedp) and the
// whole-process one (cmd/uxprobe's BenchmarkBatchVsRawChromedp, through the
// rawbatch program): one copy of the baseline.
package rawbaseline

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/device"
	"github.com/chromedp/chromedp/kb"
)

// Browser is one Chrome driven by chromedp.
type Browser struct {
	ctx    context.Context
	cancel func()
}

// Start starts Chrome at binaryPath; empty is what chromedp's defaults find
// (Chromium or Chrome on PATH).
func Start(binaryPath string) (*Browser, error) {
	// The flags Chrome needs on this closed network, and no others.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	if binaryPath != "" {
		opts = append(opts, chromedp.ExecPath(binaryPath))
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	cancel := func() { cancelBrowser(); cancelAlloc() }
	if err := chromedp.Do(browserCtx); err != nil {
		cancel()
		return nil, err
	}
	return &Browser{ctx: browserCtx, cancel: cancel}, nil
}

// Close stops Chrome.
func (b *Browser) Close() { b.cancel() }

// Context is the browser's chromedp context, for a program that drives it
// step by step.
func (b *Browser) Context() context.Context { return b.ctx }

// Emulation is the device emulation of a run: "desktop" or "mobile".
func Emulation(dev string) (chromedp.Action[chromedp.Void], error) {
	switch dev {
	case "desktop":
		return chromedp.EmulateViewport(1366, 768), nil
	case "mobile":
		return chromedp.Emulate(device.Pixel5), nil
	}
	return nil, fmt.Errorf("unknown device %q (desktop or mobile)", dev)
}

// Run is one run of the flow ("search" or "checkout") on the device against
// the shop at base, in a new browser context.
func (b *Browser) Run(base, flow, dev string) error {
	emulate, err := Emulation(dev)
	if err != nil {
		return err
	}
	steps := map[string]func(context.Context, string, bool) error{"search": search, "checkout": checkout}[flow]
	if steps == nil {
		return fmt.Errorf("unknown flow %q (search or checkout)", flow)
	}
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	defer cancel()
	tctx, stop := context.WithTimeout(ctx, 30*time.Second)
	defer stop()
	if err := chromedp.Do(ctx); err != nil { // attach without a deadline
		return err
	}
	if err := chromedp.Do(tctx, emulate); err != nil {
		return err
	}
	return steps(tctx, base, dev == "mobile")
}

func search(ctx context.Context, base string, _ bool) error {
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

// checkout clicks with the mouse on a desktop and taps with chromedp's Tap
// on a touch screen (mobile), as a chromedp program for a phone would, and
// as uxprobe does: the same user input on both sides.
func checkout(ctx context.Context, base string, touch bool) error {
	click := chromedp.Click[chromedp.CSS]
	if touch {
		click = chromedp.Tap[chromedp.CSS]
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/product/lamp-1"),
		click(chromedp.CSS("#add-to-cart")),
		chromedp.WaitVisible(chromedp.CSS("#checkout")),
		click(chromedp.CSS("#checkout")),
		chromedp.SendKeys(chromedp.CSS("#email"), "guest@example.com"),
		chromedp.SendKeys(chromedp.CSS("#name"), "Ada Guest"),
		chromedp.SendKeys(chromedp.CSS("#address"), "1 Probe Street, Testville"),
		chromedp.SetValue(chromedp.CSS("#shipping"), "express"),
		click(chromedp.CSS("#place-order")),
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

// MachineCPU is the busy time of all CPUs since boot: user, nice, system,
// irq and softirq from the first line of /proc/stat, in USER_HZ ticks. The
// benchmarks take the whole machine's CPU because Chrome's renderers come
// and go with every run, and a process that exited takes its CPU time out
// of any per-process sum; so they want an otherwise idle machine. Zero
// where /proc/stat cannot be read.
func MachineCPU() time.Duration {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) == 0 {
		return 0
	}
	var busy int64
	for i, v := range f[1:] {
		if i == 3 || i == 4 { // idle and iowait
			continue
		}
		if i > 6 { // steal and guest times are not this machine's work
			break
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		busy += n
	}
	const userHZ = 100
	return time.Duration(busy) * time.Second / userHZ
}
