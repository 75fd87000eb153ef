package sessions

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/uxprobe/uxprobe/agent"
	"github.com/uxprobe/uxprobe/agent/browser"
	"github.com/uxprobe/uxprobe/agent/demoshop"
	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/agent/runner"
	"github.com/uxprobe/uxprobe/scenarios"
	"github.com/uxprobe/uxprobe/scenarios/examples"
)

var testBrowser *browser.Browser

func TestMain(m *testing.M) {
	b, err := browser.Start(browser.Options{NoSandbox: os.Geteuid() == 0, WarmTabs: 1})
	if err != nil {
		fmt.Fprintln(os.Stderr, "sessions tests need Chrome:", err)
		os.Exit(1)
	}
	testBrowser = b
	code := m.Run()
	if err := b.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "closing Chrome:", err)
	}
	os.Exit(code)
}

// loginSite is a site with a login: POST /login starts a server-side
// session (an HttpOnly cookie) and counts the login by device (a phone's
// user agent says Mobile); /account shows the user's name to a valid
// session and sends anyone else to /login, as sites do. /login fails
// every login while broken is set.
type loginSite struct {
	mu       sync.Mutex
	sessions map[string]string
	logins   map[string]int // by "desktop" or "mobile"
	broken   bool
}

func newLoginSite() *loginSite {
	return &loginSite{sessions: map[string]string{}, logins: map[string]int{}}
}

func (s *loginSite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	switch r.URL.Path {
	case "/login":
		if r.Method != http.MethodPost {
			fmt.Fprint(w, `<!doctype html><title>Log in</title><form method="post" action="/login"><input id="user" name="user"><button id="go">Log in</button></form>`)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.broken {
			fmt.Fprint(w, `<!doctype html><title>Log in</title><h1>Wrong password</h1>`)
			return
		}
		b := make([]byte, 16)
		rand.Read(b)
		id := hex.EncodeToString(b)
		s.sessions[id] = r.FormValue("user")
		dev := "desktop"
		if strings.Contains(r.UserAgent(), "Mobile") {
			dev = "mobile"
		}
		s.logins[dev]++
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: id, Path: "/", HttpOnly: true})
		fmt.Fprint(w, `<!doctype html><title>Home</title><h1>Home</h1>`)
	case "/account":
		s.mu.Lock()
		var user string
		if c, err := r.Cookie("sid"); err == nil {
			user = s.sessions[c.Value]
		}
		s.mu.Unlock()
		if user == "" {
			http.Redirect(w, r, "/login?next=/account", http.StatusFound)
			return
		}
		fmt.Fprintf(w, `<!doctype html><title>Account</title><h1>Account of %s</h1>`, user)
	default:
		http.NotFound(w, r)
	}
}

func (s *loginSite) count() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.logins {
		out[k] = v
	}
	return out
}

// dropSessions logs everybody out on the server's side.
func (s *loginSite) dropSessions() {
	s.mu.Lock()
	s.sessions = map[string]string{}
	s.mu.Unlock()
}

func (s *loginSite) setBroken(b bool) {
	s.mu.Lock()
	s.broken = b
	s.mu.Unlock()
}

const loginFlow = `name: login
provides_session: true
schedule: "@every 1h"
step_timeout: 2s
devices: [desktop, mobile]
steps:
  - goto: ${base_url}/login
  - fill: {selector: "#user", value: ada}
  - click: "#go"
  - assert_text: {selector: h1, equals: Home}
`

// accountFlow is a flow that needs the login's session; a page without it
// fails its assertion within 2s.
func accountFlow(name, maxAge string) string {
	s := "name: " + name + "\nsession: login\nstep_timeout: 2s\ndevices: [desktop, mobile]\n"
	if maxAge != "" {
		s += "session_max_age: " + maxAge + "\n"
	}
	return s + "steps:\n  - goto: ${base_url}/account\n  - assert_text: {selector: h1, equals: Account of ada}\n"
}

// loadFlows loads the flows together, as the agent and check do, so that
// their sessions resolve.
func loadFlows(t *testing.T, base string, files map[string]string) map[string]*scenarios.Flow {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, src := range files {
		fsys[name+".yaml"] = &fstest.MapFile{Data: []byte(src)}
	}
	flows, err := scenarios.LoadFS(fsys, scenarios.LoadOptions{Vars: map[string]string{"base_url": base}})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*scenarios.Flow{}
	for _, f := range flows {
		out[f.Name] = f
	}
	return out
}

