package runner

import (
	"context"

	"github.com/uxprobe/uxprobe/agent/runner/pagelog"
)

// Bounds on navigations, so that a page that redirects without end (a
// meta refresh or script loop) ends as a clear failure instead of a
// result that grows with every turn of the loop.
const (
	// maxNavsPerStep is how many documents one step may load before it
	// fails as a redirect loop: no real user action loads fifty pages.
	maxNavsPerStep = 50
	// maxPages is how many pages a result lists; the rest are counted.
	maxPages = pagelog.MaxPages
)

// boundNavigations cancels the step when it has started maxNavsPerStep
// documents since mark. The returned function ends the watch and returns
// the bound if the step hit it, else 0.
func (t *tracker) boundNavigations(mark int, cancel context.CancelFunc) func() int {
	t.mu.Lock()
	t.navMark, t.onNavBound, t.navBoundHit = mark, cancel, false
	t.mu.Unlock()
	return func() int {
		t.mu.Lock()
		defer t.mu.Unlock()
		t.onNavBound = nil
		if !t.navBoundHit {
			return 0
		}
		return maxNavsPerStep
	}
}

// checkNavBound is called, under mu, after each new document.
func (t *tracker) checkNavBound() {
	if t.onNavBound != nil && t.log.NavCount()-t.navMark >= maxNavsPerStep {
		t.navBoundHit = true
		t.onNavBound()
		t.onNavBound = nil
	}
}
