// Package pagelog folds what Chrome tells of a run's tabs (network,
// lifecycle, runtime and download events, and the reports of the page's
// vitals script) into what a result says of it: pages with their requests
// and vitals, failed requests, console errors, downloads. It is a plain Go
// type, without Chrome and without locks, so that its logic is tested in
// milliseconds from recorded event sequences (testdata); the runner feeds
// it from its listeners under a lock of its own.
package pagelog

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/chromedp/cdproto/inspector"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// Caps keep a noisy page from growing a result without bound.
const (
	MaxConsoleErrors  = 20
	MaxFailedRequests = 50
	MaxMessageLen     = 300
	// MaxPages is how many pages a result lists; the rest are counted.
	MaxPages = 50
	// MaxDownloads caps the downloads a result lists, and
	// MaxDownloadBytes the size of one: a hostile page must not fill the
	// disk. A download past the size is cancelled.
	MaxDownloads     = 20
	MaxDownloadBytes = 64 << 20
	// MaxReportBytes bounds a vitals report a page could inflate by
	// calling the binding itself.
	MaxReportBytes = 64 << 10
)

// sameDocNav is a URL change without a new document, and the step it
// happened in.
type sameDocNav struct{ URL, Step string }

// maxSameDoc caps the same-document navigations kept.
const maxSameDoc = 200

// Document is one main-frame document navigation as the events show it.
type Document struct {
	LoaderID string
	Method   string
	URL      string
	Step     string
	Status   int
	NetError string
	Loaded   bool
	Download bool // the navigation became a download: no page
	Tab      int  // 0 for the run's first tab, then in the order the flow followed them

	Requests      int
	Failed        int
	TransferBytes int64

	Vitals    *Vitals // the latest report of the document's vitals
	Unsettled bool    // the final read ran out of time before the page settled
}

// Problem describes a document that failed the user, or "".
func (d Document) Problem() string {
	switch {
	case d.NetError != "":
		return fmt.Sprintf("%s %s failed: %s", d.Method, d.URL, d.NetError)
	case d.Status >= 400:
		return fmt.Sprintf("%s %s returned HTTP %d", d.Method, d.URL, d.Status)
	}
	return ""
}

// Change says what an event changed, for the runner's waits.
type Change struct {
	Changed bool // something a wait may be waiting for
	NewDoc  bool // a document navigation started
	Crashed bool // the renderer crashed
}

// Log is the fold of a run's events. It is not safe for concurrent use.
type Log struct {
	mainFrame string
	binding   string              // the vitals report binding's name
	mask      func(string) string // for console errors, masked then clipped apart
	step      string              // the step running now, for attributing new documents

	docs      []*Document
	byLoader  map[string]*Document
	reqDoc    map[network.RequestID]*Document // requests in flight, for byte counts and failures
	reqURL    map[network.RequestID]string
	console   []string
	extraErrs int // console errors past the cap, counted so the cut shows
	failed    []result.FailedRequest
	crashed   bool
	downloads []*Download
	// unclaimed are downloads of frames not (yet) the run's, at most
	// maxUnclaimed: the browser's connection may tell of a new tab's
	// download before the opener's session told that the tab is the run's
	// (AddFrame), two sessions Chrome does not order.
	unclaimed []*Download
	sameDoc   []sameDocNav // the main frames' same-document navigations (a pushState, a hash goto)

	tabIndex  map[string]int  // main frames of the tabs the run followed, to the tab's index
	frames    map[string]bool // the other frames of the run: iframes, tabs not followed yet
	activeTab int
	committed string                                // loader of the document in the main frame now
	tabLoader map[string]string                     // loader of the document in each followed tab's main frame now
	ctxLoader map[runtime.ExecutionContextID]string // main-world contexts to their document's loader

	blocked      map[network.RequestID]bool // requests the flow's block failed, until their failure arrives (blocked.go)
	blockedCount int
}