// TestTenFlowsOneLoginPerDevice: ten flows that share a session, run at
// once on two devices as `uxprobe check --parallel` runs them, cause one
// login per device, and every one of them starts logged in.
func TestTenFlowsOneLoginPerDevice(t *testing.T) {
	t.Parallel() // a site and a sessions runner of its own; the agent tests below keep the machine to themselves
	site := newLoginSite()
	srv := httptest.NewServer(site)
	defer srv.Close()
	files := map[string]string{"login": loginFlow}
	for i := range 10 {
		files[fmt.Sprintf("account-%d", i)] = accountFlow(fmt.Sprintf("account-%d", i), "")
	}
	flows := loadFlows(t, srv.URL, files)
	var jobs []agent.Job
	for i := range 10 {
		f := flows[fmt.Sprintf("account-%d", i)]
		for _, d := range f.Devices {
			jobs = append(jobs, agent.Job{Flow: f, Device: d})
		}
	}
	r := New(&runner.Runner{Browser: testBrowser})
	results, err := agent.RunOnce(context.Background(), r, jobs, agent.OnceOptions{Parallel: 4})
	if err != nil {
		t.Fatal(err)
	}
	refreshed := map[string]int{}
	for _, res := range results {
		if !res.Success {
			t.Errorf("%s on %s failed: %+v", res.Flow, res.Device, res.Error)
		}
		if res.Session == nil || res.Session.Flow != "login" {
			t.Fatalf("%s on %s: session = %+v, want the login flow's", res.Flow, res.Device, res.Session)
		}
		if res.Session.Refreshed {
			refreshed[res.Device]++
		}
	}
	if got := site.count(); got["desktop"] != 1 || got["mobile"] != 1 {
		t.Errorf("logins = %v, want one per device", got)
	}
	// The flows that waited for the login share it: each says the login
	// ran for it; those that came after found the session.
	if refreshed["desktop"] < 1 || refreshed["mobile"] < 1 {
		t.Errorf("results that say the login ran for them: %v, want at least one per device", refreshed)
	}
}

// clockedSessions is the set-up of the tests that drive a sessions runner
// by a clock of their own: a login site of their own, the flows login and
// account (session_max_age 30m), the desktop.
type clockedSessions struct {
	site           *loginSite
	r              *Runner
	login, account *scenarios.Flow
	d              scenarios.Device
	now            time.Time
}

func newClockedSessions(t *testing.T) *clockedSessions {
	t.Helper()
	site := newLoginSite()
	srv := httptest.NewServer(site)
	t.Cleanup(srv.Close)
	flows := loadFlows(t, srv.URL, map[string]string{"login": loginFlow, "account": accountFlow("account", "30m")})
	d, _ := flows["account"].Device("desktop")
	c := &clockedSessions{site: site, r: New(&runner.Runner{Browser: testBrowser}), login: flows["login"], account: flows["account"], d: d,
		now: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
	c.r.now = func() time.Time { return c.now }
	return c
}

// advance moves the sessions' clock on.
func (c *clockedSessions) advance(d time.Duration) { c.now = c.now.Add(d) }

// TestSessionRefresh: a session older than session_max_age is refreshed
// by a login before the flow; a session the site dropped sends the flow to
// the login page, and the login runs and the flow is tried once more; a
// login that fails fails the flow with the login flow's reason; the login
// flow's own scheduled run refreshes the session.
func TestSessionRefresh(t *testing.T) {
	t.Parallel() // a site and a sessions runner of its own; the agent tests below keep the machine to themselves
	c := newClockedSessions(t)
	site, r, account, login, d := c.site, c.r, c.account, c.login, c.d
	ctx := context.Background()

	type want struct {
		success   bool
		refreshed bool
		age       float64
		logins    int
		errHas    string
	}
	steps := []struct {
		name   string
		before func()
		flow   *scenarios.Flow
		want   want
	}{
		{"first run logs in", nil, account, want{success: true, refreshed: true, logins: 1}},
		{"fresh session reused", func() { c.advance(10 * time.Minute) }, account, want{success: true, age: 600, logins: 1}},
		{"older than session_max_age", func() { c.advance(25 * time.Minute) }, account, want{success: true, refreshed: true, logins: 2}},
		{"dropped by the site", func() { c.advance(time.Minute); site.dropSessions() }, account, want{success: true, refreshed: true, logins: 3}},
		{"login flow's schedule refreshes", func() { c.advance(5 * time.Minute) }, login, want{success: true, logins: 4}},
		{"after the scheduled login", func() { c.advance(2 * time.Minute) }, account, want{success: true, age: 120, logins: 4}},
		{"login fails", func() { c.advance(time.Hour); site.setBroken(true) }, account, want{refreshed: true, logins: 4, errHas: `the login flow "login" failed on desktop`}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.before != nil {
				st.before()
			}
			res := r.Run(ctx, st.flow, d)
			if res.Success != st.want.success {
				t.Fatalf("success = %v, want %v (%+v)", res.Success, st.want.success, res.Error)
			}
			if got := site.count()["desktop"]; got != st.want.logins {
				t.Errorf("logins so far = %d, want %d", got, st.want.logins)
			}
			if wantAttempts := map[bool]int{false: 1, true: 2}[st.name == "dropped by the site"]; res.Attempts != wantAttempts {
				t.Errorf("attempts = %d, want %d", res.Attempts, wantAttempts)
			}
			if st.want.errHas != "" && (res.Error == nil || !strings.Contains(res.Error.Message, st.want.errHas)) {
				t.Errorf("error = %+v, want it to contain %q", res.Error, st.want.errHas)
			}
			if st.flow == login {
				if res.Session != nil {
					t.Errorf("the login flow's own result has session %+v", res.Session)
				}
				return
			}
			want := &result.Session{Flow: "login", AgeSeconds: st.want.age, Refreshed: st.want.refreshed}
			if res.Session == nil || *res.Session != *want {
				t.Errorf("session = %+v, want %+v", res.Session, want)
			}
		})
	}
}

