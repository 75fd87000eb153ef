package browser

import (
	"context"
	"fmt"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// Defaults of the health probe. A SIGSTOPped or wedged Chrome answers no
// protocol command, yet its connection stays open, so nothing else notices
// before a run's own timeout, and a run that waits on an unanswered read
// would blame the site. The browser process answers Target.getTargets from
// its own thread in well under a millisecond even while every page's
// renderer is busy, so 5 s without an answer is a hang, not load.
const (
	DefaultHealthInterval = time.Second
	DefaultHealthTimeout  = 5 * time.Second
	// closeProbeTimeout is the probe's bound at Close, where a shutdown
	// is waiting: a Chrome that answers closes gracefully, one that does
	// not is killed.
	closeProbeTimeout = time.Second
)

// watch probes the browser connection every interval until Close, and
// restarts a Chrome that does not answer within the bound: the runs in
// flight on it end at once as browser errors (their tabs' contexts end),
// and the next runs get a working Chrome within seconds.
func (b *Browser) watch(interval, timeout time.Duration) {
	defer b.watcher.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
		}
		b.mu.Lock()
		browserCtx, gen := b.browserCtx, b.generation
		b.mu.Unlock()
		err := probe(browserCtx, timeout)
		if err == nil {
			continue
		}
		select {
		case <-b.stop:
			return // closing: the connection ends on purpose
		default:
		}
		b.mu.Lock()
		if b.generation == gen && browserCtx.Err() == nil {
			b.deadGeneration = gen
			b.lostReason = fmt.Sprintf("Chrome did not answer a health check within %s", timeout)
		}
		b.mu.Unlock()
		// A failed start is tried again at the next tick: the old
		// context is cancelled by then, so the probe fails at once.
		_ = b.Restart(gen)
	}
}

// probe asks the browser for its targets within timeout.
func probe(browserCtx context.Context, timeout time.Duration) error {
	if err := browserCtx.Err(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(browserCtx, timeout)
	defer cancel()
	c := chromedp.FromContext(browserCtx)
	_, err := cdp.Call(ctx, c.Browser, target.GetTargets, target.GetTargetsParams{})
	return err
}

// LostReason says why the Chrome of generation gen was given up, when the
// health probe found it hung; "" otherwise. A run whose tab ended under it
// names the cause with it.
func (b *Browser) LostReason(gen int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if gen == b.deadGeneration {
		return b.lostReason
	}
	return ""
}
