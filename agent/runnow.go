package agent

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/uxprobe/uxprobe/agent/fleet"
	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// The errors of RunNow.
var (
	// ErrUnknownFlow: no loaded flow (of this agent's shard) has that name,
	// or it does not run on that device.
	ErrUnknownFlow = errors.New("no such flow")
	// ErrFlowRunning: a run of the flow is in progress, scheduled or not;
	// flows never overlap themselves.
	ErrFlowRunning = errors.New("the flow is running")
	// ErrNotRunning: the agent has not started or is stopping.
	ErrNotRunning = errors.New("the agent is not running flows")
	// ErrUnknownLocation: no agent of that location is running, or this
	// agent shares no fleet database to reach one through.
	ErrUnknownLocation = errors.New("no agent of that location")
)

// RunNow runs a flow now, out of its schedule, on the devices that device
// names (a name or a class; empty means all of the flow's devices), through
// the same concurrency limit as scheduled runs. It returns at once with the
// ids the results will have; the runs are recorded and exported as
// scheduled ones are. A scheduled run due meanwhile is skipped as an
// overlap.
func (a *Agent) RunNow(flow, device string) ([]string, error) {
	return a.runNow(flow, device, nil)
}

// RunNowIn is RunNow in a location: this agent's own (or "") runs here;
// another is asked through the fleet's database, and an agent there runs it
// within about a second (see Options.Fleet). The ids are those the results
// will have wherever they run; the flow and device are checked against this
// agent's flows, as the fleet shares its flow files.
func (a *Agent) RunNowIn(location, flow, device string) ([]string, error) {
	if location == "" || location == a.opts.Location {
		return a.RunNow(flow, device)
	}
	if !ValidLocation(location) {
		return nil, fmt.Errorf("%w %q: a location is lower-case letters, digits and dashes", ErrUnknownLocation, location)
	}
	if a.opts.Fleet == nil {
		return nil, fmt.Errorf("%w %q: this agent shares no fleet database (--storage.url)", ErrUnknownLocation, location)
	}
	a.mu.Lock()
	e := a.entries[flow]
	var n int
	if e != nil {
		for _, d := range e.flow.Devices {
			if device == "" || d.Matches(device) {
				n++
			}
		}
	}
	a.mu.Unlock()
	if e == nil {
		return nil, fmt.Errorf("%w %q", ErrUnknownFlow, flow)
	}
	if n == 0 {
		return nil, fmt.Errorf("%w %q on device %q", ErrUnknownFlow, flow, device)
	}
	now := time.Now()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = result.NewID(now)
	}
	ctx, cancel := context.WithTimeout(a.schedCtx, 5*time.Second)
	defer cancel()
	if _, err := a.opts.Fleet.Enqueue(ctx, fleet.Request{Location: location, Flow: flow, Device: device, IDs: ids}); err != nil {
		if errors.Is(err, fleet.ErrNoAgent) {
			return nil, fmt.Errorf("%w %q", ErrUnknownLocation, location)
		}
		return nil, fmt.Errorf("storing the request for location %q: %w", location, err)
	}
	return ids, nil
}

// runNow is RunNow with the ids of the results given, in the order of the
// flow's devices (a request from another location); missing ones are made.
func (a *Agent) runNow(flow, device string, given []string) ([]string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e := a.entries[flow]
	if e == nil {
		return nil, fmt.Errorf("%w %q", ErrUnknownFlow, flow)
	}
	if !a.opts.Shard.Owns(flow) {
		return nil, fmt.Errorf("%w %q on this agent: it belongs to another shard", ErrUnknownFlow, flow)
	}
	var devices []scenarios.Device
	for _, d := range e.flow.Devices {
		if device == "" || d.Matches(device) {
			devices = append(devices, d)
		}
	}
	if len(devices) == 0 {
		return nil, fmt.Errorf("%w %q on device %q", ErrUnknownFlow, flow, device)
	}
	if !a.started || a.stopping || e.ctx.Err() != nil {
		return nil, ErrNotRunning
	}
	if !e.running.CompareAndSwap(false, true) {
		return nil, fmt.Errorf("%w: %q", ErrFlowRunning, flow)
	}
	a.runs.Add(1)
	now := time.Now()
	ids := make([]string, len(devices))
	for i := range devices {
		if i < len(given) && given[i] != "" {
			ids[i] = given[i]
		} else {
			ids[i] = result.NewID(now)
		}
	}
	go func() {
		defer a.runs.Done()
		defer e.running.Store(false)
		var wg sync.WaitGroup
		for i, d := range devices {
			wg.Go(func() { a.runDevice(e, d, ids[i], nil, time.Time{}) })
		}
		wg.Wait()
	}()
	return ids, nil
}
