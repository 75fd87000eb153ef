package runner

import (
	"fmt"
	"strings"
	"sync"

	"github.com/chromedp/cdproto/inspector"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// Caps keep a noisy page from growing a result without bound.
const (
	maxConsoleErrors  = 20
	maxFailedRequests = 50
	maxMessageLen     = 300
)

// document is one main-frame document navigation as the events show it.
type document struct {
	loaderID string
	method   string
	url      string
	step     string
	status   int
	netError string
	loaded   bool
	download bool // the navigation became a download: no page
	tab      int  // 0 for the run's first tab, then in the order the flow followed them (tabs.go)

	requests      int
	failed        int
	transferBytes int64

	vitals    *pageVitals // the latest report of the document's vitals
	unsettled bool        // the final read ran out of time before the page settled
}

// tracker follows a tab's events: document navigations and their outcome,
// requests, console errors and failed requests. chromedp calls its listener
// in the tab's read loop, in order, so the state here always reflects every
// event that arrived before a command's reply.
type tracker struct {
	mu        sync.Mutex
	mainFrame string
	step      string // the step running now, for attributing new documents
	docs      []*document
	byLoader  map[string]*document
	reqDoc    map[network.RequestID]*document // requests in flight, for byte counts and failures
	reqURL    map[network.RequestID]string
	console   []string
	failed    []result.FailedRequest
	crashed   bool
	crash     chan struct{} // closed when the renderer crashed: no call gets an answer after it
	changed   chan struct{} // signalled (non-blocking) after each relevant event
	mask      func(string) string
	extraErrs int // console errors past the cap, counted so the cut shows

	downloads      []*download // from the browser's events (download.go)
	cancelDownload func(guid string)

	// The redirect-loop bound of the current step (navbound.go).
	navMark     int
	onNavBound  func()
	navBoundHit bool
	tabs        tabFrames                             // the main frames of the tabs the run followed (tabs.go)
	committed   string                                // loader of the document in the main frame now
	ctxLoader   map[runtime.ExecutionContextID]string // main-world contexts to their document's loader
}

func newTracker(mainFrame string, mask func(string) string) *tracker {
	return &tracker{
		mainFrame: mainFrame,
		byLoader:  map[string]*document{},
		reqDoc:    map[network.RequestID]*document{},
		reqURL:    map[network.RequestID]string{},
		ctxLoader: map[runtime.ExecutionContextID]string{},
		changed:   make(chan struct{}, 1),
		crash:     make(chan struct{}),
		mask:      mask,
	}
}

func (t *tracker) signal() {
	select {
	case t.changed <- struct{}{}:
	default:
	}
}

func (t *tracker) setStep(name string) {
	t.mu.Lock()
	t.step = name
	t.mu.Unlock()
}

// navCount is a mark to ask later which navigations started after it.
func (t *tracker) navCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.docs)
}

// since returns the documents that started after mark.
func (t *tracker) since(mark int) []document {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []document
	for _, d := range t.docs[mark:] {
		out = append(out, *d)
	}
	return out
}

func (t *tracker) current() *document {
	for i := len(t.docs) - 1; i >= 0; i-- {
		if t.docs[i].tab == t.tabs.active {
			return t.docs[i]
		}
	}
	return nil
}

