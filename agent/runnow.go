package agent

import (
	"errors"
	"fmt"
	"sync"
	"time"

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
)

// RunNow runs a flow now, out of its schedule, on the devices that device
// names (a name or a class; empty means all of the flow's devices), through
// the same concurrency limit as scheduled runs. It returns at once with the
// ids the results will have; the runs are recorded and exported as
// scheduled ones are. A scheduled run due meanwhile is skipped as an
// overlap.
func (a *Agent) RunNow(flow, device string) ([]string, error) {
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
		ids[i] = result.NewID(now)
	}
	go func() {
		defer a.runs.Done()
		defer e.running.Store(false)
		var wg sync.WaitGroup
		for i, d := range devices {
			wg.Go(func() { a.runDevice(e, d, ids[i]) })
		}
		wg.Wait()
	}()
	return ids, nil
}