// New starts the log of a run whose first tab's main frame is mainFrame.
// binding is the name vitals reports come under; mask masks console
// errors, whose message and source are clipped apart (nil: none).
func New(mainFrame, binding string, mask func(string) string) *Log {
	if mask == nil {
		mask = func(s string) string { return s }
	}
	return &Log{
		mainFrame: mainFrame, binding: binding, mask: mask,
		byLoader:  map[string]*Document{},
		reqDoc:    map[network.RequestID]*Document{},
		reqURL:    map[network.RequestID]string{},
		ctxLoader: map[runtime.ExecutionContextID]string{},
		tabIndex:  map[string]int{},
		frames:    map[string]bool{},
		tabLoader: map[string]string{},
	}
}

// SetStep names the step that runs from now on.
func (l *Log) SetStep(name string) { l.step = name }

// Step is the step running now.
func (l *Log) Step() string { return l.step }

// NavCount is a mark to ask later which navigations started after it.
func (l *Log) NavCount() int { return len(l.docs) }

// Since returns copies of the documents that started after mark.
func (l *Log) Since(mark int) []Document {
	var out []Document
	for _, d := range l.docs[mark:] {
		out = append(out, *d)
	}
	return out
}

// Crashed reports whether a renderer of the run crashed.
func (l *Log) Crashed() bool { return l.crashed }

func (l *Log) isMainFrame(frame string) bool {
	if frame == l.mainFrame {
		return true
	}
	_, ok := l.tabIndex[frame]
	return ok
}

// ownsFrame reports whether frame is one of the run's: a tab's main frame,
// an iframe in one, or a tab a page of the run opened.
func (l *Log) ownsFrame(frame string) bool { return l.isMainFrame(frame) || l.frames[frame] }

// SetActiveTab says the flow is now in tab i, whose main frame is frame
// ("" for a tab already known).
func (l *Log) SetActiveTab(frame string, i int) {
	if frame != "" {
		l.tabIndex[frame] = i
	}
	l.activeTab = i
}

// Adopt records a tab's document that began before the tab was followed:
// the document in frame, the tab's main frame, now.
func (l *Log) Adopt(frame, loaderID, url string, tab int) {
	if loaderID == "" || url == "" || url == "about:blank" {
		return // the tab's initial empty document: no page
	}
	l.tabLoader[frame] = loaderID
	if l.byLoader[loaderID] != nil {
		return
	}
	d := &Document{LoaderID: loaderID, Method: "GET", URL: url, Step: l.step, Tab: tab}
	l.byLoader[loaderID] = d
	l.docs = append(l.docs, d)
}

// Loaded is what the page itself says of an adopted document whose
// requests went before the tab was followed: its status, its requests
// and those that failed, from its navigation and resource timing.
type Loaded struct {
	Status   int                    `json:"status"`
	Requests int                    `json:"requests"`
	Failed   []result.FailedRequest `json:"failed"`
	Loaded   bool                   `json:"loaded"`
}

// AdoptLoaded records what the page said of the adopted document loaderID,
// where the events did not already.
func (l *Log) AdoptLoaded(loaderID string, ld Loaded) {
	d := l.byLoader[loaderID]
	if d == nil {
		return
	}
	if d.Status == 0 {
		d.Status = ld.Status
	}
	d.Requests = max(d.Requests, ld.Requests)
	d.Failed = max(d.Failed, len(ld.Failed))
	d.Loaded = d.Loaded || ld.Loaded
	heard := map[string]bool{}
	for _, f := range l.failed {
		heard[f.URL] = true
	}
	for _, f := range ld.Failed {
		if !heard[f.URL] {
			l.addFailed(f)
		}
	}
}

// Committed returns the loader of the run's document in the main frame
// now, or "" when it holds none of the run's.
func (l *Log) Committed() string {
	if l.byLoader[l.committed] == nil {
		return ""
	}
	return l.committed
}

// SetUnsettled records whether the document of loader settled before its
// final read ended.
func (l *Log) SetUnsettled(loader string, unsettled bool) {
	if d := l.byLoader[loader]; d != nil {
		d.Unsettled = unsettled
	}
}

func (l *Log) current() *Document {
	for i := len(l.docs) - 1; i >= 0; i-- {
		if l.docs[i].Tab == l.activeTab {
			return l.docs[i]
		}
	}
	return nil
}