// collector keeps the agent's results.
type collector struct {
	mu      sync.Mutex
	results []*result.Result
}

func (c *collector) Export(_ context.Context, r *result.Result) error {
	c.mu.Lock()
	c.results = append(c.results, r)
	c.mu.Unlock()
	return nil
}

func (c *collector) snapshot() []*result.Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*result.Result(nil), c.results...)
}

// TestLoginsOnDemandAreRecorded: with RecordLogins (the agent), a login
// that a waiting flow starts is recorded as a run of the login flow, with
// its own result (a failed one too); the login flow's scheduled run skips
// when the session was saved since it fell due and runs otherwise; a run
// out of schedule (RunNow) always runs.
func TestLoginsOnDemandAreRecorded(t *testing.T) {
	t.Parallel() // a site and a sessions runner of its own; the agent tests below keep the machine to themselves
	c := newClockedSessions(t)
	site, r, account, login, d := c.site, c.r, c.account, c.login, c.d
	var recorded []*result.Result
	r.RecordLogins(func(res *result.Result) { recorded = append(recorded, res) })
	ctx := context.Background()

	type want struct {
		result   bool // the call gives a result (a scheduled login that skips gives none)
		success  bool
		logins   int
		recorded int
	}
	steps := []struct {
		name string
		run  func() *result.Result
		want want
	}{
		{"a flow without a session logs in on demand", func() *result.Result { return r.Run(ctx, account, d) },
			want{result: true, success: true, logins: 1, recorded: 1}},
		{"the login's run that fell due before it skips", func() *result.Result {
			c.advance(time.Second)
			return r.RunLogin(ctx, login, d, c.now.Add(-time.Minute))
		}, want{logins: 1, recorded: 1}},
		{"the login's next scheduled run logs in", func() *result.Result {
			c.advance(time.Hour)
			return r.RunLogin(ctx, login, d, c.now)
		}, want{result: true, success: true, logins: 2, recorded: 1}},
		{"a run out of schedule logs in", func() *result.Result { return r.Run(ctx, login, d) },
			want{result: true, success: true, logins: 3, recorded: 1}},
		{"a dropped session: the login on demand is recorded", func() *result.Result {
			site.dropSessions()
			return r.Run(ctx, account, d)
		}, want{result: true, success: true, logins: 4, recorded: 2}},
		{"a failed login on demand is recorded as failed", func() *result.Result {
			c.advance(time.Hour)
			site.setBroken(true)
			return r.Run(ctx, account, d)
		}, want{result: true, logins: 4, recorded: 3}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			res := st.run()
			if (res != nil) != st.want.result {
				t.Fatalf("result = %+v, want one: %v", res, st.want.result)
			}
			if res != nil && res.Success != st.want.success {
				t.Errorf("success = %v, want %v (%+v)", res.Success, st.want.success, res.Error)
			}
			if got := site.count()["desktop"]; got != st.want.logins {
				t.Errorf("logins so far = %d, want %d", got, st.want.logins)
			}
			if len(recorded) != st.want.recorded {
				t.Fatalf("login runs recorded = %d, want %d", len(recorded), st.want.recorded)
			}
			last := recorded[len(recorded)-1]
			if last.Flow != "login" || last.Device != "desktop" || last.Session != nil {
				t.Errorf("recorded %s on %s with session %+v, want the login flow's own run", last.Flow, last.Device, last.Session)
			}
			if wantOK := st.name != "a failed login on demand is recorded as failed"; last.Success != wantOK {
				t.Errorf("recorded login success = %v, want %v", last.Success, wantOK)
			}
		})
	}
}

