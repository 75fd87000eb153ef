package agent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/uxprobe/uxprobe/agent/fleet"
	"github.com/uxprobe/uxprobe/agent/internal/pgtest"
	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// The package's tests share one PostgreSQL server, started by the first
// test that needs it.
func TestMain(m *testing.M) { pgtest.Main(m) }

// fleetMember is one agent of a test fleet, over a fake runner.
type fleetMember struct {
	name, location string
	a              *Agent
	rec            *fakeRecorder
	runner         *fakeRunner
	stop           context.CancelFunc
}

func startMember(t *testing.T, url, location, name string, runner *fakeRunner, maxConc int, files ...fileArg) *fleetMember {
	t.Helper()
	f, err := fleet.Open(url, fleet.Options{Agent: name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	rec := newFakeRecorder()
	opts := rec.wire(Options{Runner: runner, Splay: -1, MaxConcurrency: maxConc, Location: location, Name: name, Fleet: f})
	a, stop, _ := startAgent(t, opts, files...)
	return &fleetMember{name: name, location: location, a: a, rec: rec, runner: runner, stop: stop}
}

// fileArg is what startAgent takes.
type fileArg = scenarios.FileResult

// slotRuns counts the runs of each slot of each flow and device in each
// location, over the members, for runs that started in [from, to): the
// fake runner's runs start right after their claim, so a run's start
// second is its slot of an @every 1s flow without splay.
func slotRuns(members []*fleetMember, from, to time.Time) map[string][]string {
	runs := map[string][]string{}
	for _, m := range members {
		rs, _, _ := m.rec.snapshot()
		for _, r := range rs {
			if r.StartedAt.Before(from) || !r.StartedAt.Before(to) {
				continue
			}
			key := fmt.Sprintf("%s %s/%s %s", r.Location, r.Flow, r.Device, r.StartedAt.Truncate(time.Second).Format("15:04:05"))
			runs[key] = append(runs[key], r.Agent)
		}
	}
	return runs
}

func TestFleetRunsEachSlotOncePerLocation(t *testing.T) {
	url := pgtest.URL(t)
	flows := fileResult("f.yaml", testFlow(t, "checkout", "@every 1s", "desktop", "mobile"), testFlow(t, "search", "@every 1s", "desktop", "mobile"))
	// Four runs a second per location, 300ms each, at most two at a time
	// per agent: the eu agents must share the work to keep up.
	var members []*fleetMember
	for _, m := range []struct{ loc, name string }{{"eu", "eu-1"}, {"eu", "eu-2"}, {"eu", "eu-3"}, {"us", "us-1"}} {
		members = append(members, startMember(t, url, m.loc, m.name, newFakeRunner(300*time.Millisecond), 2, flows))
	}
	started := time.Now()
	time.Sleep(3500 * time.Millisecond)
	// eu-3 stops: the others of eu take its share from the next slot,
	// without being told.
	members[2].stop()
	stopped := time.Now()
	time.Sleep(3 * time.Second)
	end := time.Now()

	// Whole slots only: after every agent ran its first tick, before the
	// last slot ended.
	from := started.Truncate(time.Second).Add(time.Second)
	to := end.Truncate(time.Second).Add(-time.Second)
	runs := slotRuns(members, from, to)
	var slots int
	for s := from; s.Before(to); s = s.Add(time.Second) {
		for _, loc := range []string{"eu", "us"} {
			for _, fd := range []string{"checkout/desktop", "checkout/mobile", "search/desktop", "search/mobile"} {
				key := fmt.Sprintf("%s %s %s", loc, fd, s.Format("15:04:05"))
				by := runs[key]
				slots++
				// The slot eu-3 was running when stopped may be lost.
				if len(by) == 0 && !(loc == "eu" && s.Equal(stopped.Truncate(time.Second))) {
					t.Errorf("slot %s ran nowhere", key)
				}
				if len(by) > 1 {
					t.Errorf("slot %s ran %d times, by %q", key, len(by), by)
				}
				if loc == "eu" && s.After(stopped) && slices.Contains(by, "eu-3") {
					t.Errorf("slot %s ran on the stopped agent", key)
				}
			}
		}
	}
	if slots < 24 {
		t.Fatalf("only %d slots checked", slots)
	}
	ranBy := map[string]int{}
	for _, by := range runs {
		for _, a := range by {
			ranBy[a]++
		}
	}
	if ranBy["eu-1"] == 0 || ranBy["eu-2"] == 0 || ranBy["us-1"] == 0 {
		t.Errorf("runs by agent %v: every live agent should have run some", ranBy)
	}
	// Every result says where it ran; claims lost count as such.
	var claimed int
	for _, m := range members {
		rs, skipped, _ := m.rec.snapshot()
		for _, r := range rs {
			if r.Location != m.location || r.Agent != m.name {
				t.Errorf("a run of %s says location %q, agent %q", m.name, r.Location, r.Agent)
			}
		}
		claimed += skipped["checkout/claimed"] + skipped["search/claimed"]
		if m.location == "us" && skipped["checkout/claimed"]+skipped["search/claimed"] != 0 {
			t.Errorf("the only us agent lost claims: %v", skipped)
		}
		if m.runner.overlaps != 0 {
			t.Errorf("%s ran a flow on a device twice at once", m.name)
		}
	}
	if claimed == 0 {
		t.Error("no eu agent counted a slot claimed by another")
	}
}

func TestFleetCountsMissedSlotsOnce(t *testing.T) {
	url := pgtest.URL(t)
	flows := fileResult("f.yaml", testFlow(t, "slow", "@every 1s", "desktop", "mobile"))
	// Two agents, one browser slot each, runs of 1.5s: at most 1.3 runs a
	// second for 2 slots a second, so slots are missed.
	var members []*fleetMember
	for _, name := range []string{"eu-1", "eu-2"} {
		members = append(members, startMember(t, url, "eu", name, newFakeRunner(1500*time.Millisecond), 1, flows))
	}
	waitFor(t, 20*time.Second, "missed slots", func() bool {
		var n int
		for _, m := range members {
			_, skipped, _ := m.rec.snapshot()
			n += skipped["slow/missed"]
		}
		return n >= 3
	})
	for _, m := range members {
		m.stop()
	}
	time.Sleep(200 * time.Millisecond)
	var counted int
	for _, m := range members {
		_, skipped, _ := m.rec.snapshot()
		counted += skipped["slow/missed"]
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var markers, runs int
	if err := conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE missed), count(*) FILTER (WHERE NOT missed) FROM uxprobe_fleet_claims`).Scan(&markers, &runs); err != nil {
		t.Fatal(err)
	}
	if counted != markers {
		t.Errorf("the agents counted %d missed slots, the database holds %d markers: each must be counted once over the fleet", counted, markers)
	}
	var results int
	for _, m := range members {
		rs, _, _ := m.rec.snapshot()
		results += len(rs)
	}
	// A run stopped with its agent has a claim and no result.
	if results > runs || results < runs-2 {
		t.Errorf("%d results for %d claims", results, runs)
	}
}

func TestFleetFailsOpenWhenTheDatabaseIsDown(t *testing.T) {
	url := pgtest.URL(t)
	flows := fileResult("f.yaml", testFlow(t, "checkout", "@every 1s", "desktop"))
	var members []*fleetMember
	for _, name := range []string{"eu-1", "eu-2"} {
		members = append(members, startMember(t, url, "eu", name, newFakeRunner(100*time.Millisecond), 2, flows))
	}
	time.Sleep(1500 * time.Millisecond)
	srv := pgtest.Shared(t)
	if err := srv.Pause(); err != nil {
		t.Fatal(err)
	}
	paused := time.Now()
	time.Sleep(3 * time.Second)
	resumedAt := time.Now()
	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	end := time.Now()
	runs := slotRuns(members, paused.Truncate(time.Second).Add(time.Second), end.Truncate(time.Second).Add(-time.Second))
	var twice int
	for s := paused.Truncate(time.Second).Add(time.Second); s.Before(end.Truncate(time.Second).Add(-time.Second)); s = s.Add(time.Second) {
		key := "eu checkout/desktop " + s.Format("15:04:05")
		switch n := len(runs[key]); {
		case n == 0:
			t.Errorf("slot %s was lost in the outage", key)
		case n == 2 && s.Before(resumedAt):
			twice++
		case n > 1 && s.After(resumedAt.Add(2*time.Second)):
			t.Errorf("slot %s ran %d times after the database came back", key, n)
		}
	}
	if twice == 0 {
		t.Error("no slot ran on both agents during the outage: were claims made at all?")
	}
}

func TestRunNowInAnotherLocation(t *testing.T) {
	url := pgtest.URL(t)
	flows := fileResult("f.yaml", testFlow(t, "checkout", "@every 1h", "desktop", "mobile"))
	eu := startMember(t, url, "eu", "eu-1", newFakeRunner(50*time.Millisecond), 2, flows)
	us := startMember(t, url, "us", "us-1", newFakeRunner(50*time.Millisecond), 2, flows)
	// Both ran their first tick; from now on every run is on request.
	waitFor(t, 10*time.Second, "the first runs and heartbeats", func() bool {
		a, _, _ := eu.rec.snapshot()
		b, _, _ := us.rec.snapshot()
		return len(a) == 2 && len(b) == 2
	})
	if _, err := eu.a.RunNowIn("asia", "checkout", ""); !errors.Is(err, ErrUnknownLocation) {
		t.Errorf("run in a location with no agent: %v, want ErrUnknownLocation", err)
	}
	if _, err := eu.a.RunNowIn("us", "nope", ""); !errors.Is(err, ErrUnknownFlow) {
		t.Errorf("run of an unknown flow: %v, want ErrUnknownFlow", err)
	}
	ids, err := eu.a.RunNowIn("us", "checkout", "mobile")
	if err != nil || len(ids) != 1 {
		t.Fatalf("RunNowIn(us) = %q, %v", ids, err)
	}
	var got *result.Result
	waitFor(t, 10*time.Second, "the run in us", func() bool {
		rs, _, _ := us.rec.snapshot()
		for _, r := range rs {
			if r.ID == ids[0] {
				got = r
			}
		}
		return got != nil
	})
	if got.Device != "mobile" || got.Location != "us" || got.Agent != "us-1" {
		t.Errorf("the requested run: device %q, location %q, agent %q", got.Device, got.Location, got.Agent)
	}
	if rs, _, _ := eu.rec.snapshot(); len(rs) != 2 {
		t.Errorf("the eu agent ran %d runs, want only its 2 scheduled ones", len(rs))
	}
	// Its own location runs here, as RunNow.
	ids, err = eu.a.RunNowIn("eu", "checkout", "desktop")
	if err != nil || len(ids) != 1 {
		t.Fatalf("RunNowIn(eu) = %q, %v", ids, err)
	}
	waitFor(t, 5*time.Second, "the run in eu", func() bool {
		rs, _, _ := eu.rec.snapshot()
		return len(rs) == 3 && rs[2].ID == ids[0] && rs[2].Location == "eu"
	})
}

func TestSlotAt(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04:05.000", s, time.Local)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name, spec string
		offset     time.Duration
		t          string
		start, end string
	}{
		{"every 5s on the grid", "@every 5s", 0, "2026-12-07 12:00:07.300", "2026-12-07 12:00:05.000", "2026-12-07 12:00:10.000"},
		{"every 5s right on a tick", "@every 5s", 0, "2026-12-07 12:00:10.000", "2026-12-07 12:00:10.000", "2026-12-07 12:00:15.000"},
		{"every 5s shifted by the splay", "@every 5s", 1200 * time.Millisecond, "2026-12-07 12:00:06.000", "2026-12-07 12:00:01.200", "2026-12-07 12:00:06.200"},
		{"every 1m", "@every 1m", 0, "2026-12-07 12:03:59.999", "2026-12-07 12:03:00.000", "2026-12-07 12:04:00.000"},
		{"cron every 5 minutes", "*/5 * * * *", 0, "2026-12-07 12:07:00.000", "2026-12-07 12:05:00.000", "2026-12-07 12:10:00.000"},
		{"cron shifted", "*/5 * * * *", 30 * time.Second, "2026-12-07 12:05:10.000", "2026-12-07 12:00:30.000", "2026-12-07 12:05:30.000"},
		// 2026-12-07 is a Monday: the slot began a week ago.
		{"cron weekly, before its hour", "0 9 * * 1", 0, "2026-12-07 08:00:00.000", "2026-11-30 09:00:00.000", "2026-12-07 09:00:00.000"},
		{"cron weekly, after its hour", "0 9 * * 1", 0, "2026-12-07 10:00:00.000", "2026-12-07 09:00:00.000", "2026-12-14 09:00:00.000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inner, err := scenarios.ParseSchedule(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			s := &splayedSchedule{inner: inner, offset: tt.offset, aligned: true}
			start, end := s.slotAt(at(tt.t))
			if !start.Equal(at(tt.start)) || !end.Equal(at(tt.end)) {
				t.Errorf("slotAt(%s) = %s, %s; want %s, %s", tt.t, start, end, tt.start, tt.end)
			}
			// The first run comes after the offset; the next ones on the
			// slots' grid, the same whenever the agent started.
			s.started.Store(true)
			if next := s.Next(at(tt.t)); !next.Equal(at(tt.end)) {
				t.Errorf("Next(%s) = %s, want the slot's end %s", tt.t, next, tt.end)
			}
		})
	}
}

func TestRunNowInWithoutAFleet(t *testing.T) {
	a, _, _ := startAgent(t, Options{Runner: newFakeRunner(time.Millisecond), Splay: -1, Location: "eu"},
		fileResult("f.yaml", testFlow(t, "checkout", "@every 1h")))
	if _, err := a.RunNowIn("us", "checkout", ""); !errors.Is(err, ErrUnknownLocation) {
		t.Errorf("another location without a fleet: %v, want ErrUnknownLocation", err)
	}
	if _, err := New(Options{Runner: newFakeRunner(0), Location: "EU"}); err == nil {
		t.Error("New took the location EU")
	}
}