func (t *tracker) listen(ev any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		isDoc := ev.Type == network.ResourceTypeDocument && t.isMainFrame(string(ev.FrameID)) && string(ev.RequestID) == string(ev.LoaderID)
		if isDoc {
			d := t.byLoader[string(ev.LoaderID)]
			if d == nil {
				d = &document{loaderID: string(ev.LoaderID), step: t.step, tab: t.tabs.of(string(ev.FrameID))}
				t.byLoader[d.loaderID] = d
				t.docs = append(t.docs, d)
				d.requests++
				t.checkNavBound()
			}
			// A redirect reuses the request id; the final URL is what counts.
			d.url, d.method = ev.Request.URL, ev.Request.Method
			t.reqDoc[ev.RequestID] = d
			t.reqURL[ev.RequestID] = ev.Request.URL
			t.signal()
			return
		}
		if d := t.current(); d != nil {
			if _, seen := t.reqDoc[ev.RequestID]; !seen {
				d.requests++
			}
			t.reqDoc[ev.RequestID] = d
		}
		t.reqURL[ev.RequestID] = ev.Request.URL
	case *network.EventResponseReceived:
		d := t.reqDoc[ev.RequestID]
		if ev.Response == nil {
			return
		}
		status := int(ev.Response.Status)
		if d != nil && string(ev.RequestID) == d.loaderID {
			d.status = status
			t.signal()
		}
		if status >= 400 {
			if d != nil {
				d.failed++
			}
			t.addFailed(result.FailedRequest{URL: ev.Response.URL, Status: status})
		}
	case *network.EventLoadingFinished:
		if d := t.reqDoc[ev.RequestID]; d != nil {
			d.transferBytes += int64(ev.EncodedDataLength)
		}
		delete(t.reqDoc, ev.RequestID)
		delete(t.reqURL, ev.RequestID)
	case *network.EventLoadingFailed:
		d := t.reqDoc[ev.RequestID]
		url := t.reqURL[ev.RequestID]
		delete(t.reqDoc, ev.RequestID)
		delete(t.reqURL, ev.RequestID)
		// A request the page itself abandoned (navigating away, an aborted
		// fetch) is not a failure the user sees.
		if ev.Canceled {
			return
		}
		if d != nil && string(ev.RequestID) == d.loaderID {
			d.netError = ev.ErrorText
			t.signal()
		}
		if d != nil {
			d.failed++
		}
		t.addFailed(result.FailedRequest{URL: url, Error: ev.ErrorText})
	case *page.EventLifecycleEvent:
		if t.isMainFrame(string(ev.FrameID)) && ev.Name == "load" {
			if d := t.byLoader[string(ev.LoaderID)]; d != nil {
				d.loaded = true
				t.signal()
			}
		}
	case *page.EventFrameNavigated:
		if ev.Frame != nil && string(ev.Frame.ID) == t.mainFrame {
			t.committed = string(ev.Frame.LoaderID)
		}
	case *runtime.EventExecutionContextCreated:
		t.contextCreated(ev)
	case *runtime.EventBindingCalled:
		t.report(ev)
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
		t.addConsole(msg, exceptionSource(ev.ExceptionDetails))
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeAssert {
			return
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
		t.addConsole("console.error: "+strings.Join(parts, " "), stackSource(ev.StackTrace))
	case *inspector.EventTargetCrashed:
		if !t.crashed {
			close(t.crash)
		}
		t.crashed = true
		t.signal()
	}
}

// addConsole records a page error. The message and its source (" (url:line)")
// are masked and clipped apart, so that a long message never cuts off the
// script that broke.
func (t *tracker) addConsole(msg, source string) {
	if len(t.console) >= maxConsoleErrors {
		t.extraErrs++
		return
	}
	t.console = append(t.console, scenarios.Clip(t.mask(msg), maxMessageLen)+scenarios.Clip(t.mask(source), maxMessageLen))
}

func (t *tracker) addFailed(f result.FailedRequest) {
	if len(t.failed) >= maxFailedRequests {
		return
	}
	t.failed = append(t.failed, f)
}

func (t *tracker) isCrashed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.crashed
}

// documentProblem describes a document that failed the user, or "".
func documentProblem(d document) string {
	switch {
	case d.netError != "":
		return fmt.Sprintf("%s %s failed: %s", d.method, d.url, d.netError)
	case d.status >= 400:
		return fmt.Sprintf("%s %s returned HTTP %d", d.method, d.url, d.status)
	}
	return ""
}

// currentStep is the step running now.
func (t *tracker) currentStep() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.step
}
