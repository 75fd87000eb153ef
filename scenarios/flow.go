// Package scenarios is the flow model of uxprobe: what a user flow is, how it
// is read from YAML files, and how it is validated. It is pure data plus the
// semantics of each step action, written against the Page interface that a
// browser runner implements; it never imports a browser library.
package scenarios

import (
	"slices"
	"strconv"
	"time"

	"github.com/robfig/cron/v3"
)

// Defaults for the optional keys of a flow.
const (
	DefaultSchedule    = "@every 5m"
	DefaultTimeout     = 60 * time.Second
	DefaultStepTimeout = 10 * time.Second
)

// DefaultDevices are the devices of a flow that names none: the same task on
// a desktop and a phone, because an equal experience on both is the point.
var DefaultDevices = []string{"desktop", "mobile"}

// Flow is one validated user flow, ready to run without re-parsing strings:
// variables are substituted, durations parsed, devices resolved to emulation
// parameters and steps decoded into typed actions.
type Flow struct {
	Name        string
	Description string
	Schedule    string // a robfig/cron spec, as written
	// Cron is Schedule as the loader parsed it with ParseSchedule; the
	// agent schedules with it rather than parse the spec again. Set both
	// with SetSchedule.
	Cron        cron.Schedule
	Timeout     time.Duration
	StepTimeout time.Duration
	Retries     int
	Devices     []Device
	Network     NetworkProfile
	CPUSlowdown float64 // 0 or 1 means no throttling
	Headers     map[string]string
	// HeadersOrigins are the origins that get Headers besides those of the
	// goto URLs (see HeaderOrigins); AnyOrigin means every origin.
	HeadersOrigins []string
	// Block fails the requests these patterns match before they leave
	// (block.go); Mocks answer those theirs match (mock.go).
	Block []URLPattern
	Mocks []Mock
	// KeepDownloads keeps downloaded files among the artifacts.
	KeepDownloads bool
	Steps         []Step
	// Conditions are the user's locale, time zone, place, permissions and
	// display preferences on every device (see ConditionsOn).
	Conditions Conditions
	// Audit lists the audit rules run on every page the flow opens, after
	// its load; empty runs none.
	Audit []string
	// VitalsSettle is the flow's vitals_settle: how long the final read of
	// a page's vitals may wait for the page to settle; nil leaves it to the
	// runner (--vitals.settle).
	VitalsSettle *time.Duration

	// Source is where the flow's document starts, for messages about it.
	Source Position

	secrets []string // values to mask, longest first

	// Dialogs is what the run does with alert, confirm, prompt and
	// beforeunload dialogs.
	Dialogs DialogPolicy
	// Finally are the cleanup steps, run after Steps whatever happened.
	Finally []Step
	// IgnoreHTTPSErrors accepts any certificate, such as a test site's
	// self-signed one.
	IgnoreHTTPSErrors bool
	// HTTPCredentials answer the site's HTTP basic auth; the password is
	// masked like a secret.
	HTTPCredentials *Credentials
	// Cookies and LocalStorage ({origin: {key: value}}) are set in the
	// run's browser context before the first step (cookies.go).
	Cookies      []Cookie
	LocalStorage map[string]map[string]string
	// ProvidesSession keeps a successful run's cookies and local storage
	// for the flows whose Session names it; such a flow starts with them
	// when they are at most SessionMaxAge old (session.go).
	ProvidesSession bool
	Session         string
	SessionMaxAge   time.Duration
	sessionPos      Position
	sessionFlow     *Flow

	vars        map[string]string // the flow's vars, overrides included
	extractVars map[string]bool   // vars that extract steps set at run time
	secretVars  map[string]bool   // extract vars whose values are masked
	run         *runSecrets       // values masked in this run only; nil outside a run
}

// Step is one action of a flow with its common keys resolved.
type Step struct {
	// Name is the label of the step in results and metrics: the `name` key,
	// else "<index>-<action>" such as "3-click".
	Name     string
	Index    int // 1-based position in the flow
	Action   Action
	Timeout  time.Duration // the step's own timeout, else the flow's step_timeout
	Only     []string      // device classes or names; empty means every device
	Optional bool          // a failure is recorded but the flow goes on
	Source   Position

	// dynamic is set when the action uses run-time variables, which Bind
	// substitutes.
	dynamic bool
}

// RunsOn reports whether the step applies to the device, by `only:`.
func (s Step) RunsOn(d Device) bool {
	if len(s.Only) == 0 {
		return true
	}
	return slices.ContainsFunc(s.Only, d.Matches)
}

// SetSchedule replaces the flow's schedule, as `uxprobe demo` does for
// every example flow.
func (f *Flow) SetSchedule(spec string) error {
	c, err := ParseSchedule(spec)
	if err != nil {
		return err
	}
	f.Schedule, f.Cron = spec, c
	return nil
}

// Device returns the flow's device with the name, if the flow runs on it.
func (f *Flow) Device(name string) (Device, bool) {
	i := slices.IndexFunc(f.Devices, func(d Device) bool { return d.Name == name })
	if i < 0 {
		return Device{}, false
	}
	return f.Devices[i], true
}

// Position is a place in a flow file.
type Position struct {
	File   string
	Line   int
	Column int
}

func (p Position) String() string {
	if p.Line == 0 {
		return p.File
	}
	return p.File + ":" + strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Column)
}
