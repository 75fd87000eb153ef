// Package result is the record of one run of a flow on one device: what the
// user's task came to, how long it took and what went wrong. Its JSON form is
// the public result format of `uxprobe check --json` and /api/v1/results;
// the field names here are that format.
package result

import (
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/uxprobe/uxprobe/scenarios"
)

// Result is one run of a flow on one device.
type Result struct {
	// ID names the run in the history (see agent/history); empty when no
	// history is kept.
	ID          string `json:"id,omitempty"`
	Flow        string `json:"flow"`
	Device      string `json:"device"`
	DeviceClass string `json:"device_class"`
	// Conditions are the user's conditions the run emulated (the device's
	// over the flow's); nil when it emulated none.
	Conditions *scenarios.Conditions `json:"conditions,omitempty"`
	// Location is where the agent that ran it stands (--location), empty
	// for a single-location set-up; Agent names that agent (--agent.name,
	// else the host name). Together they say where a run came from in a
	// fleet that shares one history.
	Location        string    `json:"location,omitempty"`
	Agent           string    `json:"agent,omitempty"`
	StartedAt       time.Time `json:"started_at"`
	Success         bool      `json:"success"`
	Attempts        int       `json:"attempts"`
	DurationSeconds float64   `json:"duration_seconds"`
	// SetupSeconds is the rest of the run's cost beyond the task time: the
	// tab, its browser context and emulation, the helper, and the final
	// read of the last page's vitals, and the screenshot and
	// assert_screenshot steps (ProbeWork). Task time leaves it out on
	// purpose; the sum is the whole run.
	SetupSeconds float64 `json:"setup_seconds"`
	Steps        []Step  `json:"steps"`
	Pages        []Page  `json:"pages"`
	// PagesOmitted counts the pages past the first 50, which Pages leaves
	// out so that a page that navigates without end cannot grow a result.
	PagesOmitted int    `json:"pages_omitted,omitempty"`
	Error        *Error `json:"error,omitempty"`
	// ConsoleErrors and FailedRequests are reported even when the task
	// succeeded: a broken image or an uncaught exception is worth knowing.
	ConsoleErrors  []string        `json:"console_errors"`
	FailedRequests []FailedRequest `json:"failed_requests"`
	// BlockedRequests counts the requests the flow's block list failed
	// before they left the browser (trackers, chat widgets): by design,
	// so never among FailedRequests.
	BlockedRequests int      `json:"blocked_requests"`
	Screenshots     []string `json:"screenshots"`
	// Findings are the audit's, by audit step and page; AuditedRules are
	// the rules that were checked in the run, found something or not.
	Findings     []Finding `json:"findings"`
	AuditedRules []string  `json:"audited_rules,omitempty"`
	// NeedsReview are what axe-core could not decide (its incomplete
	// results), in the shape of findings; they are never violations.
	NeedsReview []Finding `json:"needs_review,omitempty"`
	// HAR is the path of the run's network log (HAR 1.2), when one was
	// written (see --artifacts.har).
	HAR string `json:"har,omitempty"`
	// Filmstrip is the page's frames as it changed during the run (at
	// most ten a second, the last 150), when they were kept (see
	// --artifacts.filmstrip).
	Filmstrip []Frame `json:"filmstrip,omitempty"`
	// Downloads are the files the page made the browser download; a
	// download completes the step that started it. The files are not kept.
	Downloads []Download `json:"downloads,omitempty"`
	// Dialogs are the alert, confirm, prompt and beforeunload dialogs the
	// pages opened, answered by the flow's dialogs policy.
	Dialogs []Dialog `json:"dialogs"`
	// Session is the saved session of a login flow the run started with
	// (the flow's `session`); nil for a flow without one.
	Session *Session `json:"session,omitempty"`
}

// Session says which saved session a run started with: the login flow's
// name, how old the session was when the (last) attempt started, and
// whether the login flow ran for this run because there was none, it was
// too old, or the site had dropped it. The session itself is never here.
type Session struct {
	Flow       string  `json:"flow"`
	AgeSeconds float64 `json:"age_seconds"`
	Refreshed  bool    `json:"refreshed"`
}

// Frame is one picture of a run's filmstrip: a JPEG at Path, T seconds
// after the run started, while Step ran ("" before the first step).
type Frame struct {
	Path string  `json:"path"`
	T    float64 `json:"t"`
	Step string  `json:"step,omitempty"`
}

// Download is one file a run downloaded.
type Download struct {
	Step      string `json:"step"`
	URL       string `json:"url"`
	FileName  string `json:"file_name"` // the name the server suggested
	SizeBytes int64  `json:"size_bytes"`
	Complete  bool   `json:"complete"`
	// Path is where the file was kept (keep_downloads), else empty.
	Path string `json:"path,omitempty"`
	// Masked says that the kept file is text whose secret values were
	// masked: it differs from what the server sent.
	Masked bool `json:"masked,omitempty"`
	// NotKept says why a file the flow keeps was not kept: it is not text
	// and holds a secret value, which cannot be masked in it.
	NotKept string `json:"not_kept,omitempty"`
}

// Dialog is one JavaScript dialog a page opened.
type Dialog struct {
	Step    string `json:"step"`
	Type    string `json:"type"` // alert, confirm, prompt or beforeunload
	Message string `json:"message"`
}

// ProbeWork reports whether the step is uxprobe's work rather than the
// user's wait (a screenshot or assert_screenshot step): its time is
// counted in SetupSeconds, not in the task time, and it is left out of
// the device parity ratios.
func (s Step) ProbeWork() bool { return s.Action == "screenshot" || s.Action == "assert_screenshot" }

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
	// Value is an eval step's value as JavaScript shows it (3, "c",
	// HTMLDivElement), masked and clipped (redact.ValueLen), so that a
	// selector can be debugged from the result alone.
	Value string `json:"value,omitempty"`
	// Cleanup marks a step of the flow's finally list: it ran after the
	// task whatever happened, and never changes Success.
	Cleanup bool `json:"cleanup,omitempty"`
	// Warnings are what went through but deserves a look, such as an
	// action on the first of several elements its selector matched.
	Warnings []string `json:"warnings,omitempty"`
	// Visual is an assert_screenshot step's comparison with its baseline.
	Visual *Visual `json:"visual,omitempty"`
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
	// Tab is the tab the page was in: 0 for the run's first tab, 1 for
	// the first tab a step opened, and so on.
	Tab int `json:"tab,omitempty"`
}

// Error says where and why the task was abandoned.
type Error struct {
	Step    string              `json:"step"`
	Kind    scenarios.ErrorKind `json:"kind"`
	Message string              `json:"message"`
	// ScreenshotError says why the failure has no screenshot (the page
	// crashed, Chrome broke, the capture or the file failed), when
	// screenshots are on (--artifacts) and none could be taken.
	ScreenshotError string `json:"screenshot_error,omitempty"`
}

// FailedRequest is a request that got an HTTP error or no response.
type FailedRequest struct {
	URL    string `json:"url"`
	Status int    `json:"status,omitempty"`
	Error  string `json:"error,omitempty"`
}

// CleanupFailures returns the cleanup steps that failed.
func (r *Result) CleanupFailures() []Step {
	var out []Step
	for _, s := range r.Steps {
		if s.Cleanup && !s.Success {
			out = append(out, s)
		}
	}
	return out
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

// NewID returns a new run id: the start time to the second, so that ids
// sort by time in listings and file names, and 48 random bits, so that runs
// started in the same second (or by another process writing the same
// history) do not collide.
func NewID(started time.Time) string {
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux
	return started.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}
