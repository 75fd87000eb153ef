package result

import (
	"slices"
	"strings"
	"sync"

	"github.com/uxprobe/uxprobe/scenarios"
)

// LatestSet keeps a Latest for each device of a set of flows: the agent's
// store of the latest results, and any test that stands in for it, so that
// both follow one rule for which keys exist. It is safe for concurrent use;
// the zero value is an empty set.
type LatestSet struct {
	mu sync.RWMutex
	m  map[latestKey]*Latest
}

type latestKey struct{ flow, device string }

// Put adds a completed run by Latest.Add. Only keys that Sync created are
// kept: a result that arrives after its flow was removed must not bring
// the flow back. It reports whether the run was kept.
func (s *LatestSet) Put(r *Result) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.m[latestKey{r.Flow, r.Device}]
	if l == nil {
		return false
	}
	l.Add(r)
	return true
}

// Sync makes the set hold exactly the devices of flows: new ones start
// without results, gone ones are dropped with their results.
func (s *LatestSet) Sync(flows []*scenarios.Flow) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[latestKey]*Latest{}
	}
	want := map[latestKey]bool{}
	for _, f := range flows {
		for _, d := range f.Devices {
			k := latestKey{f.Name, d.Name}
			want[k] = true
			if s.m[k] == nil {
				s.m[k] = &Latest{Flow: f.Name, Device: d.Name}
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
func (s *LatestSet) Latest() []Latest {
	s.mu.RLock()
	out := make([]Latest, 0, len(s.m))
	for _, l := range s.m {
		out = append(out, *l)
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b Latest) int {
		if c := strings.Compare(a.Flow, b.Flow); c != 0 {
			return c
		}
		return strings.Compare(a.Device, b.Device)
	})
	return out
}
