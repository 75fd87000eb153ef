package agent

// A scheduled tick of a flow: its shard, its turn and fleet slot, its login
// flow's first run, and a run on each device.

import (
	"context"
	"sync"
	"time"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// tick is one scheduled run of a flow: every device of the flow, at the same
// time as far as the concurrency limit allows.
func (a *Agent) tick(e *entry) {
	due := time.Now()
	defer e.firstRunOver()
	name := e.flow.Name
	if !a.opts.Shard.Owns(name) {
		a.skipped(e, SkipShard)
		return
	}
	var slot *tickSlot
	if a.opts.Fleet != nil {
		slot = a.fleetTick(e, time.Now())
	}
	if !e.running.CompareAndSwap(false, true) && (slot == nil || !a.awaitTurn(e, slot.end)) {
		a.log.Warn("skipping a run: the previous run of the flow is still going; consider a longer schedule or a shorter timeout", "flow", name)
		a.skipped(e, SkipOverlap)
		return
	}
	defer e.running.Store(false)
	a.mu.Lock()
	if a.stopping || e.ctx.Err() != nil {
		a.mu.Unlock()
		return
	}
	a.runs.Add(1)
	a.mu.Unlock()
	defer a.runs.Done()

	// A flow that uses a session starts after its login flow's first run,
	// with the session that run saved, rather than logging in itself
	// before it and the login flow logging in once more (LoginRunner).
	if !a.awaitLogin(e) {
		return
	}
	var wg sync.WaitGroup
	for _, d := range e.flow.Devices {
		wg.Go(func() { a.runDevice(e, d, "", slot, due) })
	}
	wg.Wait()
}

func (a *Agent) skipped(e *entry, reason string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.entries[e.flow.Name] == e {
		a.m.skipped.WithLabelValues(e.flow.Name, reason).Inc()
	}
}

// runDevice waits for a browser slot, runs the flow on the device and
// records the result, under the id given (RunNow), or a new one when the
// agent keeps a history. With a slot (a fleet), it waits for a browser
// slot until the schedule slot ends, and then runs only if its claim wins:
// an agent claims only what it can start at once, so that a free agent of
// the location takes the slot rather than a busy one. due is when a
// scheduled run fell due (zero for RunNow): a login flow's scheduled run
// that a login on demand did since then is skipped (LoginRunner).
func (a *Agent) runDevice(e *entry, d scenarios.Device, id string, slot *tickSlot, due time.Time) {
	cancel := e.ctx.Done()
	if slot != nil {
		ctx, stop := context.WithDeadline(e.ctx, slot.end)
		defer stop()
		cancel = ctx.Done()
	}
	waited, ok := a.slots.acquire(a.schedCtx.Done(), cancel)
	if !ok {
		return
	}
	if a.schedCtx.Err() != nil || e.ctx.Err() != nil {
		a.slots.release() // the agent is stopping or the flow went away meanwhile
		return
	}
	if slot != nil && !a.claim(e, d, slot) {
		a.slots.release()
		return
	}
	a.m.queueWait.Observe(waited.Seconds())
	var res *result.Result
	if a.logins != nil && e.flow.ProvidesSession && !due.IsZero() {
		var fresh bool
		res, fresh = guarded(e.flow, d, a.log, func() *result.Result { return a.logins.RunLogin(e.ctx, e.flow, d, due) })
		a.slots.release()
		if fresh {
			a.log.Debug("skipping a login flow's run: a login on demand refreshed the session since it fell due", "flow", e.flow.Name, "device", d.Name)
			a.skipped(e, SkipSessionFresh)
			return
		}
	} else {
		runCtx, free := a.slots.hold(e.ctx)
		res = runSafely(runCtx, a.opts.Runner, e.flow, d, a.log)
		free()
	}
	res.Location, res.Agent = a.opts.Location, a.opts.Name
	switch {
	case id != "":
		res.ID = id
	case len(a.history) > 0 && res.ID == "":
		res.ID = result.NewID(res.StartedAt)
	}
	a.record(e, res)
}
