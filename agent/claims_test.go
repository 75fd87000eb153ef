package agent

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/uxprobe/uxprobe/agent/fleet"
	"github.com/uxprobe/uxprobe/agent/pgtest"
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
	cancel         context.CancelFunc
	done           <-chan error
	stopped        bool
}

// stop stops the agent and waits until its runs in progress have ended
// and been recorded.
func (m *fleetMember) stop(t *testing.T) {
	t.Helper()
	if m.stopped {
		return
	}
	m.stopped = true
	m.cancel()
	select {
	case err := <-m.done:
		if err != nil {
			t.Errorf("%s: %v", m.name, err)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("%s did not stop", m.name)
	}
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
	a, cancel, done := startAgent(t, opts, files...)
	return &fleetMember{name: name, location: location, a: a, rec: rec, runner: runner, cancel: cancel, done: done}
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

// claimRow is a row of the claims table.
type claimRow struct {
	agent  string
	missed bool
}

// claimsOf reads the claims table: "location flow/device hh:mm:ss" → row.
func claimsOf(t *testing.T, url string) map[string]claimRow {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT location, flow, device, slot, agent, missed FROM uxprobe_fleet_claims`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]claimRow{}
	for rows.Next() {
		var loc, flow, dev, agent string
		var at time.Time
		var missed bool
		if err := rows.Scan(&loc, &flow, &dev, &at, &agent, &missed); err != nil {
			t.Fatal(err)
		}
		out[fmt.Sprintf("%s %s/%s %s", loc, flow, dev, at.Local().Format("15:04:05"))] = claimRow{agent, missed}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestFleetRunsEachSlotOncePerLocation(t *testing.T) {
	url := pgtest.URL(t)
	flows := fileResult("f.yaml", testFlow(t, "checkout", "@every 1s", "desktop", "mobile"), testFlow(t, "search", "@every 1s", "desktop", "mobile"))
	// Four runs a second per location, 300ms each, at most two at a time
	// per eu agent, so the first free agent of eu takes each slot. us-1 is
	// alone in us and has four slots: slack on a loaded CI machine, where
	// a slow claim near the end of a slot would be marked missed.
	var members []*fleetMember
	for _, m := range []struct {
		loc, name string
		slots     int
	}{{"eu", "eu-1", 2}, {"eu", "eu-2", 2}, {"eu", "eu-3", 2}, {"us", "us-1", 4}} {
		members = append(members, startMember(t, url, m.loc, m.name, newFakeRunner(300*time.Millisecond), m.slots, flows))
	}
	started := time.Now()
	time.Sleep(3500 * time.Millisecond)
	// eu-3 stops: the others of eu take its share from the next slot,
	// without being told.
	members[2].stop(t)
	stopped := time.Now()
	time.Sleep(3 * time.Second)
	for _, m := range members {
		m.stop(t)
	}
	end := time.Now()

	// Every slot after every agent's first tick and before the end was
	// claimed by one agent, and not marked missed.
	claims := claimsOf(t, url)
	var slots int
	held := map[string]int{}
	for _, c := range claims {
		if !c.missed {
			held[c.agent]++
		}
	}
	for s := started.Truncate(time.Second).Add(time.Second); s.Before(end.Add(-time.Second)); s = s.Add(time.Second) {
		for _, loc := range []string{"eu", "us"} {
			for _, fd := range []string{"checkout/desktop", "checkout/mobile", "search/desktop", "search/mobile"} {
				key := fmt.Sprintf("%s %s %s", loc, fd, s.Format("15:04:05"))
				c, ok := claims[key]
				slots++
				switch {
				case !ok:
					t.Errorf("slot %s was claimed by no agent", key)
				case c.missed:
					t.Errorf("slot %s was missed", key)
				case s.After(stopped) && c.agent == "eu-3":
					t.Errorf("slot %s was claimed by the stopped agent", key)
				case loc == "us" && c.agent != "us-1":
					t.Errorf("slot %s of us was claimed by %s", key, c.agent)
				}
			}
		}
	}
	if slots < 40 {
		t.Fatalf("only %d slots checked", slots)
	}
	// Each agent ran exactly the slots it claimed: every run follows a
	// won claim, so as many results as claims means every claim ran, once.
	var claimed int
	for _, m := range members {
		rs, skipped, _ := m.rec.snapshot()
		if len(rs) != held[m.name] {
			t.Errorf("%s ran %d runs for %d claims", m.name, len(rs), held[m.name])
		}
		for _, r := range rs {
			if r.Location != m.location || r.Agent != m.name {
				t.Errorf("a run of %s says location %q, agent %q", m.name, r.Location, r.Agent)
			}
		}
		n := skipped["checkout/claimed"] + skipped["search/claimed"]
		claimed += n
		if m.location == "us" && n != 0 {
			t.Errorf("the only us agent lost claims: %v", skipped)
		}
		if m.runner.overlaps != 0 {
			t.Errorf("%s ran a flow on a device twice at once", m.name)
		}
	}
	if held["eu-1"] == 0 || held["eu-2"] == 0 || held["eu-3"] == 0 {
		t.Errorf("claims by agent %v: every eu agent should have run some", held)
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
		m.stop(t)
	}
	var counted int
	held := map[string]int{}
	for _, c := range claimsOf(t, url) {
		if c.missed {
			counted--
		} else {
			held[c.agent]++
		}
	}
	for _, m := range members {
		rs, skipped, _ := m.rec.snapshot()
		counted += skipped["slow/missed"]
		if len(rs) != held[m.name] {
			t.Errorf("%s ran %d runs for %d claims", m.name, len(rs), held[m.name])
		}
	}
	if counted != 0 {
		t.Errorf("the agents counted %+d missed slots more than the database holds markers: each must be counted once over the fleet", counted)
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
