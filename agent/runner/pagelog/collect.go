package pagelog

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/uxprobe/uxprobe/agent/result"
)

// Vitals is what vitals.js reports of a document, from the browser's own
// performance entries; times are milliseconds from the start of the
// navigation.
type Vitals struct {
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
	// InputAt holds when each of those inputs came, in the same order.
	InputAt []float64 `json:"inputAt"`
	// Soft are the soft navigations of the document, in order.
	Soft []SoftNav `json:"soft"`
}

// SoftNav is a soft navigation Chrome reported: a single-page app's new
// view after an input, with its own LCP candidates, times from the
// document's start.
type SoftNav struct {
	URL   string  `json:"url"`
	Start float64 `json:"start"`
	// Cands are the view's LCP candidates as Chrome reported them, in
	// order: [paint time, element name]. Chrome keeps reporting them
	// through later inputs; which count is the fold's (viewLCP).
	Cands []Candidate `json:"cands"`
	Input int         `json:"input"` // index of the input that caused it, -1 if none
}

// Candidate is one LCP candidate of a soft navigation: when it was
// painted and the element's name.
type Candidate struct {
	Time    float64
	Element string
}

// UnmarshalJSON reads a candidate as vitals.js sends it, [time, name].
func (c *Candidate) UnmarshalJSON(b []byte) error {
	var v [2]json.RawMessage
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if err := json.Unmarshal(v[0], &c.Time); err != nil {
		return err
	}
	return json.Unmarshal(v[1], &c.Element)
}

// viewLCP is a soft navigation's LCP as a document's is: its last
// candidate painted before the first input after the one that caused it
// (a notification, a node added a dozen inputs later or the next view
// are not this view's). inputAt are the document's input times.
func viewLCP(s SoftNav, inputAt []float64) (lcp *float64, element string) {
	end := math.Inf(1)
	// The next input is the first after the soft navigation began: the
	// causing input came at or before its start (1 ms of rounding).
	for i, t := range inputAt {
		if i > s.Input && t > s.Start+1 {
			end = t
			break
		}
	}
	for _, c := range s.Cands {
		if c.Time >= end {
			continue
		}
		t := c.Time
		lcp, element = &t, c.Element
	}
	return lcp, element
}

// InputMark is where a step's input starts in its document's list of
// inputs.
type InputMark struct {
	Doc string
	N   int
}

// StepMark ties a result step to its input.
type StepMark struct {
	Step int // index in the result's steps
	InputMark
}

// Collect puts into res what the log holds: a page per document (the
// navigations that became downloads left out, past MaxPages counted) and
// per soft navigation, each step's interaction latency (marks), the
// console errors, the failed requests and the downloads.
func (l *Log) Collect(res *result.Result, marks []StepMark) {
	res.BlockedRequests = l.blockedCount
	byDoc := map[string]*Vitals{}
	// Chrome reports a download on the browser's connection and the
	// navigation that became it on the tab's, in either order: a document
	// that never loaded and whose URL a download has is that download too.
	downloaded := map[string]bool{}
	for _, dl := range l.downloads {
		downloaded[dl.URL] = true
	}
	for _, d := range l.docs {
		if d.Download || (!d.Loaded && downloaded[d.URL]) {
			continue // no page: the result lists it as a download
		}
		if len(res.Pages) >= MaxPages {
			res.PagesOmitted++
			continue
		}
		p := result.Page{
			URL:            d.URL,
			Step:           d.Step,
			Status:         d.Status,
			Requests:       d.Requests,
			FailedRequests: d.Failed,
			TransferBytes:  d.TransferBytes,
			Tab:            d.Tab,
		}
		if v := d.Vitals; v != nil {
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
			p.LCPFinal = ptr(!d.Unsettled)
			p.ObservedSeconds = seconds(&v.Now)
			if p.Status == 0 {
				p.Status = v.Status
			}
		}
		res.Pages = append(res.Pages, p)
		if d.Vitals != nil {
			res.Pages = append(res.Pages, softPages(d, res.Steps, marks, l.sameDoc)...)
		}
	}
	for i, m := range marks {
		v := byDoc[m.Doc]
		if v == nil || m.N >= len(v.Inputs) {
			continue
		}
		// A step's inputs run to the next step's input on the same page.
		end := len(v.Inputs)
		for _, next := range marks[i+1:] {
			if next.Doc == m.Doc {
				end = max(m.N, min(next.N, end))
				break
			}
		}
		res.Steps[m.Step].InteractionSeconds = seconds(worst(v.Inputs[m.N:end]))
	}
	res.ConsoleErrors = append(res.ConsoleErrors, l.console...)
	if l.extraErrs > 0 {
		res.ConsoleErrors = append(res.ConsoleErrors, fmt.Sprintf("(%d more not kept)", l.extraErrs))
	}
	res.FailedRequests = append(res.FailedRequests, l.failed...)
	for i, d := range l.downloads {
		if i >= MaxDownloads {
			break
		}
		res.Downloads = append(res.Downloads, result.Download{
			Step: d.Step, URL: d.URL, FileName: d.Name,
			SizeBytes: d.Bytes, Complete: d.Done && !d.Failed && !d.TooBig,
		})
	}
}

// softPages makes a page of each soft navigation of the document, opened
// by the step whose input caused it (else by the document's step), or by
// a later goto that changed the URL to it (a hash-only goto, which sends
// no input). Times are from the soft navigation's start, as a document's
// are from its navigation's.
func softPages(d *Document, steps []result.Step, marks []StepMark, sameDoc []sameDocNav) []result.Page {
	v := d.Vitals
	var pages []result.Page
	for _, s := range v.Soft {
		p := result.Page{URL: s.URL, Step: d.Step, LCPFinal: ptr(!d.Unsettled), Tab: d.Tab}
		// The step is the last whose input came at or before the one that
		// caused the soft navigation.
		at := -1
		for _, m := range marks {
			if m.Doc == v.Doc && m.N <= s.Input {
				p.Step, at = steps[m.Step].Name, m.Step
			}
		}
		// Chrome ties a view a goto brought to the last input before it;
		// the goto that went to its URL after that input is its step.
		if i := gotoTo(s.URL, steps, at, sameDoc); i >= 0 {
			p.Step = steps[i].Name
		}
		if lcp, el := viewLCP(s, v.InputAt); lcp != nil {
			rel := max(*lcp-s.Start, 0)
			p.LCPSeconds = seconds(&rel)
			p.LCPElement = el
		}
		watched := max(v.Now-s.Start, 0)
		p.ObservedSeconds = seconds(&watched)
		pages = append(pages, p)
	}
	return pages
}

// gotoTo returns the index of the first goto step after step after that
// changed the URL to url without a new document, or -1.
func gotoTo(url string, steps []result.Step, after int, sameDoc []sameDocNav) int {
	for _, n := range sameDoc {
		if n.URL != url {
			continue
		}
		for i := after + 1; i < len(steps); i++ {
			if steps[i].Name == n.Step && steps[i].Action == "goto" {
				return i
			}
		}
	}
	return -1
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

func ptr[T any](v T) *T { return &v }
