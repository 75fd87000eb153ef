package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/chromedp/cdproto/runtime"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/agent/runner/bridge"
)

// reportBinding is the function vitals.js calls with each change of a
// document's vitals (Runtime.addBinding).
const reportBinding = bridge.ReportBinding

// DefaultVitalsSettle bounds the final read of a page's vitals when neither
// the runner nor the flow says otherwise.
const DefaultVitalsSettle = 3 * time.Second

// pageVitals is what vitals.js reports of a document, from the browser's
// own performance entries; times are milliseconds from the start of the
// navigation.
type pageVitals struct {
	Doc        string   `json:"doc"`
	URL        string   `json:"url"`
	Now        float64  `json:"now"`
	Status     int      `json:"status"`
	TTFB       *float64 `json:"ttfb"`
	DCL        *float64 `json:"dcl"`
	Load       *float64 `json:"load"`
	FCP        *float64 `json:"fcp"`
	LCP        *float64 `json:"lcp"`
	LCPElement string   `json:"lcpEl"`
	CLS        *float64 `json:"cls"`
	Shifts     *int     `json:"shifts"`
	TBT        *float64 `json:"tbt"`
	// Inputs holds, for each trusted input of the page in order, the
	// latency of its interaction, or null when none was reported.
	Inputs []*float64 `json:"inputs"`
	// Soft are the soft navigations of the document, in order.
	Soft []softNav `json:"soft"`
}

// softNav is a soft navigation Chrome reported: a single-page app's new
// view after an input, with its own LCP, times from the document's start.
type softNav struct {
	URL        string   `json:"url"`
	Start      float64  `json:"start"`
	LCP        *float64 `json:"lcp"`
	LCPElement string   `json:"lcpEl"`
	Input      int      `json:"input"` // index of the input that caused it, -1 if none
}

// maxReportBytes bounds a report a page could inflate by calling the
// binding itself.
const maxReportBytes = 64 << 10

// inputMark is where a step's input starts in its document's list of
// inputs.
type inputMark struct {
	doc string
	n   int
}

// stepMark ties a result step to its input.
type stepMark struct {
	step int // index in the result's steps
	inputMark
}

// settleBound is how long the final read of a page may wait for the page
// to settle: the flow's vitals_settle, else the runner's, else the default.
func (r *Runner) settleBound(flowSettle *time.Duration) time.Duration {
	switch {
	case flowSettle != nil:
		return *flowSettle
	case r.VitalsSettle < 0:
		return 0
	case r.VitalsSettle > 0:
		return r.VitalsSettle
	}
	return DefaultVitalsSettle
}

// finalRead waits, at most bound, until the current document has nothing
// more to report, and records whether it settled. The vitals themselves
// arrive through the binding as they change, so a read that times out
// behind the page's long tasks loses nothing the page had reported; it
// only leaves the page marked as not final.
func (r *Runner) finalRead(ctx context.Context, pg *tabPage, ev *tracker, bound time.Duration) {
	ev.mu.Lock()
	d := ev.byLoader[ev.committed]
	ev.mu.Unlock()
	if d == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, bound+2*time.Second)
	defer cancel()
	var out struct {
		Settled bool `json:"settled"`
	}
	err := pg.call(ctx, string(bridge.Settle(bound)), &out)
	ev.mu.Lock()
	d.unsettled = err != nil || !out.Settled
	ev.mu.Unlock()
}

// unread marks the current document as not final: the run ended without
// its final read (Chrome broke).
func (t *tracker) unread() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if d := t.byLoader[t.committed]; d != nil {
		d.unsettled = true
	}
}

// report takes in a report of vitals.js. It runs in the tracker's listener,
// under its lock.
func (t *tracker) report(ev *runtime.EventBindingCalled) {
	if ev.Name != reportBinding || len(ev.Payload) > maxReportBytes {
		return
	}
	d := t.byLoader[t.ctxLoader[ev.ExecutionContextID]]
	if d == nil {
		return
	}
	var v pageVitals
	if err := json.Unmarshal([]byte(ev.Payload), &v); err != nil {
		return
	}
	// Reports of one document arrive in order; a later one never has less.
	if d.vitals == nil || v.Now >= d.vitals.Now {
		d.vitals = &v
	}
	t.signal()
}

// contextCreated ties a new execution context of the main frame's main
// world to the document committed in the frame, so that reports from it
// are the document's.
func (t *tracker) contextCreated(ev *runtime.EventExecutionContextCreated) {
	if ev.Context == nil || len(ev.Context.AuxData) == 0 {
		return
	}
	var aux struct {
		IsDefault bool   `json:"isDefault"`
		FrameID   string `json:"frameId"`
	}
	if err := json.Unmarshal([]byte(ev.Context.AuxData), &aux); err != nil || !aux.IsDefault || aux.FrameID != t.mainFrame {
		return
	}
	t.ctxLoader[ev.Context.ID] = t.committed
}

