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
	return s.inner.Next(t.Add(-s.offset)).Add(s.offset)
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
