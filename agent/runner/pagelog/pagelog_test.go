package pagelog

import (
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/inspector"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"

	"github.com/uxprobe/uxprobe/agent/result"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const binding = "__uxprobeReport"

// TestReplayRecordings folds the event sequences recorded from real Chrome
// (see TestPagelogReplaysWhatChromeSaid in the runner) and compares what
// they come to with the golden files beside them.
func TestReplayRecordings(t *testing.T) {
	recs, _ := filepath.Glob("testdata/*.jsonl")
	if len(recs) == 0 {
		t.Fatal("no recordings in testdata")
	}
	for _, path := range recs {
		name := strings.TrimSuffix(filepath.Base(path), ".jsonl")
		t.Run(name, func(t *testing.T) {
			fh, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			res, err := Replay(fh, binding, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := Folded(res) + "\n" // the golden files end with a line break
			golden := strings.TrimSuffix(path, ".jsonl") + ".golden.json"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("%s folds to\n%s\nwant (%s)\n%s", path, got, golden, want)
			}
		})
	}
}

// Events of a made-up run, for the rules the recordings may not show.
const frame = "F1"

func docReq(loader, url string) *network.EventRequestWillBeSent {
	return &network.EventRequestWillBeSent{RequestID: network.RequestID(loader), LoaderID: cdp.LoaderID(loader), FrameID: cdp.FrameID(frame),
		Type: network.ResourceTypeDocument, Request: &network.Request{URL: url, Method: "GET"}}
}

func subReq(id, url string) *network.EventRequestWillBeSent {
	return &network.EventRequestWillBeSent{RequestID: network.RequestID(id), LoaderID: "L?", FrameID: cdp.FrameID(frame),
		Type: network.ResourceTypeImage, Request: &network.Request{URL: url, Method: "GET"}}
}

func response(id, url string, status int64) *network.EventResponseReceived {
	return &network.EventResponseReceived{RequestID: network.RequestID(id), Response: &network.Response{URL: url, Status: status}}
}

func loaded(loader string) *page.EventLifecycleEvent {
	return &page.EventLifecycleEvent{FrameID: cdp.FrameID(frame), LoaderID: cdp.LoaderID(loader), Name: "load"}
}

func committed(loader string) *page.EventFrameNavigated {
	return &page.EventFrameNavigated{Frame: &cdp.Frame{ID: cdp.FrameID(frame), LoaderID: cdp.LoaderID(loader)}}
}

func execContext(id int64) *runtime.EventExecutionContextCreated {
	return &runtime.EventExecutionContextCreated{Context: &runtime.ExecutionContextDescription{ID: runtime.ExecutionContextID(id),
		AuxData: []byte(`{"isDefault":true,"frameId":"` + frame + `"}`)}}
}

func report(ctx int64, payload string) *runtime.EventBindingCalled {
	return &runtime.EventBindingCalled{Name: binding, ExecutionContextID: runtime.ExecutionContextID(ctx), Payload: payload}
}

// TestFoldingRules: table tests of the folding, one rule each.
func TestFoldingRules(t *testing.T) {
	type step struct {
		name   string
		events []any
	}
	tests := []struct {
		name  string
		steps []step
		check func(t *testing.T, res *result.Result, l *Log)
	}{
		{"a redirect is one page, at its final URL", []step{{"1-goto", []any{docReq("L1", "http://a/old"), docReq("L1", "http://a/new"), response("L1", "http://a/new", 200), loaded("L1")}}},
			func(t *testing.T, res *result.Result, l *Log) {
				if len(res.Pages) != 1 || res.Pages[0].URL != "http://a/new" || res.Pages[0].Status != 200 || res.Pages[0].Requests != 1 {
					t.Errorf("pages %+v", res.Pages)
				}
			}},
		{"a request the page cancelled is no failure", []step{{"1-goto", []any{docReq("L1", "http://a/"), subReq("r1", "http://a/x.png"),
			&network.EventLoadingFailed{RequestID: "r1", ErrorText: "net::ERR_ABORTED", Canceled: true}}}},
			func(t *testing.T, res *result.Result, l *Log) {
				if len(res.FailedRequests) != 0 || res.Pages[0].FailedRequests != 0 || res.Pages[0].Requests != 2 {
					t.Errorf("failed %+v, page %+v", res.FailedRequests, res.Pages[0])
				}
			}},
		{"a failed document is the step's problem", []step{{"1-goto", []any{docReq("L1", "http://a/"), response("L1", "http://a/", 503)}}},
			func(t *testing.T, res *result.Result, l *Log) {
				if p := l.Since(0)[0].Problem(); p != "GET http://a/ returned HTTP 503" {
					t.Errorf("problem %q", p)
				}
				if len(res.FailedRequests) != 1 || res.FailedRequests[0].Status != 503 {
					t.Errorf("failed %+v", res.FailedRequests)
				}
			}},
		{"a navigation that became a download is no page", []step{{"1-goto", []any{docReq("L1", "http://a/report"),
			&browser.EventDownloadWillBegin{FrameID: frame, GUID: "g", URL: "http://a/report", SuggestedFilename: "r.csv"},
			&browser.EventDownloadProgress{GUID: "g", ReceivedBytes: 10, State: browser.DownloadProgressStateCompleted}}}},
			func(t *testing.T, res *result.Result, l *Log) {
				if len(res.Pages) != 0 || len(res.Downloads) != 1 || !res.Downloads[0].Complete || res.Downloads[0].SizeBytes != 10 || res.Downloads[0].Step != "1-goto" {
					t.Errorf("pages %+v downloads %+v", res.Pages, res.Downloads)
				}
			}},
		{"vitals go to the document of their context, a stale report is ignored", []step{{"1-goto", []any{docReq("L1", "http://a/"), committed("L1"), execContext(7),
			report(7, `{"doc":"d1","now":900,"lcp":340.00000000001,"lcpEl":"img#hero","inputs":[16,null]}`),
			report(7, `{"doc":"d1","now":800,"lcp":100}`), loaded("L1")}}},
			func(t *testing.T, res *result.Result, l *Log) {
				res.RoundTimes()
				p := res.Pages[0]
				if p.LCPSeconds == nil || *p.LCPSeconds != 0.34 || p.LCPElement != "img#hero" || *p.INPSeconds != 0.016 || *p.ObservedSeconds != 0.9 {
					t.Errorf("page %+v", p)
				}
			}},
		{"a renderer crash is told", []step{{"1-goto", []any{docReq("L1", "http://a/"), &inspector.EventTargetCrashed{}}}},
			func(t *testing.T, res *result.Result, l *Log) {
				if !l.Crashed() {
					t.Error("the crash was not folded")
				}
			}},
		{"pages past the cap are counted", []step{{"1-goto", func() []any {
			var evs []any
			for i := range MaxPages + 3 {
				evs = append(evs, docReq("L"+string(rune('A'+i)), "http://a/"))
			}
			return evs
		}()}},
			func(t *testing.T, res *result.Result, l *Log) {
				if len(res.Pages) != MaxPages || res.PagesOmitted != 3 {
					t.Errorf("%d pages, %d omitted", len(res.Pages), res.PagesOmitted)
				}
			}},
		{"console errors are capped with a note", []step{{"1-goto", func() []any {
			evs := []any{docReq("L1", "http://a/")}
			for range MaxConsoleErrors + 2 {
				evs = append(evs, &runtime.EventConsoleAPICalled{Type: runtime.ConsoleAPICalledTypeError, Args: []*runtime.RemoteObject{{Value: []byte(`"boom"`)}}})
			}
			return evs
		}()}},
			func(t *testing.T, res *result.Result, l *Log) {
				if n := len(res.ConsoleErrors); n != MaxConsoleErrors+1 || res.ConsoleErrors[n-1] != "(2 more not kept)" || res.ConsoleErrors[0] != "console.error: boom" {
					t.Errorf("console errors %q", res.ConsoleErrors)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := New(frame, binding, nil)
			out := &result.Result{}
			for _, st := range tc.steps {
				l.SetStep(st.name)
				out.Steps = append(out.Steps, result.Step{Name: st.name})
				for _, ev := range st.events {
					if c, _ := l.ApplyBrowser(ev); c.Changed {
						continue
					}
					l.Apply(ev)
				}
			}
			l.Collect(out, nil)
			tc.check(t, out, l)
		})
	}
}

// TestViewLCPEndsAtNextInput: a soft navigation's LCP is its last
// candidate painted before the next input, as a document's is; Chrome
// goes on reporting candidates of the view through later inputs (a
// notification, an element added a dozen inputs later, the next view).
func TestViewLCPEndsAtNextInput(t *testing.T) {
	c := func(t float64, el string) Candidate { return Candidate{Time: t, Element: el} }
	tests := []struct {
		name    string
		soft    SoftNav
		inputAt []float64
		lcp     float64 // 0: none
		el      string
	}{
		{"no later input: the last candidate", SoftNav{Start: 100, Input: 0, Cands: []Candidate{c(150, "h1"), c(300, "img#hero")}}, []float64{99}, 300, "img#hero"},
		{"a later input ends it", SoftNav{Start: 100, Input: 0, Cands: []Candidate{c(150, "h1"), c(900, "div.notification"), c(16000, "g.node")}}, []float64{99, 800, 1200, 1500}, 150, "h1"},
		{"the next view is not this one's", SoftNav{Start: 100, Input: 1, Cands: []Candidate{c(140, "main > h1"), c(2100, "nav > a:nth-of-type(2)")}}, []float64{20, 100.4, 2000}, 140, "main > h1"},
		{"a candidate painted at the input is the input's", SoftNav{Start: 100, Input: 0, Cands: []Candidate{c(150, "h1"), c(500, "p")}}, []float64{99, 500}, 150, "h1"},
		{"no input before the view: inputs after its start end it", SoftNav{Start: 100, Input: -1, Cands: []Candidate{c(150, "h1"), c(700, "p")}}, []float64{600}, 150, "h1"},
		{"every candidate after the next input: none", SoftNav{Start: 100, Input: 0, Cands: []Candidate{c(700, "p")}}, []float64{99, 600}, 0, ""},
		{"no candidates", SoftNav{Start: 100, Input: 0}, []float64{99}, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lcp, el := viewLCP(tc.soft, tc.inputAt)
			var got float64
			if lcp != nil {
				got = *lcp
			}
			if got != tc.lcp || el != tc.el {
				t.Errorf("view LCP = %v %q, want %v %q", got, el, tc.lcp, tc.el)
			}
		})
	}
}

// TestSoftPageLCPFromReport: a soft navigation's page gets its view's
// LCP, relative to the view's start, from a report as vitals.js sends it.
func TestSoftPageLCPFromReport(t *testing.T) {
	var v Vitals
	report := `{"doc":"d1","url":"http://x/","now":5000,"inputs":[null,null,null],"inputAt":[1000,1500,4000],
"soft":[{"url":"http://x/a","start":1001,"input":0,"cands":[[1200,"main > h1"],[1800,"div#toast"],[4100,"section#next"]]}]}`
	if err := json.Unmarshal([]byte(report), &v); err != nil {
		t.Fatal(err)
	}
	d := &Document{URL: "http://x/", Step: "1-goto", Vitals: &v}
	steps := []result.Step{{Name: "1-goto"}, {Name: "open a"}, {Name: "toast"}, {Name: "next"}}
	marks := []StepMark{{Step: 1, InputMark: InputMark{Doc: "d1", N: 0}}, {Step: 2, InputMark: InputMark{Doc: "d1", N: 1}}, {Step: 3, InputMark: InputMark{Doc: "d1", N: 2}}}
	pages := softPages(d, steps, marks, nil)
	if len(pages) != 1 {
		t.Fatalf("pages = %+v", pages)
	}
	p := pages[0]
	if p.Step != "open a" || p.LCPSeconds == nil || math.Abs(*p.LCPSeconds-0.199) > 1e-9 || p.LCPElement != "main > h1" {
		t.Errorf("soft page: step %q, lcp %v, element %q; want open a, 0.199 s, main > h1", p.Step, p.LCPSeconds, p.LCPElement)
	}
}

// TestSoftPageStep: a soft navigation belongs to the step whose input
// caused it, unless a later goto changed the URL to it without a new
// document (a hash-only goto, which sends no input: Chrome ties its view
// to the input before).
func TestSoftPageStep(t *testing.T) {
	steps := []result.Step{{Name: "1-goto", Action: "goto"}, {Name: "open list", Action: "click"}, {Name: "item", Action: "goto"}, {Name: "wait", Action: "wait_for"}}
	marks := []StepMark{{Step: 1, InputMark: InputMark{Doc: "d1", N: 0}}}
	tests := []struct {
		name    string
		url     string
		sameDoc []sameDocNav
		want    string
	}{
		{"the click's pushState", "http://x/list", []sameDocNav{{"http://x/list", "open list"}}, "open list"},
		{"a hash goto after the click", "http://x/list#7", []sameDocNav{{"http://x/list", "open list"}, {"http://x/list#7", "item"}}, "item"},
		{"a URL a later non-goto step changed keeps the input's step", "http://x/late", []sameDocNav{{"http://x/late", "wait"}}, "open list"},
		{"no same-document navigation seen", "http://x/list#7", nil, "open list"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := &Vitals{Doc: "d1", Now: 3000, InputAt: []float64{1000}, Soft: []SoftNav{{URL: tc.url, Start: 1001, Input: 0}}}
			pages := softPages(&Document{Step: "1-goto", Vitals: v}, steps, marks, tc.sameDoc)
			if len(pages) != 1 || pages[0].Step != tc.want {
				t.Errorf("pages %+v, want one of step %q", pages, tc.want)
			}
		})
	}
}

