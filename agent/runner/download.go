package runner

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"

	"github.com/uxprobe/uxprobe/agent/redact"
	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/agent/runner/pagelog"
	"github.com/uxprobe/uxprobe/scenarios"
)

// startDownloads lets the tab's browser context download into a
// directory of the run's own, with events, so that a click on a download
// link or a goto of an attachment completes when the file is in, instead
// of waiting for a page load that never comes. The files are not kept:
// the returned function, called at the end of the run, removes them.
func startDownloads(ctx context.Context, tab context.Context, ev *tracker) (string, func(), error) {
	dir, err := os.MkdirTemp("", "uxprobe-downloads-")
	if err != nil {
		return "", func() {}, err
	}
	listenCtx, stopListening := context.WithCancel(tab)
	done := func() {
		stopListening()
		_ = os.RemoveAll(dir) // best effort: a temporary directory
	}
	c := chromedp.FromContext(tab)
	ev.cancelDownload = func(guid string) {
		// From the listener, which must not send commands itself.
		go func() {
			_, _ = cdp.Call(listenCtx, c.Browser, browser.CancelDownload, browser.CancelDownloadParams{GUID: guid, BrowserContextID: c.BrowserContextID})
		}()
	}
	if err := chromedp.ListenBrowser(listenCtx, ev.listenBrowser); err != nil {
		done()
		return "", func() {}, err
	}
	go watchDownloadSizes(listenCtx, dir, ev)
	_, err = cdp.Call(ctx, c.Browser, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior:         browser.SetDownloadBehaviorBehaviorAllowAndName,
		BrowserContextID: c.BrowserContextID,
		DownloadPath:     dir,
		EventsEnabled:    ptr(true),
	})
	if err != nil {
		done()
		return "", func() {}, err
	}
	return dir, done, nil
}

// downloadPoll is how often the size of a download in progress is read.
// Chrome reports a download's progress on a slow timer (a download from a
// fast server is hundreds of megabytes further at its next report), so
// the cap is held by the file's size on disk: at a gigabyte a second, a
// look every 5 ms lets a few megabytes past it.
const downloadPoll = 5 * time.Millisecond

// watchDownloadSizes cancels, until ctx ends, each download of the run
// whose file in dir grew past pagelog.MaxDownloadBytes. Between
// downloads it sleeps until one begins.
func watchDownloadSizes(ctx context.Context, dir string, ev *tracker) {
	tick := time.NewTicker(downloadPoll)
	defer tick.Stop()
	for {
		ev.mu.Lock()
		active := ev.log.Active()
		ev.mu.Unlock()
		wake := tick.C
		if len(active) == 0 {
			wake = nil
		}
		for _, guid := range active {
			if n := sizeOnDisk(dir, guid); n > pagelog.MaxDownloadBytes {
				ev.mu.Lock()
				if ev.log.Cap(guid, n) && ev.cancelDownload != nil {
					ev.cancelDownload(guid)
				}
				ev.mu.Unlock()
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-ev.downloadBegan:
		case <-wake:
		}
	}
}

// sizeOnDisk is the size of the download guid's file in dir, under its
// final name or the one Chrome writes it under, or 0.
func sizeOnDisk(dir, guid string) int64 {
	for _, name := range []string{guid, guid + ".crdownload"} {
		if fi, err := os.Stat(filepath.Join(dir, filepath.Base(name))); err == nil {
			return fi.Size()
		}
	}
	return 0
}

// downloadFinished reports whether a download the current step started
// has ended, and its failure if it did not complete.
func (p *tabPage) downloadFinished() (bool, error) {
	d, ok := p.events.lastDownload(p.dlMark)
	if !ok || !d.Done {
		return false, nil
	}
	if d.Failed {
		return true, scenarios.Fail(scenarios.KindNavigation, "the download of %s was interrupted after %d bytes", d.URL, d.Bytes)
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

// keepDownloads moves the run's completed downloads from its temporary
// directory to <artifacts>/<flow>/<device>/downloads/<file name>, for a
// flow with keep_downloads. Like screenshots, the next run overwrites
// them, and a file that cannot be kept is logged and counted.
func (r *Runner) keepDownloads(f *scenarios.Flow, d scenarios.Device, dir string, ev *tracker, res *result.Result) {
	if r.ArtifactsDir == "" {
		return
	}
	ev.mu.Lock()
	kept := ev.log.Downloads(len(res.Downloads))
	ev.mu.Unlock()
	for i, dl := range kept {
		if !res.Downloads[i].Complete {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, filepath.Base(dl.GUID)))
		if err != nil {
			r.logger().Error("could not read a downloaded file to keep it", "flow", f.Name, "device", d.Name, "err", f.Mask(err.Error()))
			continue
		}
		// What leaves the run passes the boundary: a text file is kept
		// with its secrets masked, another that holds one is not kept.
		data, masked, ok := redact.File(data, f)
		if !ok {
			res.Downloads[i].NotKept = "it holds a secret value, which cannot be masked in a file that is not text"
			r.logger().Warn("a downloaded file was not kept: it holds a secret value and is not text", "flow", f.Name, "device", d.Name, "file", redact.String(res.Downloads[i].FileName, f, 0))
			continue
		}
		res.Downloads[i].Masked = masked
		name := res.Downloads[i].FileName // masked by safeName
		if name == "" {
			name = "download"
		}
		path := filepath.Join(r.ArtifactsDir, safeName(f, f.Name), safeName(f, d.Name), "downloads", safeName(f, name))
		if r.saveArtifact(f, d, path, data) {
			res.Downloads[i].Path = path
		}
	}
}
