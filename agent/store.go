package agent

import (
	"slices"
	"strings"
	"sync"

	"github.com/uxprobe/uxprobe/agent/result"
)

// store keeps the latest result of each flow and device, whatever its
// outcome, for /api/v1/results. It is safe for concurrent use.
type store struct {
	mu sync.RWMutex
	m  map[storeKey]*result.Result
}

type storeKey struct{ flow, device string }

func newStore() *store { return &store{m: map[storeKey]*result.Result{}} }

func (s *store) put(r *result.Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[storeKey{r.Flow, r.Device}] = r
}

// retain drops the results that keep rejects, as flows or devices go away.
func (s *store) retain(keep func(flow, device string) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.m {
		if !keep(k.flow, k.device) {
			delete(s.m, k)
		}
	}
}

// results returns the results ordered by flow, then device, so that the API
// answers the same order every time.
func (s *store) results() []*result.Result {
	s.mu.RLock()
	out := make([]*result.Result, 0, len(s.m))
	for _, r := range s.m {
		out = append(out, r)
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b *result.Result) int {
		if c := strings.Compare(a.Flow, b.Flow); c != 0 {
			return c
		}
		return strings.Compare(a.Device, b.Device)
	})
	return out
}
