package runner

import (
	"context"
	"os"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// maxDownloads caps the downloads a result lists.
const maxDownloads = 20

// download is one file the page made Chrome download.
type download struct {
	guid, url, name, step string
	bytes                 int64
	done                  bool // completed or cancelled
	failed                bool // cancelled or interrupted
}

// startDownloads lets the tab's browser context download into a
// directory of the run's own, with events, so that a click on a download
// link or a goto of an attachment completes when the file is in, instead
// of waiting for a page load that never comes. The files are not kept:
// the returned function, called at the end of the run, removes them.
func startDownloads(ctx context.Context, tab context.Context, ev *tracker) (func(), error) {
	dir, err := os.MkdirTemp("", "uxprobe-downloads-")
	if err != nil {
		return func() {}, err
	}
	listenCtx, stopListening := context.WithCancel(tab)
	done := func() {
		stopListening()
		_ = os.RemoveAll(dir) // best effort: a temporary directory
	}
	c := chromedp.FromContext(tab)
	if err := chromedp.ListenBrowser(listenCtx, ev.listenBrowser); err != nil {
		done()
		return func() {}, err
	}
	_, err = cdp.Call(ctx, c.Browser, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior:         browser.SetDownloadBehaviorBehaviorAllowAndName,
		BrowserContextID: c.BrowserContextID,
		DownloadPath:     dir,
		EventsEnabled:    ptr(true),
	})
	if err != nil {
		done()
		return func() {}, err
	}
	return done, nil
}

// listenBrowser follows the browser's download events of this tab's main
// frame; they come on the browser's connection, for every tab.
func (t *tracker) listenBrowser(ev any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch ev := ev.(type) {
	case *browser.EventDownloadWillBegin:
		if string(ev.FrameID) != t.mainFrame {
			return
		}
		d := &download{guid: ev.GUID, url: ev.URL, name: ev.SuggestedFilename, step: t.step}
		t.downloads = append(t.downloads, d)
		// The navigation that turned into this download loads no page.
		for i := len(t.docs) - 1; i >= 0; i-- {
			if doc := t.docs[i]; !doc.loaded && doc.url == ev.URL {
				doc.download = true
				break
			}
		}
		t.signal()
	case *browser.EventDownloadProgress:
		for _, d := range t.downloads {
			if d.guid != ev.GUID {
				continue
			}
			d.bytes = int64(ev.ReceivedBytes)
			switch ev.State {
			case browser.DownloadProgressStateCompleted:
				d.done = true
			case browser.DownloadProgressStateCanceled:
				d.done, d.failed = true, true
			}
			t.signal()
		}
	}
}

// downloadCount is a mark to ask later which downloads began after it.
func (t *tracker) downloadCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.downloads)
}

// lastDownload returns a copy of the last download that began after
// mark, if any.
func (t *tracker) lastDownload(mark int) (download, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.downloads) <= mark {
		return download{}, false
	}
	return *t.downloads[len(t.downloads)-1], true
}

// downloadFinished reports whether a download the current step started
// has ended, and its failure if it did not complete.
func (p *tabPage) downloadFinished() (bool, error) {
	d, ok := p.events.lastDownload(p.dlMark)
	if !ok || !d.done {
		return false, nil
	}
	if d.failed {
		return true, scenarios.Fail(scenarios.KindNavigation, "the download of %s was interrupted after %d bytes", p.flow.Mask(d.url), d.bytes)
	}
	return true, nil
}

// downloadBegan reports whether the current step started a download.
func (p *tabPage) downloadBegan() bool {
	_, ok := p.events.lastDownload(p.dlMark)
	return ok
}

// awaitDownloadStart waits a moment for the download that an aborted
// navigation may have become: Chrome answers Page.navigate before it
// reports the download on the browser's connection.
func (p *tabPage) awaitDownloadStart(ctx context.Context) bool {
	wait, cancel := context.WithTimeout(ctx, navStartGrace)
	defer cancel()
	for !p.downloadBegan() {
		select {
		case <-wait.Done():
			return false
		case <-p.events.changed:
		case <-time.After(10 * time.Millisecond):
		}
	}
	return true
}

// collectDownloads adds the run's downloads to the result, masked.
func (t *tracker) collectDownloads(res *result.Result) {
	for i, d := range t.downloads {
		if i >= maxDownloads {
			break
		}
		res.Downloads = append(res.Downloads, result.Download{
			Step: d.step, URL: scenarios.Clip(t.mask(d.url), maxMessageLen), FileName: t.mask(d.name),
			SizeBytes: d.bytes, Complete: d.done && !d.failed,
		})
	}
}
