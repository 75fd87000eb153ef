// Package fleet lets several agents share one PostgreSQL database and split
// the runs of their location among themselves: each scheduled run (a slot)
// of each flow and device is claimed once per location, by a row under a
// unique constraint, so that any agent of the location with a free browser
// can take it, and an agent that dies takes nothing with it but the runs it
// had in progress. It also carries run-now requests to agents of another
// location, and a heartbeat that tells which locations have a live agent.
//
// The claims are plain INSERT ... ON CONFLICT DO NOTHING rather than a job
// queue (riverqueue/river): a slot is a fact every agent can compute from
// the flow's schedule, so there is nothing to enqueue, no leader to insert
// periodic jobs, no poll before a run starts, and a claim is one round trip
// that touches one index. Measured on the same machine (testdata/riverbench
// against BenchmarkFleetSimulation, ten agents over 10,000 flows): river
// took 3,300 unique inserts a second and worked 770 jobs a second, where
// the claims took 17,000 to 24,000 a second, for 1,700 to 2,400 runs a
// second.
package fleet

import (
	"errors"
	"time"
)

// Slot is one scheduled run of a flow on a device in a location. At is the
// scheduled time of the run, which every agent computes alike from the
// flow's schedule, so that it names the same run on all of them.
type Slot struct {
	Location, Flow, Device string
	At                     time.Time
	// End is when the next slot begins. The claim is kept until KeepClaims
	// after it, so that the next tick still sees it; zero means a minute
	// after At.
	End time.Time
}

func (s Slot) end() time.Time {
	if s.End.IsZero() {
		return s.At.Add(time.Minute)
	}
	return s.End
}

// Request is a run-now request for an agent of another location: run Flow
// on the devices that Device names (all when empty), with the results under
// IDs, in order of the flow's devices.
type Request struct {
	ID                     int64
	Location, Flow, Device string
	IDs                    []string
	// By names the agent that asked.
	By string
}

// ErrNoAgent says that no agent of a location was seen lately, so a request
// for that location would wait for nobody.
var ErrNoAgent = errors.New("no agent of that location is running")
