package agent

import (
	"context"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// fakeLogins is a LoginRunner over fakeRunner: RunLogin says whether the
// scheduled login was needed as told (fresh), and the order of the runs
// is kept.
type fakeLogins struct {
	*fakeRunner
	fresh bool

	mu     sync.Mutex
	record func(*result.Result)
	order  []string
	dues   []time.Time
}

func (f *fakeLogins) RecordLogins(record func(*result.Result)) {
	f.mu.Lock()
	f.record = record
	f.mu.Unlock()
}

func (f *fakeLogins) Run(ctx context.Context, fl *scenarios.Flow, d scenarios.Device) *result.Result {
	f.mu.Lock()
	f.order = append(f.order, fl.Name)
	f.mu.Unlock()
	return f.fakeRunner.Run(ctx, fl, d)
}

func (f *fakeLogins) RunLogin(ctx context.Context, fl *scenarios.Flow, d scenarios.Device, due time.Time) *result.Result {
	f.mu.Lock()
	f.order = append(f.order, "scheduled "+fl.Name)
	f.dues = append(f.dues, due)
	fresh := f.fresh
	f.mu.Unlock()
	if fresh {
		time.Sleep(50 * time.Millisecond) // the flows with the session wait for this
		return nil
	}
	return f.fakeRunner.Run(ctx, fl, d)
}

// unwrapper is a Runner that wraps another, as uxprobe's lateRunner does.
type unwrapper struct{ Runner }

func (u unwrapper) Unwrap() Runner { return u.Runner }

func sessionFlows(t *testing.T) []scenarios.FileResult {
	t.Helper()
	fsys := fstest.MapFS{
		"login.yaml":   {Data: []byte("name: login\nprovides_session: true\nschedule: \"@every 1h\"\ndevices: [desktop, mobile]\nsteps:\n  - goto: http://127.0.0.1:1/login\n")},
		"account.yaml": {Data: []byte("name: account\nsession: login\nschedule: \"@every 1h\"\ndevices: [desktop]\nsteps:\n  - goto: http://127.0.0.1:1/account\n")},
	}
	flows, err := scenarios.LoadFS(fsys, scenarios.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var fr []scenarios.FileResult
	for _, f := range flows {
		fr = append(fr, fileResult(f.Name+".yaml", f))
	}
	return fr
}

// TestLoginRunner: the agent finds a LoginRunner behind a wrapper; a flow
// with a session starts after its login flow's first scheduled run; a
// scheduled login that RunLogin found done is skipped as session_fresh
// per device, with no result; a login on demand given to the recording
// function is the login flow's run in the results and the exporters.
func TestLoginRunner(t *testing.T) {
	for _, fresh := range []bool{false, true} {
		t.Run(map[bool]string{false: "login runs", true: "login fresh"}[fresh], func(t *testing.T) {
			fl := &fakeLogins{fakeRunner: newFakeRunner(20 * time.Millisecond), fresh: fresh}
			rec := newFakeRecorder()
			before := time.Now()
			a, _, _ := startAgent(t, rec.wire(Options{Runner: unwrapper{fl}, Splay: -1}), sessionFlows(t)...)
			waitFor(t, 5*time.Second, "the runs", func() bool {
				res, _, _ := rec.snapshot()
				return len(res) == map[bool]int{false: 3, true: 1}[fresh]
			})
			fl.mu.Lock()
			order, dues, record := append([]string(nil), fl.order...), fl.dues, fl.record
			fl.mu.Unlock()
			if record == nil {
				t.Fatal("the agent gave the LoginRunner behind the wrapper no recording function")
			}
			if len(order) != 3 || order[2] != "account" {
				t.Errorf("runs in order %v, want the login flow's two scheduled runs before account's", order)
			}
			for _, due := range dues {
				if due.Before(before) || due.After(time.Now()) {
					t.Errorf("due %v, want when the run fell due", due)
				}
			}
			_, skipped, _ := rec.snapshot()
			if want := map[bool]int{false: 0, true: 2}[fresh]; skipped["login/"+SkipSessionFresh] != want {
				t.Errorf("session_fresh skips = %v, want %d", skipped, want)
			}

			// A login on demand, as agent/sessions reports it.
			d, _ := a.Flows()[1].Device("mobile")
			onDemand := result.New("login", d, time.Now())
			onDemand.Success = true
			record(onDemand)
			res, _, _ := rec.snapshot()
			if last := res[len(res)-1]; last != onDemand {
				t.Errorf("last exported result %+v, want the login on demand", last)
			}
			found := false
			for _, r := range a.Results() {
				found = found || r == onDemand
			}
			if !found {
				t.Error("the login on demand is not among the latest results")
			}
		})
	}
}
