package pagelog

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/chromedp/cdproto"
	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp/jsonv2"
	"github.com/chromedp/cdproto/inspector"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"

	"github.com/uxprobe/uxprobe/agent/result"
)

// A recording is what a run fed its log, one JSON object a line, in
// order: the main frame, the step changes, the events (with their CDP
// method and parameters) and, last, the steps' input marks and the
// result's steps. Recorded from real Chrome by the runner's tests
// (-pagelog.record), replayed by this package's tests without it.
type recordLine struct {
	MainFrame string          `json:"main_frame,omitempty"`
	Step      *string         `json:"step,omitempty"`
	Method    string          `json:"method,omitempty"`
	Browser   bool            `json:"browser,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Unsettled *Unsettled      `json:"unsettled,omitempty"`
	Marks     []StepMark      `json:"marks,omitempty"`
	Steps     []result.Step   `json:"steps,omitempty"`
	Blocked   string          `json:"blocked,omitempty"`   // MarkBlocked's request id
	OwnFrame  string          `json:"own_frame,omitempty"` // AddFrame's frame
}

// Unsettled is a final read's outcome: whether the document of Loader
// settled (SetUnsettled).
type Unsettled struct {
	Loader    string `json:"loader"`
	Unsettled bool   `json:"unsettled"`
}

// eventMethod is the CDP method of the events the log folds, "" for the
// others.
func eventMethod(ev any) cdproto.MethodType {
	switch ev.(type) {
	case *network.EventRequestWillBeSent:
		return cdproto.EventNetworkRequestWillBeSent
	case *network.EventResponseReceived:
		return cdproto.EventNetworkResponseReceived
	case *network.EventLoadingFinished:
		return cdproto.EventNetworkLoadingFinished
	case *network.EventLoadingFailed:
		return cdproto.EventNetworkLoadingFailed
	case *page.EventLifecycleEvent:
		return cdproto.EventPageLifecycleEvent
	case *page.EventFrameNavigated:
		return cdproto.EventPageFrameNavigated
	case *page.EventNavigatedWithinDocument:
		return cdproto.EventPageNavigatedWithinDocument
	case *runtime.EventExecutionContextCreated:
		return cdproto.EventRuntimeExecutionContextCreated
	case *runtime.EventBindingCalled:
		return cdproto.EventRuntimeBindingCalled
	case *runtime.EventExceptionThrown:
		return cdproto.EventRuntimeExceptionThrown
	case *runtime.EventConsoleAPICalled:
		return cdproto.EventRuntimeConsoleAPICalled
	case *inspector.EventTargetCrashed:
		return cdproto.EventInspectorTargetCrashed
	case *browser.EventDownloadWillBegin:
		return cdproto.EventBrowserDownloadWillBegin
	case *browser.EventDownloadProgress:
		return cdproto.EventBrowserDownloadProgress
	}
	return ""
}

// Recorder writes a recording. Its Record has the runner's hook's shape.
// It is safe for concurrent use: a tab's event listener may still deliver
// an event after the run returned, while the caller reads the recording.
type Recorder struct {
	mu      sync.Mutex
	w       io.Writer
	err     error // the first error
	stopped bool
}

// NewRecorder writes a recording to w.
func NewRecorder(w io.Writer) *Recorder { return &Recorder{w: w} }

// Stop ends the recording: what comes later is not written, so that w can
// be read. It returns the first error of the recording.
func (r *Recorder) Stop() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopped = true
	return r.err
}

// Record records one thing the runner fed its log: kind is main_frame,
// step, event, browser_event, blocked, own_frame, unsettled, marks or
// result_steps.
func (r *Recorder) Record(kind string, v any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return
	}
	var line recordLine
	switch kind {
	case "main_frame":
		line.MainFrame = v.(string)
	case "step":
		s := v.(string)
		line.Step = &s
	case "event", "browser_event":
		m := eventMethod(v)
		if m == "" {
			return // not folded: not recorded
		}
		params, err := jsonv2.Marshal(v)
		if err != nil {
			r.fail(err)
			return
		}
		line.Method, line.Browser, line.Params = string(m), kind == "browser_event", params
	case "blocked":
		line.Blocked = v.(string)
	case "own_frame":
		line.OwnFrame = v.(string)
	case "unsettled":
		u := v.(Unsettled)
		line.Unsettled = &u
	case "marks":
		line.Marks = append([]StepMark{}, v.([]StepMark)...)
	case "result_steps":
		line.Steps = append([]result.Step{}, v.([]result.Step)...)
	default:
		return
	}
	b, err := json.Marshal(line)
	if err != nil {
		r.fail(err)
		return
	}
	if _, err := r.w.Write(append(b, '\n')); err != nil {
		r.fail(err)
	}
}

func (r *Recorder) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// Replay folds a recording into a new log, as the runner would have, and
// returns the result's parts the log fills in a result with the recorded
// steps. binding and mask are New's.
func Replay(rd io.Reader, binding string, mask func(string) string) (*result.Result, error) {
	var l *Log
	var marks []StepMark
	res := &result.Result{Steps: []result.Step{}, Pages: []result.Page{}, ConsoleErrors: []string{}, FailedRequests: []result.FailedRequest{}}
	sc := bufio.NewScanner(rd)
	sc.Buffer(nil, 16<<20)
	for n := 1; sc.Scan(); n++ {
		var line recordLine
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		switch {
		case line.MainFrame != "":
			l = New(line.MainFrame, binding, mask)
		case l == nil:
			return nil, fmt.Errorf("line %d: no main frame before it", n)
		case line.Step != nil:
			l.SetStep(*line.Step)
		case line.Unsettled != nil:
			l.SetUnsettled(line.Unsettled.Loader, line.Unsettled.Unsettled)
		case line.Blocked != "":
			l.MarkBlocked(line.Blocked)
		case line.OwnFrame != "":
			l.AddFrame(line.OwnFrame)
		case line.Method != "":
			ev, err := cdproto.UnmarshalMessage(&cdproto.Message{Method: cdproto.MethodType(line.Method), Params: jsonv2.Value(line.Params)})
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			if line.Browser {
				l.ApplyBrowser(ev)
			} else {
				l.Apply(ev)
			}
		case line.Marks != nil:
			marks = line.Marks
		case line.Steps != nil:
			// The result was built here: what came after is not in it.
			res.Steps = line.Steps
			l.Collect(res, marks)
			res.RoundTimes()
			return res, nil
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("the recording ends before the result was built")
}

// Folded is the part of a result that the log fills (pages, console errors,
// failed requests, downloads and each step's interaction latency) as text,
// so that a replay can be compared with the run it was recorded from.
func Folded(res *result.Result) string {
	inter := map[string]*float64{}
	for _, s := range res.Steps {
		if s.InteractionSeconds != nil {
			inter[s.Name] = s.InteractionSeconds
		}
	}
	b, _ := json.MarshalIndent(struct {
		Pages          []result.Page          `json:"pages"`
		PagesOmitted   int                    `json:"pages_omitted"`
		ConsoleErrors  []string               `json:"console_errors"`
		FailedRequests []result.FailedRequest `json:"failed_requests"`
		Downloads      []result.Download      `json:"downloads"`
		Interaction    map[string]*float64    `json:"interaction_seconds"`
		Blocked        int                    `json:"blocked_requests,omitempty"`
	}{res.Pages, res.PagesOmitted, res.ConsoleErrors, res.FailedRequests, res.Downloads, inter, res.BlockedRequests}, "", " ")
	return string(b)
}