// TestAgentOneLoginPerPeriod: in the agent's scheduler, a login flow on
// @every 3s and five flows on @every 1s that use its session with
// session_max_age 3s, on two devices, with the login flow's first run
// splayed after the others' first runs: each device logs in exactly once
// per period of the login flow from the start, every login is a recorded
// run of the login flow, and no flow fails.
func TestAgentOneLoginPerPeriod(t *testing.T) {
	site := newLoginSite()
	srv := httptest.NewServer(site)
	defer srv.Close()
	const period, splay = 3 * time.Second, 3 * time.Second
	// A login flow whose splay offset puts its first run well after the
	// first runs of the others (theirs are under 1s): they wait for it.
	// Were they not to, each device would log in once more, before it.
	login := ""
	for i := 0; login == ""; i++ {
		if n := fmt.Sprintf("login-%d", i); agent.SplayOffset(n, splay) > 2400*time.Millisecond && agent.SplayOffset(n, splay) < 2900*time.Millisecond {
			login = n
		}
	}
	offset := agent.SplayOffset(login, splay)
	files := map[string]string{login: strings.Replace(strings.Replace(loginFlow, "name: login\n", "name: "+login+"\n", 1), "@every 1h", "@every 3s", 1)}
	for i := range 5 {
		name := fmt.Sprintf("account-%d", i)
		files[name] = strings.Replace(accountFlow(name, "3s"), "session: login\n", "session: "+login+"\nschedule: \"@every 1s\"\n", 1)
	}
	flows := loadFlows(t, srv.URL, files)
	var fr []scenarios.FileResult
	for _, f := range flows {
		fr = append(fr, scenarios.FileResult{Path: f.Name + ".yaml", Flows: []*scenarios.Flow{f}})
	}
	rec := &collector{}
	reg := prometheus.NewRegistry()
	// A browser slot for every run that can be due at once (a flow never
	// overlaps itself): each run starts when it falls due, so that the
	// runs due before the end below all start before it, on a slow
	// machine too.
	a, err := agent.New(agent.Options{Runner: New(&runner.Runner{Browser: testBrowser}), Exporters: []agent.Exporter{rec}, Registerer: reg, Splay: splay, MaxConcurrency: 12})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Apply(fr); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- a.Run(ctx) }()
	// The login flow runs at start+offset, then on the whole seconds of
	// its @every 3s plus its offset: stopping 7.5s after the first, as far
	// from a run as can be, three of its periods have begun and the fourth
	// has not. The runs in progress finish at shutdown.
	const periods = 3
	time.Sleep(time.Until(start.Truncate(time.Second).Add(offset + (periods-1)*period + 1500*time.Millisecond)))
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	loginRuns := map[string]int{}
	consumerRuns := map[string]int{} // by flow and device
	for _, r := range rec.snapshot() {
		if r.Flow == login {
			loginRuns[r.Device]++
			if !r.Success {
				t.Errorf("%s on %s failed: %+v", r.Flow, r.Device, r.Error)
			}
			continue
		}
		consumerRuns[r.Flow+" on "+r.Device]++
		if !r.Success || r.Session == nil {
			t.Errorf("%s on %s: success %v, session %+v, error %+v", r.Flow, r.Device, r.Success, r.Session, r.Error)
		}
	}
	logins := site.count()
	for _, dev := range []string{"desktop", "mobile"} {
		// A busy machine may start a period's login after the stop (the
		// runs before it took longer than their period), never add one:
		// without the login flow's first run first, each device logs in
		// once more than its periods.
		if logins[dev] < 1 || logins[dev] > periods {
			t.Errorf("logins on %s = %d, want 1 to %d: at most one per period of the login flow", dev, logins[dev], periods)
		}
		if loginRuns[dev] != logins[dev] {
			t.Errorf("recorded runs of %s on %s = %d, logins = %d: every login is a recorded run of the login flow", login, dev, loginRuns[dev], logins[dev])
		}
	}
	// A busy machine makes runs slower than their @every 1s (the agent
	// then skips the runs due meanwhile), but each ran in more than one
	// period.
	for i := range 5 {
		for _, dev := range []string{"desktop", "mobile"} {
			if k := fmt.Sprintf("account-%d on %s", i, dev); consumerRuns[k] < 2 {
				t.Errorf("runs of %s = %d, want at least 2", k, consumerRuns[k])
			}
		}
	}
	skipped := -1.0
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != agent.MetricRunsSkipped {
			continue
		}
		for _, m := range mf.GetMetric() {
			l := map[string]string{}
			for _, lp := range m.GetLabel() {
				l[lp.GetName()] = lp.GetValue()
			}
			if l["flow"] == login && l["reason"] == agent.SkipSessionFresh {
				skipped = m.GetCounter().GetValue()
			}
		}
	}
	if skipped < 0 {
		t.Errorf("no %s{flow=%q,reason=%q}", agent.MetricRunsSkipped, login, agent.SkipSessionFresh)
	}
	t.Logf("logins %v, login runs recorded %v, runs with the session %v, scheduled logins skipped as session_fresh %v", logins, loginRuns, consumerRuns, skipped)
}

