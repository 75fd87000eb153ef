// Package browser owns the one Chrome process of an agent: finding the
// binary, starting it with flags that keep it quiet on a closed network,
// handing out isolated tabs, and restarting it after a crash.
package browser

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// EnvPath names the environment variable that gives the browser binary.
const EnvPath = "UXPROBE_BROWSER"

// candidates are the names Chrome goes by on PATH, the lighter headless
// shell first.
var candidates = []string{"chromium-headless-shell", "chrome-headless-shell", "headless_shell", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"}

// directBinaries are real browser binaries behind Debian's wrapper scripts,
// best first.
//
// The headless shell is Chrome's engine without the browser around it: no
// windows, tab strip or omnibox whose WebUI renderers and browser-process
// work run on every navigation of the full browser in headless mode. On the
// example flows it took a third of the full browser's CPU and time per run
// here (make bench), and pages render and report their web vitals through
// the same Blink.
//
// Debian's /usr/bin/chromium is a shell script that adds flags meant for a
// desktop, --enable-gpu-rasterization among them, which in headless Chrome
// rasterizes on the CPU through a software GPU.
var directBinaries = []string{"/usr/lib/chromium/chromium-headless-shell", "/usr/lib/chromium/chromium"}

// ErrNotFound means no Chrome binary could be found.
var ErrNotFound = errors.New("no Chrome or Chromium found: install it (Debian/Ubuntu: apt-get install -y chromium-headless-shell chromium), " +
	"or give its path with --browser.path or the UXPROBE_BROWSER environment variable")

// Find returns the browser binary: path if given, else $UXPROBE_BROWSER,
// else Debian's headless shell or Chromium, else the first candidate on PATH.
func Find(path string) (string, error) {
	if path == "" {
		path = os.Getenv(EnvPath)
	}
	if path != "" {
		p, err := exec.LookPath(path)
		if err != nil {
			return "", fmt.Errorf("browser %q cannot be run: %w", path, err)
		}
		return p, nil
	}
	for _, p := range directBinaries {
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	for _, c := range candidates {
		if p, err := exec.LookPath(c); err == nil {
			return p, nil
		}
	}
	return "", ErrNotFound
}

// Options configure the browser.
type Options struct {
	// Path is the binary; see Find.
	Path string
	// NoSandbox turns Chrome's sandbox off, which Chrome requires when it
	// runs as root. Prefer running as an unprivileged user.
	NoSandbox bool
	// OnRestart is called after each restart, for the restarts metric.
	OnRestart func()
	// WarmTabs is how many isolated tabs to keep open and attached ahead of
	// need. Opening a tab costs a renderer process start and a dozen
	// sequential protocol round trips; a warm tab takes that off the run's
	// critical path. 0 opens every tab on demand.
	WarmTabs int
	// HealthInterval and HealthTimeout set the health probe of the
	// browser connection: every interval, Chrome must answer within the
	// timeout or it is restarted. Zero means the defaults.
	HealthInterval, HealthTimeout time.Duration
	// SitePerProcess runs the frames of every other site in a process of
	// their own, as desktop Chrome does; chrome-headless-shell keeps them in
	// the page's process unless told. Tests use it to reach such frames.
	SitePerProcess bool
	// ProfileDir is where Chrome's profile directories go; empty means
	// os.TempDir(). Start removes those a killed uxprobe left there.
	ProfileDir string
	// Debugf, if set, hears every protocol message sent ("-> ") and
	// received ("<- "): benchmarks count a step's round trips with it.
	Debugf func(format string, args ...any)
}

// Browser is a running Chrome that restarts itself when it dies. It is safe
// for concurrent use.
type Browser struct {
	opts Options
	path string

	mu         sync.Mutex
	allocCtx   context.Context
	cancelAll  context.CancelFunc
	browserCtx context.Context
	generation int
	// deadGeneration is the generation Alive last found dead.
	deadGeneration int
	lostReason     string // why deadGeneration was given up, if the probe found it hung
	closed         bool
	stop           chan struct{}  // closed by Close, ends the health probe
	watcher        sync.WaitGroup // the health probe
	// version is the running Chrome's version ("156.0.8078.73"), read at
	// each start: device presets carry it in their user agent.
	version string

	prepare func(context.Context, *Tab) error // see SetPrepare, under mu

	wire     wire          // the protocol log, watched for Pipeline (pipeline.go)
	spares   chan *Tab     // warm tabs of the current generation
	warming  int           // tabs being opened for spares, under mu
	runsLeft int           // RunsLeft's count, -1 if unknown, under mu
	waiting  int           // NewTab callers waiting for them, under mu
	warmed   chan struct{} // closed when a tab being opened is done, kept or not, under mu
	bg       background    // background opens and closes, for Settle and Close
}

// Start finds and starts Chrome.
func Start(opts Options) (*Browser, error) {
	path, err := Find(opts.Path)
	if err != nil {
		return nil, err
	}
	b := &Browser{opts: opts, path: path, spares: make(chan *Tab, max(opts.WarmTabs, 1)), warmed: make(chan struct{}), stop: make(chan struct{}), runsLeft: -1}
	// A uxprobe killed by SIGKILL (or the OOM killer) could not remove
	// its Chrome's profile; without this each such kill would leave one
	// behind for good.
	removeStaleProfiles(opts.ProfileDir)
	if err := b.start(); err != nil {
		return nil, err
	}
	b.Refill()
	interval, timeout := cmp.Or(opts.HealthInterval, DefaultHealthInterval), cmp.Or(opts.HealthTimeout, DefaultHealthTimeout)
	b.watcher.Add(1)
	go b.watch(interval, timeout)
	return b, nil
}

// Path is the binary in use.
func (b *Browser) Path() string { return b.path }

func (b *Browser) flags() []chromedp.ExecAllocatorOption {
	opts := append([]chromedp.ExecAllocatorOption{}, chromedp.DefaultExecAllocatorOptions[:]...)
	opts = append(opts,
		chromedp.ExecPath(b.path),
		// On a closed network Chrome otherwise waits on component updates,
		// sync and QUIC probes, and can hang for a long time.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("hide-scrollbars", true),
		// Chrome keeps a spare renderer process warm for the next
		// navigation, but a spare belongs to one browser context and every
		// run opens its own: each spare was started only to be thrown
		// away. Turning it off cut Chrome's CPU per run of the search flow
		// from about 500 ms to under 200 ms here. The other features are
		// Google services that only wake up on a closed network.
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,SpareRendererForSitePerProcess,OptimizationHints,MediaRouter,DialMediaRouteProvider"),
	)
	if b.opts.NoSandbox {
		opts = append(opts, chromedp.NoSandbox)
	}
	opts = append(opts, chromedp.ModifyCmdFunc(withoutFirstPage))
	if b.opts.SitePerProcess {
		opts = append(opts, chromedp.Flag("site-per-process", true))
	}
	return opts
}

// withoutFirstPage starts Chrome with no page: chromedp names about:blank
// as the first page, to keep Chrome's welcome page away, and Chrome starts
// a renderer for it, which start would only close again (every run opens a
// tab of its own). Headless Chrome opens no page without a URL. It keeps
// what chromedp does to the command by default: Chrome is killed when
// uxprobe dies.
func withoutFirstPage(cmd *exec.Cmd) {
	if n := len(cmd.Args); n > 1 && cmd.Args[n-1] == "about:blank" {
		cmd.Args = cmd.Args[:n-1]
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = new(syscall.SysProcAttr)
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}

// start launches a Chrome process with no page (withoutFirstPage), and
// closes any page it opens all the same: every run opens its own tab in its
// own browser context, so such a page would only cost memory and CPU.
func (b *Browser) start() error {
	// The browser's life is bound to these contexts, never to a caller's:
	// chromedp kills the browser when the context of its first use ends.
	// The profile is ours, named after this process (profile.go), so that
	// a later start can tell a stale one from a live one; chromedp would
	// name it as any chromedp program does.
	profile, err := newProfile(b.opts.ProfileDir)
	if err != nil {
		return fmt.Errorf("making Chrome's profile directory: %w", err)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(b.flags(), chromedp.UserDataDir(profile))...)
	// The protocol log is always watched: it tells Pipeline when a
	// command went out (pipeline.go).
	b.wire.forward = b.opts.Debugf
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx, chromedp.WithDebugf(b.wire.debugf))
	// The allocator's cancel waits for Chrome's processes to exit, so the
	// profile is no longer in use when it is removed.
	cancel := func() { cancelBrowser(); cancelAlloc(); removeProfile(profile) }
	// The first call binds the browser's life to its context, so it gets
	// browserCtx itself; the start-up bound is a timer around it.
	type started struct {
		infos target.GetTargetsResult
		err   error
	}
	ch := make(chan started, 1)
	go func() {
		infos, err := chromedp.CallBrowser(browserCtx, target.GetTargets, target.GetTargetsParams{})
		ch <- started{infos, err}
	}()
	var st started
	select {
	case st = <-ch:
	case <-time.After(30 * time.Second):
		cancel()
		st = <-ch
		st.err = fmt.Errorf("no answer within 30s: %w", st.err)
	}
	if st.err != nil {
		cancel()
		return fmt.Errorf("starting %s: %w", b.path, st.err)
	}
	c := chromedp.FromContext(browserCtx)
	closeCtx, stop := context.WithTimeout(browserCtx, 5*time.Second)
	defer stop()
	for _, info := range st.infos.TargetInfos {
		if info.Type == "page" {
			// Best effort: a browser that keeps its blank tab still works.
			_, _ = cdp.Call(closeCtx, c.Browser, target.CloseTarget, target.CloseTargetParams{TargetID: info.TargetID})
		}
	}
	// Best effort too: without it, presets keep the version they were
	// written with.
	var version string
	if v, err := cdp.Call(closeCtx, c.Browser, cdpbrowser.GetVersion, cdp.Empty{}); err == nil {
		version = productVersion(v.Product)
	}
	b.allocCtx, b.browserCtx, b.cancelAll = allocCtx, browserCtx, cancel
	b.version = version
	b.generation++
	return nil
}

// productVersion turns the product Chrome reports ("HeadlessChrome/156.0.8078.73"
// or "Chrome/156.0.8078.73") into its version; "" when it has none.
func productVersion(product string) string {
	_, v, ok := strings.Cut(product, "/")
	if !ok {
		return ""
	}
	return v
}

// Version is the running Chrome's version, such as "156.0.8078.73"; empty
// if Chrome did not say.
func (b *Browser) Version() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.version
}

// Context is the chromedp context of the browser, for code that drives it
// with chromedp directly, such as the benchmark's raw-chromedp baseline.
func (b *Browser) Context() context.Context {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.browserCtx
}

// Alive asks Chrome for its targets, which fails when the process is dead
// or hangs. A Chrome found dead stays dead until Restart, so callers that
// ask again (a run that classifies its error, then recovers) do not wait
// for a hung process twice.
func (b *Browser) Alive(ctx context.Context) bool {
	b.mu.Lock()
	browserCtx, gen, dead := b.browserCtx, b.generation, b.deadGeneration == b.generation
	b.mu.Unlock()
	if dead || browserCtx.Err() != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c := chromedp.FromContext(browserCtx)
	if _, err := cdp.Call(ctx, c.Browser, target.GetTargets, target.GetTargetsParams{}); err != nil {
		b.mu.Lock()
		if b.generation == gen && b.deadGeneration != gen {
			b.deadGeneration, b.lostReason = gen, ""
		}
		b.mu.Unlock()
		return false
	}
	return true
}

// Generation identifies the current Chrome process.
func (b *Browser) Generation() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.generation
}