// TestDownloadOfATabNotYetTheRuns: the browser's connection may tell of a
// new tab's download before the opener's session told that the tab is the
// run's; AddFrame claims it then, with what arrived of it meanwhile, and
// leaves other frames' downloads alone.
func TestDownloadOfATabNotYetTheRuns(t *testing.T) {
	began := func(guid, frame string) any {
		return &browser.EventDownloadWillBegin{GUID: guid, FrameID: cdp.FrameID(frame), URL: "http://a/" + guid, SuggestedFilename: guid + ".bin"}
	}
	progress := func(guid string, bytes float64, state browser.DownloadProgressState) any {
		return &browser.EventDownloadProgress{GUID: guid, ReceivedBytes: bytes, State: state}
	}
	tests := []struct {
		name       string
		before     []any // browser events before AddFrame("TAB")
		after      []any
		wantDone   bool
		wantN      int
		wantCancel bool
	}{
		{"began before the tab was the run's", []any{began("g1", "TAB")}, []any{progress("g1", 4096, browser.DownloadProgressStateCompleted)}, true, 1, false},
		{"done before the tab was the run's", []any{began("g1", "TAB"), progress("g1", 4096, browser.DownloadProgressStateCompleted)}, nil, true, 1, false},
		{"too big before the tab was the run's", []any{began("g1", "TAB"), progress("g1", MaxDownloadBytes+1, browser.DownloadProgressStateInProgress)}, nil, false, 1, true},
		{"another run's tab is not claimed", []any{began("g1", "OTHER")}, nil, false, 0, false},
		{"only the latest unclaimed are kept", func() []any {
			evs := []any{began("g0", "TAB")}
			for i := range maxUnclaimed {
				evs = append(evs, began("x"+strconv.Itoa(i), "OTHER"))
			}
			return evs
		}(), nil, false, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := New("MAIN", "b", nil)
			l.SetStep("2-click")
			for _, ev := range tc.before {
				if c, _ := l.ApplyBrowser(ev); c.Changed {
					t.Errorf("%T of a frame not the run's changed the log", ev)
				}
			}
			c, cancel := l.AddFrame("TAB")
			for _, ev := range tc.after {
				l.ApplyBrowser(ev)
			}
			if got := l.Downloads(10); len(got) != tc.wantN {
				t.Fatalf("downloads %+v, want %d", got, tc.wantN)
			}
			if tc.wantN == 0 {
				if c.Changed {
					t.Error("AddFrame claimed nothing but reported a change")
				}
				return
			}
			d, ok := l.DownloadFrom("TAB", 0)
			if !ok || d.Done != tc.wantDone || d.Step != "2-click" || d.Name != "g1.bin" {
				t.Errorf("download %+v (found %v), want done %v, of step 2-click", d, ok, tc.wantDone)
			}
			if (cancel == "g1") != tc.wantCancel || !c.Changed {
				t.Errorf("AddFrame = %+v, cancel %q; want a change, cancel g1: %v", c, cancel, tc.wantCancel)
			}
		})
	}
}