// TestDemoAccountFlowsInTheAgent: the example account flows as `uxprobe
// demo` schedules them (account-login keeps its @every 1h, the others run
// often, here @every 1s, with the demo's splay), against the demo shop:
// the phone signs in with its one-time code once, a recorded run of
// account-login, and account-overview and account-avatar reuse that
// session run after run.
func TestDemoAccountFlowsInTheAgent(t *testing.T) {
	shop := demoshop.New()
	srv := httptest.NewServer(shop)
	defer srv.Close()
	fsys := fstest.MapFS{}
	for _, name := range []string{"account-login.yaml", "account-overview.yaml", "account-avatar.yaml", "avatar.png"} {
		data, err := fs.ReadFile(examples.FS, name)
		if err != nil {
			t.Fatal(err)
		}
		fsys[name] = &fstest.MapFile{Data: data}
	}
	noEnv := func(string) (string, bool) { return "", false }
	flows, err := scenarios.LoadFS(fsys, scenarios.LoadOptions{LookupEnv: demoshop.DemoEnv(noEnv), Vars: map[string]string{"base_url": srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	var fr []scenarios.FileResult
	for _, f := range flows {
		if !f.ProvidesSession {
			if err := f.SetSchedule("@every 1s"); err != nil {
				t.Fatal(err)
			}
		}
		fr = append(fr, scenarios.FileResult{Path: f.Name + ".yaml", Flows: []*scenarios.Flow{f}})
	}
	rec := &collector{}
	a, err := agent.New(agent.Options{Runner: New(&runner.Runner{Browser: testBrowser}), Exporters: []agent.Exporter{rec}, Splay: 5 * time.Second, MaxConcurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Apply(fr); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	deadline := time.Now().Add(45 * time.Second)
	for {
		n := map[string]int{}
		for _, r := range rec.snapshot() {
			n[r.Flow]++
		}
		if n["account-overview"] >= 3 && n["account-avatar"] >= 3 {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatalf("runs after 45s: %v, want 3 of each flow with the session", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := shop.Logins(); n != 1 {
		t.Errorf("the shop saw %d logins, want 1 (by user agent: %v)", n, shop.LoginsByUserAgent())
	}
	logins := 0
	for _, r := range rec.snapshot() {
		switch {
		case r.Flow == "account-login":
			logins++
			if !r.Success || r.Device != "mobile" {
				t.Errorf("account-login on %s: success %v, error %+v", r.Device, r.Success, r.Error)
			}
		case !r.Success || r.Session == nil || r.Session.Flow != "account-login" || r.Session.Refreshed:
			t.Errorf("%s: success %v, session %+v, error %+v; want account-login's session, not refreshed", r.Flow, r.Success, r.Session, r.Error)
		}
	}
	if logins != 1 {
		t.Errorf("recorded runs of account-login = %d, want 1", logins)
	}
}