// collect builds the result's pages from the documents the tracker saw and
// the vitals they reported, the steps' interaction latencies, plus the page
// errors.
func (r *Runner) collect(res *result.Result, ev *tracker, marks []stepMark) {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	byDoc := map[string]*pageVitals{}
	// Chrome reports a download on the browser's connection and the
	// navigation that became it on the tab's, in either order: a document
	// that never loaded and whose URL a download has is that download too.
	downloaded := map[string]bool{}
	for _, dl := range ev.downloads {
		downloaded[dl.url] = true
	}
	for _, d := range ev.docs {
		if d.download || (!d.loaded && downloaded[d.url]) {
			continue // no page: the result lists it as a download
		}
		if len(res.Pages) >= maxPages {
			res.PagesOmitted++
			continue
		}
		p := result.Page{
			URL:            d.url,
			Step:           d.step,
			Status:         d.status,
			Requests:       d.requests,
			FailedRequests: d.failed,
			TransferBytes:  d.transferBytes,
		}
		if v := d.vitals; v != nil {
			byDoc[v.Doc] = v
			p.TTFBSeconds = seconds(v.TTFB)
			p.DOMContentLoadedSeconds = seconds(v.DCL)
			p.LoadSeconds = seconds(v.Load)
			p.FCPSeconds = seconds(v.FCP)
			p.LCPSeconds = seconds(v.LCP)
			if v.LCP != nil {
				p.LCPElement = v.LCPElement
			}
			p.CLS = v.CLS
			p.LayoutShifts = v.Shifts
			p.TBTSeconds = seconds(v.TBT)
			p.INPSeconds = seconds(worst(v.Inputs))
			p.LCPFinal = ptr(!d.unsettled)
			p.ObservedSeconds = seconds(&v.Now)
			if p.Status == 0 {
				p.Status = v.Status
			}
		}
		res.Pages = append(res.Pages, p)
		if d.vitals != nil {
			res.Pages = append(res.Pages, softPages(ev, d, res.Steps, marks)...)
		}
	}
	for i, m := range marks {
		v := byDoc[m.doc]
		if v == nil || m.n >= len(v.Inputs) {
			continue
		}
		// A step's inputs run to the next step's input on the same page.
		end := len(v.Inputs)
		for _, next := range marks[i+1:] {
			if next.doc == m.doc {
				end = max(m.n, min(next.n, end))
				break
			}
		}
		res.Steps[m.step].InteractionSeconds = seconds(worst(v.Inputs[m.n:end]))
	}
	res.ConsoleErrors = append(res.ConsoleErrors, ev.console...)
	if ev.extraErrs > 0 {
		res.ConsoleErrors = append(res.ConsoleErrors, fmt.Sprintf("(%d more not kept)", ev.extraErrs))
	}
	res.FailedRequests = append(res.FailedRequests, ev.failed...)
	ev.collectDownloads(res)
}

// softPages makes a page of each soft navigation of the document, opened
// by the step whose input caused it (else by the document's step). Times
// are from the soft navigation's start, as a document's are from its
// navigation's. Called with the tracker's lock held.
func softPages(ev *tracker, d *document, steps []result.Step, marks []stepMark) []result.Page {
	v := d.vitals
	var pages []result.Page
	for _, s := range v.Soft {
		p := result.Page{URL: s.URL, Step: d.step, LCPFinal: ptr(!d.unsettled)}
		// The step is the last whose input came at or before the one that
		// caused the soft navigation.
		for _, m := range marks {
			if m.doc == v.Doc && m.n <= s.Input {
				p.Step = steps[m.step].Name
			}
		}
		if s.LCP != nil {
			rel := max(*s.LCP-s.Start, 0)
			p.LCPSeconds = seconds(&rel)
			p.LCPElement = s.LCPElement
		}
		watched := max(v.Now-s.Start, 0)
		p.ObservedSeconds = seconds(&watched)
		pages = append(pages, p)
	}
	return pages
}

// worst is the largest of the reported values, or nil when none is.
func worst(vs []*float64) *float64 {
	var w *float64
	for _, v := range vs {
		if v != nil && (w == nil || *v > *w) {
			w = v
		}
	}
	return w
}

func seconds(ms *float64) *float64 {
	if ms == nil {
		return nil
	}
	s := *ms / 1000
	return &s
}
