// Package result is the record of one run of a flow on one device: what the
// user's task came to, how long it took and what went wrong. Its JSON form is
// the public result format of `uxprobe check --json` and /api/v1/results;
// the field names here are that format.
package result

import (
	"time"

	"github.com/uxprobe/uxprobe/scenarios"
)

// Result is one run of a flow on one device.
type Result struct {
	Flow            string    `json:"flow"`
	Device          string    `json:"device"`
	DeviceClass     string    `json:"device_class"`
	StartedAt       time.Time `json:"started_at"`
	Success         bool      `json:"success"`
	Attempts        int       `json:"attempts"`
	DurationSeconds float64   `json:"duration_seconds"`
	// SetupSeconds is the rest of the run's cost beyond the task time: the
	// tab, its browser context and emulation, the helper, and the final
	// read of the last page's vitals. Task time leaves it out on purpose;
	// the sum is the whole run.
	SetupSeconds float64 `json:"setup_seconds"`
	Steps        []Step  `json:"steps"`
	Pages        []Page  `json:"pages"`
	Error        *Error  `json:"error,omitempty"`
	// ConsoleErrors and FailedRequests are reported even when the task
	// succeeded: a broken image or an uncaught exception is worth knowing.
	ConsoleErrors  []string        `json:"console_errors"`
	FailedRequests []FailedRequest `json:"failed_requests"`
	Screenshots    []string        `json:"screenshots"`
}

// Step is one step of the run.
type Step struct {
	Name            string  `json:"name"`
	Action          string  `json:"action"`
	DurationSeconds float64 `json:"duration_seconds"`
	Success         bool    `json:"success"`
	Skipped         bool    `json:"skipped"`
	// InteractionSeconds is the latency of the step's own input (click,
	// press, fill): from the input event to the next paint after its
	// handlers ran, from Chrome's Event Timing. Absent when the step sent
	// no input or the browser reported no entry for it.
	InteractionSeconds *float64 `json:"interaction_seconds,omitempty"`
	Error              string   `json:"error,omitempty"`
}

// Page is one document navigation and what the browser measured of it. A
// pointer field is absent when the browser did not report the value: a zero
// would claim an impossibly fast page.
type Page struct {
	URL                     string   `json:"url"`
	Step                    string   `json:"step"`
	Status                  int      `json:"status,omitempty"`
	TTFBSeconds             *float64 `json:"ttfb_seconds,omitempty"`
	DOMContentLoadedSeconds *float64 `json:"dom_content_loaded_seconds,omitempty"`
	LoadSeconds             *float64 `json:"load_seconds,omitempty"`
	FCPSeconds              *float64 `json:"fcp_seconds,omitempty"`
	LCPSeconds              *float64 `json:"lcp_seconds,omitempty"`
	// LCPElement is the LCP element as a selector, for people.
	LCPElement string   `json:"lcp_element,omitempty"`
	CLS        *float64 `json:"cls,omitempty"`
	// LayoutShifts counts the page's layout shifts, those CLS leaves out
	// (after input) included.
	LayoutShifts *int `json:"layout_shifts,omitempty"`
	// INPSeconds is the worst interaction latency of the page's inputs.
	INPSeconds *float64 `json:"inp_seconds,omitempty"`
	// TBTSeconds is the total blocking time: the long tasks' time beyond
	// 50 ms each, from FCP until the page was left.
	TBTSeconds *float64 `json:"tbt_seconds,omitempty"`
	// LCPFinal is false when LCP and CLS may still have changed: the page
	// was still loading or changing when the settle bound ran out.
	LCPFinal *bool `json:"lcp_final,omitempty"`
	// ObservedSeconds is how long after the navigation started the page
	// was watched.
	ObservedSeconds *float64 `json:"observed_seconds,omitempty"`
	Requests        int      `json:"requests"`
	FailedRequests  int      `json:"failed_requests"`
	TransferBytes   int64    `json:"transfer_bytes"`
}

// Error says where and why the task was abandoned.
type Error struct {
	Step    string              `json:"step"`
	Kind    scenarios.ErrorKind `json:"kind"`
	Message string              `json:"message"`
}

// FailedRequest is a request that got an HTTP error or no response.
type FailedRequest struct {
	URL    string `json:"url"`
	Status int    `json:"status,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Outcome classifies a run for alerting.
type Outcome string

// The outcomes of a run.
const (
	OutcomeSuccess Outcome = "success"
	// OutcomeFailure means the site failed the user.
	OutcomeFailure Outcome = "failure"
	// OutcomeError means uxprobe or Chrome broke, or the run was cancelled:
	// it says nothing about the site, so it must not page anyone as if it did.
	OutcomeError Outcome = "error"
)

// Outcome tells a site failure from our own.
func (r *Result) Outcome() Outcome {
	switch {
	case r.Success:
		return OutcomeSuccess
	case r.Error != nil && (r.Error.Kind == scenarios.KindBrowser || r.Error.Kind == scenarios.KindCancelled):
		return OutcomeError
	default:
		return OutcomeFailure
	}
}

// SlowestLCP returns the largest LCP of the run's pages, if any page had one.
func (r *Result) SlowestLCP() (float64, bool) {
	var max float64
	found := false
	for _, p := range r.Pages {
		if p.LCPSeconds != nil && (!found || *p.LCPSeconds > max) {
			max, found = *p.LCPSeconds, true
		}
	}
	return max, found
}
