package browser

// The run's tabs: each an isolated browser context, opened ahead of need
// (warm), handed out, closed in the background, and the next opened when
// a run no longer needs the CPU.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// Tab is one isolated tab: its own browser context (cookies, storage and
// cache) and page.
type Tab struct {
	// Ctx is the chromedp context of the tab.
	Ctx context.Context
	// Generation identifies the Chrome process the tab belongs to.
	Generation int
	// Prepared is whether the browser's tab preparation (SetPrepare) ran
	// on the tab and went through: a warm tab is prepared ahead of need.
	Prepared   bool
	cancel     context.CancelFunc
	browserCtx context.Context
}

// Close closes the tab by disposing of its browser context, which closes its
// page too, and returns the error of doing so. Chrome has no state of the
// run left afterwards.
func (t *Tab) Close() error {
	c := chromedp.FromContext(t.Ctx)
	id := c.BrowserContextID
	// The tab was made to only detach on cancel, so that disposing of its
	// browser context closes it in one command, without chromedp's close
	// and poll until the target is gone.
	t.cancel()
	if id == "" || t.browserCtx.Err() != nil {
		return nil // the browser is gone, and the tab with it
	}
	ctx, cancel := context.WithTimeout(t.browserCtx, 10*time.Second)
	defer cancel()
	_, err := cdp.Call(ctx, c.Browser, target.DisposeBrowserContext, target.DisposeBrowserContextParams{BrowserContextID: id})
	if err != nil && t.browserCtx.Err() == nil {
		return fmt.Errorf("disposing of the tab's browser context: %w", err)
	}
	return nil
}

// Release closes the tab in the background: the run's result is ready
// before Chrome has torn the tab down. Close waits for released tabs.
func (b *Browser) Release(t *Tab) {
	b.bg.add()
	go func() {
		defer b.bg.done()
		_ = t.Close() // best effort; a dead browser took the tab with it
	}()
	// Counted as opening at once, so that a NewTab right after this waits
	// for it instead of opening another.
	b.Refill()
}

// NewTab returns an isolated tab, attached with chromedp's domains enabled:
// a warm one when there is one or one is being opened, else a new one
// opened under ctx. Taking a warm tab does not open the next one: Refill
// or Release does, so that the opening does not take the CPU from the
// run's steps. On two cores, opening it as the run began made the demo
// shop's home page load in 65 ms instead of 52 ms and a search run take
// 280 ms instead of 220 ms.
func (b *Browser) NewTab(ctx context.Context) (*Tab, error) {
	for {
		select {
		case t := <-b.spares:
			if t.Generation == b.Generation() && t.Ctx.Err() == nil {
				return t, nil
			}
			b.Release(t) // from a Chrome that has since been replaced
			continue
		default:
		}
		// One being opened is ready no later than a new one would be,
		// and it is prepared, unless as many callers wait for the ones
		// being opened already.
		b.mu.Lock()
		warmed, wait := b.warmed, b.warming > b.waiting
		if wait {
			b.waiting++
		}
		b.mu.Unlock()
		if !wait {
			return b.openTab(ctx)
		}
		select {
		case <-warmed: // one is done: take it, or look again
		case <-ctx.Done():
		}
		b.mu.Lock()
		b.waiting--
		b.mu.Unlock()
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}

func (b *Browser) openTab(ctx context.Context) (*Tab, error) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, errors.New("browser is closed")
	}
	browserCtx, gen := b.browserCtx, b.generation
	b.mu.Unlock()

	tabCtx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext(), chromedp.WithDetachOnCancel())
	// Attach under the caller's deadline without binding the tab's life to
	// it: the first Do on a context owns that context's life.
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(tabCtx) }()
	select {
	case err := <-done:
		if err != nil {
			t := &Tab{Ctx: tabCtx, cancel: cancel, browserCtx: browserCtx}
			_ = t.Close()
			return nil, err
		}
	case <-ctx.Done():
		cancel()
		<-done
		t := &Tab{Ctx: tabCtx, cancel: cancel, browserCtx: browserCtx}
		_ = t.Close()
		return nil, ctx.Err()
	}
	return &Tab{Ctx: tabCtx, Generation: gen, cancel: cancel, browserCtx: browserCtx}, nil
}

// SetPrepare sets what is done to each warm tab opened from now on, before
// it is handed out: the set-up every run of the caller does alike, done
// while no run waits for it. A tab whose preparation failed is handed out
// with Prepared false, and a tab opened on demand is not prepared.
func (b *Browser) SetPrepare(fn func(ctx context.Context, t *Tab) error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.prepare = fn
}

// Refill opens warm tabs in the background up to Options.WarmTabs. A run
// calls it once its task is done and only its final read, mostly a wait
// for the page's last frames, is left: the next run's tab is then ready or
// nearly so when runs follow one another, as in check, without taking the
// CPU from a run's steps. Releasing a tab calls it too.
func (b *Browser) Refill() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for !b.closed && len(b.spares)+b.warming < b.opts.WarmTabs && (b.runsLeft < 0 || len(b.spares)+b.warming < b.runsLeft) {
		b.warming++
		b.bg.add()
		go func() {
			defer b.bg.done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			t, err := b.openTab(ctx)
			b.mu.Lock()
			prepare := b.prepare
			b.mu.Unlock()
			if err == nil && prepare != nil {
				t.Prepared = prepare(ctx, t) == nil
			}
			cancel()
			b.mu.Lock()
			kept := false
			if err == nil && !b.closed && t.Generation == b.generation {
				select {
				case b.spares <- t:
					kept = true
				default:
				}
			}
			b.warming--
			// Wake NewTab's waiters to look again: this one is a spare
			// now, which one of them or another caller takes, or it is
			// not coming.
			close(b.warmed)
			b.warmed = make(chan struct{})
			b.mu.Unlock()
			if err == nil && !kept {
				_ = t.Close()
			}
		}()
	}
}

// RunsLeft says that n more runs will ask for a tab: no more than n warm
// tabs are kept from now on. A batch (uxprobe check) says so as each run
// starts, so that Chrome does not start renderers for runs that never
// come; a run that needs one more tab after that (a retry) opens it then.
func (b *Browser) RunsLeft(n int) {
	b.mu.Lock()
	b.runsLeft = max(n, 0)
	b.mu.Unlock()
}

// Settle waits until the tabs released so far are closed and the warm tabs
// being opened are ready, so that a caller can count what is left.
func (b *Browser) Settle() { b.bg.wait() }

// drainSpares closes the warm tabs.
func (b *Browser) drainSpares() {
	for {
		select {
		case t := <-b.spares:
			b.Release(t)
		default:
			return
		}
	}
}

// background counts the tabs being opened or closed in the background.
// Unlike a sync.WaitGroup, work may start while another goroutine waits
// for the count to reach zero (a run ends while a test settles).
type background struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n drops to zero
}

func (w *background) add() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.n == 0 {
		w.idle = make(chan struct{})
	}
	w.n++
}

func (w *background) done() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.n--
	if w.n == 0 {
		close(w.idle)
	}
}

// wait returns once no work is left.
func (w *background) wait() {
	for {
		w.mu.Lock()
		if w.n == 0 {
			w.mu.Unlock()
			return
		}
		idle := w.idle
		w.mu.Unlock()
		<-idle
	}
}
