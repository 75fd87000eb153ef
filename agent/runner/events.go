package runner

import (
	"sync"

	"github.com/chromedp/cdproto/browser"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/agent/runner/bridge"
	"github.com/uxprobe/uxprobe/agent/runner/pagelog"
)

// Caps of what the runner keeps of a page (pagelog has the rest).
const (
	maxConsoleErrors = pagelog.MaxConsoleErrors
)

// document is one main-frame document navigation (pagelog).
type document = pagelog.Document

// tracker feeds a run's events to its pagelog.Log, which folds them, and
// wakes the run's waits. chromedp calls the listeners in each tab's read
// loop, in order, so the log always reflects every event that arrived
// before a command's reply.
type tracker struct {
	mu      sync.Mutex
	log     *pagelog.Log
	crashed bool
	crash   chan struct{} // closed when the renderer crashed: no call gets an answer after it
	changed chan struct{} // signalled (non-blocking) after each relevant event

	cancelDownload func(guid string)        // set by startDownloads (download.go)
	downloadBegan  chan struct{}            // signalled (non-blocking) when a download of the run begins
	record         func(kind string, v any) // Runner.record
	harBlocked     func(id string)          // the HAR's markBlocked, when a HAR is recorded

	// The redirect-loop bound of the current step (navbound.go).
	navMark     int
	onNavBound  func()
	navBoundHit bool
}

func newTracker(mainFrame string, mask func(string) string) *tracker {
	return &tracker{
		log:     pagelog.New(mainFrame, bridge.ReportBinding, mask),
		changed: make(chan struct{}, 1),
		crash:   make(chan struct{}),

		downloadBegan: make(chan struct{}, 1),
	}
}

func (t *tracker) signal() {
	select {
	case t.changed <- struct{}{}:
	default:
	}
}

// listen hears a tab of the run.
func (t *tracker) listen(ev any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.record != nil {
		t.record("event", ev)
	}
	t.apply(t.log.Apply(ev))
}

// listenBrowser hears the browser's connection, for downloads.
func (t *tracker) listenBrowser(ev any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.record != nil {
		t.record("browser_event", ev)
	}
	c, cancel := t.log.ApplyBrowser(ev)
	if cancel != "" && t.cancelDownload != nil {
		t.cancelDownload(cancel)
	}
	if _, began := ev.(*browser.EventDownloadWillBegin); began && c.Changed {
		select {
		case t.downloadBegan <- struct{}{}:
		default:
		}
	}
	t.apply(c)
}

// apply acts on what an event changed; called under mu.
func (t *tracker) apply(c pagelog.Change) {
	if c.NewDoc {
		t.checkNavBound()
	}
	if c.Crashed && !t.crashed {
		t.crashed = true
		close(t.crash)
	}
	if c.Changed {
		t.signal()
	}
}

func (t *tracker) setStep(name string) {
	t.mu.Lock()
	if t.record != nil {
		t.record("step", name)
	}
	t.log.SetStep(name)
	t.mu.Unlock()
}

// markBlocked records a request the flow's block list fails (routes.go),
// before its failure arrives.
func (t *tracker) markBlocked(id string) {
	t.mu.Lock()
	if t.record != nil {
		t.record("blocked", id)
	}
	t.log.MarkBlocked(id)
	hb := t.harBlocked
	t.mu.Unlock()
	if hb != nil {
		hb(id) // outside mu: the HAR's listener takes its lock, then ours
	}
}

// currentStep is the step running now.
func (t *tracker) currentStep() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.log.Step()
}

// navCount is a mark to ask later which navigations started after it.
func (t *tracker) navCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.log.NavCount()
}

// since returns the documents that started after mark.
func (t *tracker) since(mark int) []document {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.log.Since(mark)
}

func (t *tracker) isCrashed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.crashed
}

func (t *tracker) setActiveTab(frame string, i int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.log.SetActiveTab(frame, i)
}

// adopt records a tab's document that began before the tab was followed.
func (t *tracker) adopt(frame, loaderID, url string, tab int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.log.Adopt(frame, loaderID, url, tab)
}

// adoptLoaded records what the page said of an adopted document.
func (t *tracker) adoptLoaded(loaderID string, ld pagelog.Loaded) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.log.AdoptLoaded(loaderID, ld)
}

// ownFrame says that frame, a tab a page of the run opened, is the run's.
func (t *tracker) ownFrame(frame string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.record != nil {
		t.record("own_frame", frame)
	}
	c, cancel := t.log.AddFrame(frame)
	if cancel != "" && t.cancelDownload != nil {
		t.cancelDownload(cancel)
	}
	if c.Changed {
		select {
		case t.downloadBegan <- struct{}{}:
		default:
		}
	}
	t.apply(c)
}

// downloadFrom returns the last download that frame started after mark.
func (t *tracker) downloadFrom(frame string, mark int) (pagelog.Download, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.log.DownloadFrom(frame, mark)
}

// unread marks the current document as not final: the run ended without
// its final read (Chrome broke).
func (t *tracker) unread() { t.setUnsettled(t.committed(), true) }

func (t *tracker) setUnsettled(loader string, unsettled bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.record != nil {
		t.record("unsettled", pagelog.Unsettled{Loader: loader, Unsettled: unsettled})
	}
	t.log.SetUnsettled(loader, unsettled)
}

// committed is the loader of the run's document in the main frame, or "".
func (t *tracker) committed() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.log.Committed()
}

// downloadCount is a mark to ask later which downloads began after it.
func (t *tracker) downloadCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.log.DownloadCount()
}

// lastDownload returns a copy of the last download that began after mark.
func (t *tracker) lastDownload(mark int) (pagelog.Download, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.log.LastDownload(mark)
}

// collect puts into the result what the log holds (pagelog.Log.Collect).
func (t *tracker) collect(res *result.Result, marks []stepMark) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.record != nil {
		t.record("marks", marks)
		t.record("result_steps", res.Steps)
	}
	t.log.Collect(res, marks)
}

// documentProblem describes a document that failed the user, or "".
func documentProblem(d document) string { return d.Problem() }