// Apply folds one event of a tab.
func (l *Log) Apply(ev any) Change {
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		isDoc := ev.Type == network.ResourceTypeDocument && l.isMainFrame(string(ev.FrameID)) && string(ev.RequestID) == string(ev.LoaderID)
		if isDoc {
			c := Change{Changed: true}
			d := l.byLoader[string(ev.LoaderID)]
			if d == nil {
				d = &Document{LoaderID: string(ev.LoaderID), Step: l.step, Tab: l.tabIndex[string(ev.FrameID)]}
				l.byLoader[d.LoaderID] = d
				l.docs = append(l.docs, d)
				d.Requests++
				c.NewDoc = true
			}
			// A redirect reuses the request id; the final URL is what counts.
			d.URL, d.Method = ev.Request.URL, ev.Request.Method
			l.reqDoc[ev.RequestID] = d
			l.reqURL[ev.RequestID] = ev.Request.URL
			return c
		}
		if d := l.current(); d != nil {
			if _, seen := l.reqDoc[ev.RequestID]; !seen {
				d.Requests++
			}
			l.reqDoc[ev.RequestID] = d
		}
		l.reqURL[ev.RequestID] = ev.Request.URL
	case *network.EventResponseReceived:
		d := l.reqDoc[ev.RequestID]
		if ev.Response == nil {
			return Change{}
		}
		status := int(ev.Response.Status)
		c := Change{}
		if d != nil && string(ev.RequestID) == d.LoaderID {
			d.Status = status
			c.Changed = true
		}
		if status >= 400 {
			if d != nil {
				d.Failed++
			}
			l.addFailed(result.FailedRequest{URL: ev.Response.URL, Status: status})
		}
		return c
	case *network.EventLoadingFinished:
		if d := l.reqDoc[ev.RequestID]; d != nil {
			d.TransferBytes += int64(ev.EncodedDataLength)
		}
		delete(l.reqDoc, ev.RequestID)
		delete(l.reqURL, ev.RequestID)
	case *network.EventLoadingFailed:
		d := l.reqDoc[ev.RequestID]
		url := l.reqURL[ev.RequestID]
		delete(l.reqDoc, ev.RequestID)
		delete(l.reqURL, ev.RequestID)
		if l.blockedByFlow(ev.RequestID, d) {
			return Change{}
		}
		// A request the page itself abandoned (navigating away, an aborted
		// fetch) is not a failure the user sees.
		if ev.Canceled {
			return Change{}
		}
		c := Change{}
		if d != nil && string(ev.RequestID) == d.LoaderID {
			d.NetError = ev.ErrorText
			c.Changed = true
		}
		if d != nil {
			d.Failed++
		}
		l.addFailed(result.FailedRequest{URL: url, Error: ev.ErrorText})
		return c
	case *page.EventLifecycleEvent:
		if l.isMainFrame(string(ev.FrameID)) && ev.Name == "load" {
			if d := l.byLoader[string(ev.LoaderID)]; d != nil {
				d.Loaded = true
				return Change{Changed: true}
			}
		}
	case *page.EventNavigatedWithinDocument:
		if l.isMainFrame(string(ev.FrameID)) && len(l.sameDoc) < maxSameDoc {
			l.sameDoc = append(l.sameDoc, sameDocNav{URL: ev.URL, Step: l.step})
		}
	case *page.EventFrameAttached:
		if l.ownsFrame(string(ev.ParentFrameID)) {
			l.frames[string(ev.FrameID)] = true
		}
	case *page.EventFrameNavigated:
		if ev.Frame != nil && string(ev.Frame.ID) == l.mainFrame {
			l.committed = string(ev.Frame.LoaderID)
		} else if ev.Frame != nil && l.isMainFrame(string(ev.Frame.ID)) {
			l.tabLoader[string(ev.Frame.ID)] = string(ev.Frame.LoaderID)
		}
		if ev.Frame != nil && ev.Frame.ParentID != "" && l.ownsFrame(string(ev.Frame.ParentID)) {
			l.frames[string(ev.Frame.ID)] = true
		}
	case *runtime.EventExecutionContextCreated:
		l.contextCreated(ev)
	case *runtime.EventBindingCalled:
		return Change{Changed: l.report(ev)}
	case *runtime.EventExceptionThrown:
		msg := "uncaught exception"
		if ev.ExceptionDetails != nil {
			msg = ev.ExceptionDetails.Text
			if ex := ev.ExceptionDetails.Exception; ex != nil && ex.Description != "" {
				msg = ex.Description
				if i := strings.IndexByte(msg, '\n'); i > 0 {
					msg = msg[:i] // the first line; stacks are long and vary
				}
			}
		}
		l.addConsole(msg, exceptionSource(ev.ExceptionDetails))
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeAssert {
			return Change{}
		}
		var parts []string
		for _, a := range ev.Args {
			switch {
			case len(a.Value) > 0:
				parts = append(parts, strings.Trim(string(a.Value), `"`))
			case a.Description != "":
				parts = append(parts, a.Description)
			default:
				parts = append(parts, string(a.Type))
			}
		}
		l.addConsole("console.error: "+strings.Join(parts, " "), stackSource(ev.StackTrace))
	case *inspector.EventTargetCrashed:
		l.crashed = true
		return Change{Changed: true, Crashed: true}
	}
	return Change{}
}

