package agent

import (
	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// Store keeps the latest result of each flow and device that this agent
// runs, by result.Latest's rule for error runs. It is the one store both
// /api/v1/results and the Prometheus collector read: the agent prunes it on
// every load, so a removed flow, device or another shard's flow disappears
// from both at once. It is safe for concurrent use.
type Store struct {
	set result.LatestSet
}

// NewStore returns an empty store.
func NewStore() *Store { return &Store{} }

// put adds a completed run; see result.LatestSet.Put.
func (s *Store) put(r *result.Result) bool { return s.set.Put(r) }

// sync makes the store hold exactly the devices of flows.
func (s *Store) sync(flows []*scenarios.Flow) { s.set.Sync(flows) }

// Latest returns a copy of what is kept of each flow and device, including
// those that have not run yet, ordered by flow, then device.
func (s *Store) Latest() []result.Latest { return s.set.Latest() }

// Results returns the latest run of each flow and device that has run, of
// any outcome, ordered by flow, then device, so that the API answers the
// same order every time.
func (s *Store) Results() []*result.Result {
	var out []*result.Result
	for _, l := range s.Latest() {
		if l.Last != nil {
			out = append(out, l.Last)
		}
	}
	return out
}
