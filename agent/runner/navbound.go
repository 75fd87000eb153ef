package runner

import (
	"context"
	"time"

	"github.com/uxprobe/uxprobe/agent/runner/pagelog"
	"github.com/uxprobe/uxprobe/scenarios"
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
	t.checkNavBound() // navigations since mark before the watch count too
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

// selfNavGrace is how long the final read waits for the next navigation
// of a page that navigated on its own during the read before.
const selfNavGrace = 300 * time.Millisecond

// navStarts reports whether a navigation starts after mark within wait.
func (t *tracker) navStarts(ctx context.Context, mark int, wait time.Duration) bool {
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for t.navCount() == mark {
		select {
		case <-ctx.Done():
			return false
		case <-deadline.C:
			return false
		case <-t.changed:
		case <-time.After(10 * time.Millisecond):
		}
	}
	return true
}

// lastStep is the last of the flow's steps that ran: where its record is
// in the result, and the mark of the navigations since it began.
type lastStep struct {
	name    string
	index   int
	navMark int
}

// lastRead is the final read of the page where the task ended. A page
// that keeps navigating after the last step (a meta refresh loop) is
// bounded as within a step: the navigations of the read count against the
// last step's cap, and hitting it fails the last step and the run.
func (s *session) lastRead() *stepFailure {
	ctx, cancel := context.WithCancel(s.tabRunCtx)
	defer cancel()
	bound := s.ev.boundNavigations(s.last.navMark, cancel)
	// A page that navigates on its own during the read (a refresh) gets
	// its new document read too, as long as it goes on, and a moment after
	// each read to start the next: the loop is then seen whatever the
	// speed of the machine, and a page that settles reads once.
	// The reads together take at most one read's bound: a page that
	// refreshes itself every second or so (a dashboard) is read, not
	// failed; a loop makes its fifty navigations well within it.
	deadline := time.Now().Add(s.settle + 2*time.Second)
	for navigated := false; ctx.Err() == nil && time.Now().Before(deadline); {
		before := s.ev.navCount()
		s.r.finalRead(ctx, s.pg, s.ev, s.settle)
		if s.ev.navCount() != before {
			navigated = true
			continue
		}
		if !navigated || !s.ev.navStarts(ctx, before, selfNavGrace) {
			break
		}
	}
	n := bound()
	if n == 0 || s.last.name == "" {
		return nil
	}
	se := scenarios.Fail(scenarios.KindNavigation, "redirect loop: %d navigations in step %s and the final read of its page", n, s.last.name)
	if s.last.index < len(s.res.Steps) {
		st := &s.res.Steps[s.last.index]
		st.Success, st.Error = false, se.Message
	}
	return &stepFailure{se, s.last.name}
}
