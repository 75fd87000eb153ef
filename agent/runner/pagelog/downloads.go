package pagelog

// The run's downloads: which of the browser's download events are the
// run's, what each received, and the ones to cancel for being too big.

import (
	"github.com/chromedp/cdproto/browser"
)

// Download is one file the page made Chrome download.
type Download struct {
	GUID, URL, Name, Step string
	Frame                 string // the frame that started it
	Bytes                 int64
	Done                  bool // completed or cancelled
	Failed                bool // cancelled or interrupted
	TooBig                bool // cancelled by uxprobe at MaxDownloadBytes
}

// AddFrame says that frame, the main frame of a tab a page of the run
// opened, is the run's, before the flow follows the tab: a download it
// starts, or started already, is the run's. It returns the GUID of a
// claimed download to cancel for being too big, or "".
func (l *Log) AddFrame(frame string) (c Change, cancelGUID string) {
	l.frames[frame] = true
	kept := l.unclaimed[:0]
	for _, d := range l.unclaimed {
		if d.Frame != frame {
			kept = append(kept, d)
			continue
		}
		l.downloads = append(l.downloads, d)
		c.Changed = true
		if d.Bytes > MaxDownloadBytes && !d.Done && !d.TooBig {
			d.TooBig = true
			cancelGUID = d.GUID
		}
	}
	clear(l.unclaimed[len(kept):])
	l.unclaimed = kept
	return c, cancelGUID
}

// maxUnclaimed bounds the downloads of other frames a log keeps, in case
// their frame becomes the run's: the browser's connection carries every
// run's downloads.
const maxUnclaimed = 16

// ApplyBrowser folds one download event of the browser's connection, which
// carries every tab's: only those of the run's frames count (its tabs'
// main frames and their iframes). It returns the GUID of a download to
// cancel for being too big, or "".
func (l *Log) ApplyBrowser(ev any) (c Change, cancelGUID string) {
	switch ev := ev.(type) {
	case *browser.EventDownloadWillBegin:
		d := &Download{GUID: ev.GUID, URL: ev.URL, Name: ev.SuggestedFilename, Step: l.step, Frame: string(ev.FrameID)}
		if !l.ownsFrame(d.Frame) {
			if len(l.unclaimed) == maxUnclaimed {
				l.unclaimed = append(l.unclaimed[:0], l.unclaimed[1:]...)
			}
			l.unclaimed = append(l.unclaimed, d)
			return Change{}, ""
		}
		l.downloads = append(l.downloads, d)
		// The navigation that turned into this download loads no page.
		for i := len(l.docs) - 1; i >= 0; i-- {
			if doc := l.docs[i]; !doc.Loaded && doc.URL == ev.URL {
				doc.Download = true
				break
			}
		}
		return Change{Changed: true}, ""
	case *browser.EventDownloadProgress:
		for _, d := range l.unclaimed {
			if d.GUID == ev.GUID {
				d.Bytes = max(d.Bytes, int64(ev.ReceivedBytes))
				d.Done = d.Done || ev.State != browser.DownloadProgressStateInProgress
				d.Failed = d.Failed || ev.State == browser.DownloadProgressStateCanceled
			}
		}
		for _, d := range l.downloads {
			if d.GUID != ev.GUID {
				continue
			}
			d.Bytes = max(d.Bytes, int64(ev.ReceivedBytes)) // a cancelled download reports 0
			switch {
			case ev.State == browser.DownloadProgressStateCompleted:
				d.Done = true
			case ev.State == browser.DownloadProgressStateCanceled:
				d.Done, d.Failed = true, !d.TooBig
			case d.Bytes > MaxDownloadBytes && !d.TooBig:
				d.TooBig = true
				cancelGUID = d.GUID
			}
			c.Changed = true
		}
	}
	return c, cancelGUID
}

// Active returns the GUIDs of the downloads in progress.
func (l *Log) Active() []string {
	var out []string
	for _, d := range l.downloads {
		if !d.Done && !d.TooBig {
			out = append(out, d.GUID)
		}
	}
	return out
}

// Cap marks the download guid as too big at received bytes, and says
// whether it was in progress (then the caller cancels it).
func (l *Log) Cap(guid string, received int64) bool {
	for _, d := range l.downloads {
		if d.GUID == guid && !d.Done && !d.TooBig {
			d.TooBig, d.Bytes = true, max(d.Bytes, received)
			return true
		}
	}
	return false
}

// DownloadFrom returns a copy of the last download that frame started
// after mark.
func (l *Log) DownloadFrom(frame string, mark int) (Download, bool) {
	for i := len(l.downloads) - 1; i >= mark && i >= 0; i-- {
		if l.downloads[i].Frame == frame {
			return *l.downloads[i], true
		}
	}
	return Download{}, false
}

// DownloadCount is a mark to ask later which downloads began after it.
func (l *Log) DownloadCount() int { return len(l.downloads) }

// LastDownload returns a copy of the last download that began after mark.
func (l *Log) LastDownload(mark int) (Download, bool) {
	if len(l.downloads) <= mark {
		return Download{}, false
	}
	return *l.downloads[len(l.downloads)-1], true
}

// Downloads returns copies of the first n downloads.
func (l *Log) Downloads(n int) []Download {
	out := make([]Download, 0, n)
	for _, d := range l.downloads[:min(n, len(l.downloads))] {
		out = append(out, *d)
	}
	return out
}