// addConsole records a page error. The message and its source (" (url:line)")
// are masked and clipped apart, so that a long message never cuts off the
// script that broke.
func (l *Log) addConsole(msg, source string) {
	if len(l.console) >= MaxConsoleErrors {
		l.extraErrs++
		return
	}
	l.console = append(l.console, scenarios.Clip(l.mask(msg), MaxMessageLen)+scenarios.Clip(l.mask(source), MaxMessageLen))
}

func (l *Log) addFailed(f result.FailedRequest) {
	if len(l.failed) >= MaxFailedRequests {
		return
	}
	l.failed = append(l.failed, f)
}

// exceptionSource says where an uncaught exception was thrown, as
// " (url:line)", or "" when Chrome does not say: which script broke is the
// first thing to know about a JavaScript error.
func exceptionSource(ex *runtime.ExceptionDetails) string {
	if ex == nil {
		return ""
	}
	if s := stackSource(ex.StackTrace); s != "" {
		return s
	}
	if ex.URL == "" {
		return ""
	}
	return fmt.Sprintf(" (%s:%d)", ex.URL, ex.LineNumber+1)
}

// stackSource is the top frame of a stack as " (url:line)", or "".
func stackSource(st *runtime.StackTrace) string {
	if st == nil || len(st.CallFrames) == 0 || st.CallFrames[0].URL == "" {
		return ""
	}
	f := st.CallFrames[0]
	return fmt.Sprintf(" (%s:%d)", f.URL, f.LineNumber+1) // Chrome counts lines from 0
}

// report takes in a report of vitals.js, and says whether it was one.
func (l *Log) report(ev *runtime.EventBindingCalled) bool {
	if ev.Name != l.binding || len(ev.Payload) > MaxReportBytes {
		return false
	}
	d := l.byLoader[l.ctxLoader[ev.ExecutionContextID]]
	if d == nil {
		return false
	}
	var v Vitals
	if err := json.Unmarshal([]byte(ev.Payload), &v); err != nil {
		return false
	}
	// Reports of one document arrive in order; a later one never has less.
	if d.Vitals == nil || v.Now >= d.Vitals.Now {
		d.Vitals = &v
	}
	return true
}

// contextCreated ties a new execution context of the main frame's main
// world to the document committed in the frame, so that reports from it
// are the document's.
func (l *Log) contextCreated(ev *runtime.EventExecutionContextCreated) {
	if ev.Context == nil || len(ev.Context.AuxData) == 0 {
		return
	}
	var aux struct {
		IsDefault bool   `json:"isDefault"`
		FrameID   string `json:"frameId"`
	}
	if err := json.Unmarshal([]byte(ev.Context.AuxData), &aux); err != nil || !aux.IsDefault || !l.isMainFrame(aux.FrameID) {
		return
	}
	if aux.FrameID != l.mainFrame {
		l.ctxLoader[ev.Context.ID] = l.tabLoader[aux.FrameID] // a followed tab's
		return
	}
	l.ctxLoader[ev.Context.ID] = l.committed
}