// Restart replaces the Chrome process of generation gen, unless another
// caller already did. Runs still in flight on the old process fail as
// browser errors.
func (b *Browser) Restart(gen int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || gen != b.generation {
		return nil
	}
	b.cancelAll()
	if err := b.start(); err != nil {
		return err
	}
	if b.opts.OnRestart != nil {
		b.opts.OnRestart()
	}
	go func() {
		b.drainSpares()
		b.Refill()
	}()
	return nil
}

// PID is the process id of the running Chrome, or 0.
func (b *Browser) PID() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if c := chromedp.FromContext(b.browserCtx); c != nil && c.Browser != nil {
		if p := c.Browser.Process(); p != nil {
			return p.Pid
		}
	}
	return 0
}

// Close stops Chrome and waits until its processes and profile are gone.
func (b *Browser) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	close(b.stop)
	b.mu.Unlock()
	b.watcher.Wait()
	// A hung Chrome answers nothing, and every tab close below would wait
	// out its bound for it: kill it now, which ends those waits at once.
	if err := probe(b.browserCtx, closeProbeTimeout); err != nil {
		b.cancelAll()
	}
	// Warm tabs and tabs being released go first, while Chrome still
	// answers, so no profile or process outlives Close.
	b.drainSpares()
	b.bg.wait()
	b.mu.Lock()
	// A graceful close lets Chrome flush and exit by itself; a hung Chrome
	// gets killed by the allocator's cancel after a bound.
	done := make(chan error, 1)
	go func() { done <- chromedp.Cancel(b.browserCtx) }()
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		err = errors.New("chrome did not close within 10s; killed it")
	}
	b.cancelAll()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}
