package agent

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/uxprobe/uxprobe/scenarios"
)

// SplayOffset is the deterministic delay of a flow's runs within
// [0, splay): FNV-1a 64 of the flow's name modulo splay. A hash rather than a
// random number keeps a flow's start time the same across restarts and
// replicas, so dashboards and logs line up, while flows that share a schedule
// still start at different moments instead of all in the same second.
func SplayOffset(flow string, splay time.Duration) time.Duration {
	if splay <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(flow))
	return time.Duration(h.Sum64() % uint64(splay))
}

// splayedSchedule shifts a cron schedule by a fixed offset, and fires once
// right after the offset when the flow is first scheduled, so that metrics
// appear soon after start instead of after a whole period.
type splayedSchedule struct {
	inner  cron.Schedule
	offset time.Duration
	// started is set by the first call of Next, which cron makes when the
	// entry is scheduled.
	started atomic.Bool
	// aligned puts the runs of an @every schedule on a grid of its period
	// counted from the zero time, rather than from when the agent started:
	// agents that split a location's slots (Options.Fleet) then tick at
	// the same moments, and the first free one takes each slot.
	aligned bool
}

// newSplayedSchedule parses spec and picks the flow's offset. The splay is
// capped at the schedule's period: a flow on @every 10s must not wait up to
// a whole minute for its first run, and an offset longer than the period
// would only shift runs by whole periods anyway.
func newSplayedSchedule(spec, flow string, splay time.Duration, now time.Time) (*splayedSchedule, error) {
	inner, err := scenarios.ParseSchedule(spec)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w", spec, err)
	}
	return splaySchedule(inner, flow, splay, now), nil
}

// splaySchedule is newSplayedSchedule for a parsed schedule.
func splaySchedule(inner cron.Schedule, flow string, splay time.Duration, now time.Time) *splayedSchedule {
	first := inner.Next(now)
	if period := inner.Next(first).Sub(first); period > 0 && period < splay {
		splay = period
	}
	return &splayedSchedule{inner: inner, offset: SplayOffset(flow, splay)}
}

// Next implements cron.Schedule.
func (s *splayedSchedule) Next(t time.Time) time.Time {
	if !s.started.Swap(true) {
		return t.Add(s.offset)
	}
	if _, ok := s.inner.(cron.ConstantDelaySchedule); ok && s.aligned {
		_, end := s.slotAt(t)
		return end
	}
	return s.inner.Next(t.Add(-s.offset)).Add(s.offset)
}

// maxSlotSearch bounds the walk of slotAt over a cron schedule's firings.
const maxSlotSearch = 100000

// slotAt returns the slot that holds t: start is the latest time at or
// before t at which the schedule fires (shifted by the offset), end the
// next one. Every agent computes the same slot for the same flow at the
// same moment, whenever it started, which makes a slot the key of a claim.
// An @every schedule's slots are a grid of its period from the zero time;
// a cron schedule's are its firings. The first run after the offset has no
// slot of its own: it falls in the slot that holds it.
func (s *splayedSchedule) slotAt(t time.Time) (start, end time.Time) {
	base := t.Add(-s.offset)
	if cd, ok := s.inner.(cron.ConstantDelaySchedule); ok {
		d := max(cd.Delay, time.Second)
		start = base.Truncate(d)
		return start.Add(s.offset), start.Add(d).Add(s.offset)
	}
	// A cron schedule has no Prev: look back twice as far each time until
	// a firing at or before base shows up, then walk forward to the last.
	w := time.Minute
	p := s.inner.Next(base.Add(-w))
	for p.After(base) && w < 5*366*24*time.Hour {
		w *= 2
		p = s.inner.Next(base.Add(-w))
	}
	if p.After(base) || p.IsZero() {
		// No firing in five years (February 30th): a slot of its own.
		return t, t.Add(time.Minute)
	}
	for range maxSlotSearch {
		n := s.inner.Next(p)
		if n.After(base) || n.IsZero() {
			return p.Add(s.offset), n.Add(s.offset)
		}
		p = n
	}
	return p.Add(s.offset), p.Add(time.Minute).Add(s.offset)
}

// Shard selects the flows one of several agents runs, so that N replicas
// over the same flow files share the work: flow f belongs to shard
// FNV-1a-32(f) mod Count. The zero Shard runs every flow.
type Shard struct {
	Index, Count int
}

// ParseShard reads "I/N", with 0 <= I < N. The empty string is the zero
// Shard.
func ParseShard(s string) (Shard, error) {
	if s == "" {
		return Shard{}, nil
	}
	is, ns, ok := strings.Cut(s, "/")
	i, errI := strconv.Atoi(strings.TrimSpace(is))
	n, errN := strconv.Atoi(strings.TrimSpace(ns))
	if !ok || errI != nil || errN != nil {
		return Shard{}, fmt.Errorf("shard %q: want I/N, such as 0/3 for the first of three agents", s)
	}
	if n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("shard %q: want 0 <= I < N, such as 0/3, 1/3 and 2/3 for three agents", s)
	}
	return Shard{Index: i, Count: n}, nil
}

// Owns reports whether the flow belongs to this shard.
func (s Shard) Owns(flow string) bool {
	if s.Count <= 1 {
		return true
	}
	h := fnv.New32a()
	h.Write([]byte(flow))
	return int(h.Sum32()%uint32(s.Count)) == s.Index
}

// String is the I/N form, or "" for the zero Shard.
func (s Shard) String() string {
	if s.Count == 0 {
		return ""
	}
	return strconv.Itoa(s.Index) + "/" + strconv.Itoa(s.Count)
}
