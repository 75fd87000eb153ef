package agent

import (
	"context"
	"errors"
	"regexp"
	"time"

	"github.com/uxprobe/uxprobe/agent/fleet"
	"github.com/uxprobe/uxprobe/scenarios"
)

// Fleet is the state that the agents of a fleet share through their
// database: claims of slots, missed markers, run-now requests for other
// locations and heartbeats. *fleet.Postgres implements it. Its methods
// return an error when the database is unreachable; the agent then fails
// open: it runs its location's slots itself, so that an outage may run a
// slot twice in a location but never loses one.
type Fleet interface {
	Claim(ctx context.Context, s fleet.Slot) (bool, error)
	MarkMissed(ctx context.Context, slots []fleet.Slot) ([]fleet.Slot, error)
	Heartbeat(ctx context.Context, location string) error
	Enqueue(ctx context.Context, r fleet.Request) (int64, error)
	Take(ctx context.Context, location string) (*fleet.Request, error)
	Release(ctx context.Context, id int64) error
	Prune(ctx context.Context, now time.Time) error
}

// Timing of the fleet's loop.
const (
	// requestPoll is how often an agent looks for run-now requests of its
	// location: a person waits for them.
	requestPoll = time.Second
	// pruneEvery is how often an agent deletes old claims and requests.
	pruneEvery = 10 * time.Minute
	// maxMissedSlots bounds the slots one tick marks as missed, should
	// ticks have stopped for a long while (a suspended machine).
	maxMissedSlots = 16
)

var locationRE = regexp.MustCompile(`^[a-z0-9-]*$`)

// ValidLocation reports whether name can be a location (--location): lower
// case letters, digits and dashes, as a Prometheus label value and a
// Kubernetes name both take; empty is the one location of a fleet that
// names none.
func ValidLocation(name string) bool { return len(name) <= 63 && locationRE.MatchString(name) }

// tickSlot is the schedule slot a tick runs: from start to end, the next
// tick. A run that has not found a browser slot by end gives up.
type tickSlot struct{ start, end time.Time }

// fleetTick finds the slot of a tick and marks the slots since the entry's
// previous tick that no agent of the location claimed: they ran nowhere.
// The marker goes under the claims' unique constraint, so each such slot is
// counted once over the fleet, by the first agent to notice it.
func (a *Agent) fleetTick(e *entry, now time.Time) *tickSlot {
	start, end := e.sched.slotAt(now)
	e.slotMu.Lock()
	prev, open := e.lastSlot, e.openSlot
	switch {
	case prev.IsZero():
		// The entry's first tick marks nothing, and neither does the
		// next: the slots before it were before this agent ran the flow,
		// perhaps before any agent did, and its own slot began before
		// it, so a run may give up for want of time.
		e.lastSlot = end
	case start.After(prev):
		e.lastSlot = start
	}
	e.slotMu.Unlock()
	if !prev.IsZero() && start.After(prev) {
		var past []fleet.Slot
		for s := prev; s.Before(start) && len(past) < maxMissedSlots; {
			_, next := e.sched.slotAt(s)
			if !s.Equal(open) { // run here without a claim during an outage
				for _, d := range e.flow.Devices {
					past = append(past, fleet.Slot{Location: a.opts.Location, Flow: e.flow.Name, Device: d.Name, At: s, End: next})
				}
			}
			if !next.After(s) {
				break
			}
			s = next
		}
		marked, err := a.opts.Fleet.MarkMissed(e.ctx, past)
		if err == nil {
			for _, s := range marked {
				a.log.Warn("a slot ran on no agent of the location: every agent was busy or down; add agents or --browser.max-concurrency", "flow", s.Flow, "device", s.Device, "slot", s.At)
				a.skipped(e, SkipMissed)
			}
		}
	}
	return &tickSlot{start: start, end: end}
}

// turnPoll is how often a tick of a fleet checks whether the flow's
// previous run here has ended.
const turnPoll = 20 * time.Millisecond

// awaitTurn waits until the flow's previous run on this agent has ended and
// takes the running flag, or gives up at end. In a fleet a tick does not
// skip at once: an agent's first run after it starts may end just after the
// first slot of the grid begins, and with no other agent in the location
// that slot would be lost; meanwhile a free agent may claim it.
func (a *Agent) awaitTurn(e *entry, end time.Time) bool {
	t := time.NewTicker(turnPoll)
	defer t.Stop()
	deadline := time.NewTimer(time.Until(end))
	defer deadline.Stop()
	for {
		select {
		case <-t.C:
			if e.running.CompareAndSwap(false, true) {
				return true
			}
		case <-deadline.C:
			return false
		case <-e.ctx.Done():
			return false
		case <-a.schedCtx.Done():
			return false
		}
	}
}

// claim takes the slot of the device for this agent; false means another
// agent has it, or the flow went away. A claim that cannot reach the
// database runs the slot: failing open.
func (a *Agent) claim(e *entry, d scenarios.Device, slot *tickSlot) bool {
	won, err := a.opts.Fleet.Claim(e.ctx, fleet.Slot{Location: a.opts.Location, Flow: e.flow.Name, Device: d.Name, At: slot.start, End: slot.end})
	switch {
	case err != nil && e.ctx.Err() != nil:
		return false
	case err != nil:
		e.slotMu.Lock()
		e.openSlot = slot.start
		e.slotMu.Unlock()
		return true
	case !won:
		a.skipped(e, SkipClaimed)
	}
	return won
}

// fleetLoop keeps the agent's heartbeat, takes the run-now requests of its
// location and prunes old claims, until ctx ends.
func (a *Agent) fleetLoop(ctx context.Context) {
	poll := time.NewTicker(requestPoll)
	defer poll.Stop()
	var beat, pruned time.Time
	for {
		now := time.Now()
		if now.Sub(beat) >= fleet.HeartbeatEvery {
			beat = now
			_ = a.opts.Fleet.Heartbeat(ctx, a.opts.Location)
		}
		if now.Sub(pruned) >= pruneEvery {
			pruned = now
			_ = a.opts.Fleet.Prune(ctx, now)
		}
		a.takeRequests(ctx)
		select {
		case <-ctx.Done():
			return
		case <-poll.C:
		}
	}
}

// maxRequestsPerPoll bounds the requests one poll takes, so that a burst
// of them leaves some to the location's other agents.
const maxRequestsPerPoll = 4

// takeRequests runs the run-now requests of the agent's location that
// another agent stored.
func (a *Agent) takeRequests(ctx context.Context) {
	for range maxRequestsPerPoll {
		r, err := a.opts.Fleet.Take(ctx, a.opts.Location)
		if err != nil || r == nil {
			return
		}
		_, err = a.runNow(r.Flow, r.Device, r.IDs)
		switch {
		case errors.Is(err, ErrFlowRunning), errors.Is(err, ErrNotRunning):
			// Another agent of the location may be free, or this one
			// later; one that is stopping leaves it to the others, even
			// though its own context has ended.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			_ = a.opts.Fleet.Release(rctx, r.ID)
			cancel()
			return
		case err != nil:
			a.log.Warn("a run requested from another location cannot run here", "flow", r.Flow, "device", r.Device, "by", r.By, "err", err)
		default:
			a.log.Info("running a flow on request of another location", "flow", r.Flow, "device", r.Device, "by", r.By)
		}
	}
}
