package result

import (
	"math"
	"time"

	"github.com/uxprobe/uxprobe/scenarios"
)

// New starts the result of a run of flow on d that started at started. It
// is the one constructor of a Result, for the runner and for the agent's
// stand-in when a runner gives none: every list is empty rather than nil,
// so that the JSON format says [] and never null.
func New(flow string, d scenarios.Device, started time.Time) *Result {
	return &Result{
		Flow:           flow,
		Device:         d.Name,
		DeviceClass:    string(d.Class),
		StartedAt:      started.UTC(),
		Steps:          []Step{},
		Pages:          []Page{},
		ConsoleErrors:  []string{},
		FailedRequests: []FailedRequest{},
		Screenshots:    []string{},
		Findings:       []Finding{},
		Dialogs:        []Dialog{},
	}
}

// RoundTimes rounds every time of the result (its seconds) to the
// microsecond: sums and quotients of milliseconds carry float noise
// (0.34620000000018625), which no clock measured and which every reader of
// the JSON would have to round again. Call it where the result is built.
func (r *Result) RoundTimes() {
	r.DurationSeconds = roundMicro(r.DurationSeconds)
	r.SetupSeconds = roundMicro(r.SetupSeconds)
	for i := range r.Steps {
		s := &r.Steps[i]
		s.DurationSeconds = roundMicro(s.DurationSeconds)
		roundPtr(s.InteractionSeconds)
	}
	for i := range r.Pages {
		p := &r.Pages[i]
		for _, v := range []*float64{p.TTFBSeconds, p.DOMContentLoadedSeconds, p.LoadSeconds, p.FCPSeconds,
			p.LCPSeconds, p.INPSeconds, p.TBTSeconds, p.ObservedSeconds} {
			roundPtr(v)
		}
	}
}

func roundMicro(s float64) float64 { return math.Round(s*1e6) / 1e6 }

func roundPtr(v *float64) {
	if v != nil {
		*v = roundMicro(*v)
	}
}
