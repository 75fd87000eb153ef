package agent

import (
	"slices"
	"strings"
	"sync"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// Store keeps the latest result of each flow and device that this agent
// runs, by result.Latest's rule for error runs. It is the one store both
// /api/v1/results and the Prometheus collector read: the agent prunes it on
// every load, so a removed flow, device or another shard's flow disappears
// from both at once. It is safe for concurrent use.
type Store struct {
	mu sync.RWMutex
	m  map[storeKey]*result.Latest
}

type storeKey struct{ flow, device string }

// NewStore returns an empty store.
func NewStore() *Store { return &Store{m: map[storeKey]*result.Latest{}} }

// put adds a completed run. Only keys that sync created are kept: a result
// that arrives after its flow was removed must not bring the flow back.
func (s *Store) put(r *result.Result) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.m[storeKey{r.Flow, r.Device}]
	if l == nil {
		return false
	}
	l.Add(r)
	return true
}

// sync makes the store hold exactly the devices of flows: new ones start
// without results, gone ones are dropped with their results.
func (s *Store) sync(flows []*scenarios.Flow) {
	s.mu.Lock()
	defer s.mu.Unlock()
	want := map[storeKey]bool{}
	for _, f := range flows {
		for _, d := range f.Devices {
			k := storeKey{f.Name, d.Name}
			want[k] = true
			if s.m[k] == nil {
				s.m[k] = &result.Latest{Flow: f.Name, Device: d.Name}
			}
		}
	}
	for k := range s.m {
		if !want[k] {
			delete(s.m, k)
		}
	}
}

// Latest returns a copy of what is kept of each flow and device, including
// those that have not run yet, ordered by flow, then device.
func (s *Store) Latest() []result.Latest {
	s.mu.RLock()
	out := make([]result.Latest, 0, len(s.m))
	for _, l := range s.m {
		out = append(out, *l)
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b result.Latest) int {
		if c := strings.Compare(a.Flow, b.Flow); c != 0 {
			return c
		}
		return strings.Compare(a.Device, b.Device)
	})
	return out
}

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
