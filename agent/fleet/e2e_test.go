package fleet_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/uxprobe/uxprobe/agent"
	"github.com/uxprobe/uxprobe/agent/demoshop"
	"github.com/uxprobe/uxprobe/agent/pgtest"
	"github.com/uxprobe/uxprobe/agent/result"
)

// e2ePeriod is the schedule of the end-to-end test's flows.
const e2ePeriod = 5 * time.Second

// e2eFlows are light flows against the demo shop, on two devices each.
var e2eFlows = map[string]string{
	"home":    "  - goto: ${base_url}/\n  - assert_visible: '#help'\n",
	"product": "  - goto: ${base_url}/product/lamp-1\n  - wait_for: '#add-to-cart'\n",
	"help":    "  - goto: ${base_url}/help\n",
}

// agentProc is one uxprobe process of the fleet.
type agentProc struct {
	name, location, addr string
	cmd                  *exec.Cmd
	done                 chan struct{}
	log                  string
}

func startAgentProc(t *testing.T, bin, dir, storageURL, shopURL, flowDir, name, location, addr string, n int) *agentProc {
	t.Helper()
	logPath := filepath.Join(dir, fmt.Sprintf("%s-%d.log", name, n))
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "--web.listen-address="+addr,
		"--location="+location, "--agent.name="+name,
		"--schedule.splay="+e2ePeriod.String(), "--browser.max-concurrency=2", "--shutdown.timeout=5s",
		"--artifacts="+filepath.Join(dir, "artifacts-"+name), "--var", "base_url="+shopURL, flowDir)
	// The URL by the environment, as a Secret would give it.
	cmd.Env = append(os.Environ(), "UXPROBE_STORAGE_URL="+storageURL)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // Chrome goes with it
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &agentProc{name: name, location: location, addr: addr, cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	t.Cleanup(func() { p.stop(syscall.SIGTERM) })
	return p
}

// stop signals the agent's process group and waits for it, killing it
// after 15s.
func (p *agentProc) stop(sig syscall.Signal) {
	select {
	case <-p.done:
		return
	default:
	}
	if sig == syscall.SIGKILL {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	} else {
		_ = p.cmd.Process.Signal(sig)
	}
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
	if sig == syscall.SIGKILL {
		return
	}
	// Chrome's processes leave with the agent; whatever is left is killed.
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
}

func (p *agentProc) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + p.addr + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-p.done:
			out, _ := os.ReadFile(p.log)
			t.Fatalf("%s exited:\n%s", p.name, out)
		case <-time.After(100 * time.Millisecond):
		}
	}
	out, _ := os.ReadFile(p.log)
	t.Fatalf("%s not ready after 60s:\n%s", p.name, out)
}

// runs is GET /api/v1/runs of the agent: the fleet's whole history.
func (p *agentProc) runs(t *testing.T) []*result.Result {
	t.Helper()
	resp, err := http.Get("http://" + p.addr + "/api/v1/runs?limit=1000")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var runs []struct {
		ID     string         `json:"id"`
		Result *result.Result `json:"result"`
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: /api/v1/runs: %s", p.name, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&runs); err != nil {
		t.Fatal(err)
	}
	out := make([]*result.Result, len(runs))
	for i, r := range runs {
		out[i] = r.Result
		out[i].ID = r.ID
	}
	return out
}

// overview is GET / of the agent: its status page.
func (p *agentProc) overview(t *testing.T) string {
	t.Helper()
	resp, err := http.Get("http://" + p.addr + "/")
	if err != nil {
		t.Fatalf("%s: /: %v", p.name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: /: %s %v", p.name, resp.Status, err)
	}
	return string(body)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.Listener.Addr().String()
	srv.Close()
	return addr
}

// slotOf is the slot of a run of the flow: the agent's schedule grid.
func slotOf(flow string, at time.Time) time.Time {
	off := agent.SplayOffset(flow, e2ePeriod)
	return at.Add(-off).Truncate(e2ePeriod).Add(off)
}

// TestFleetEndToEnd runs three agents as processes, in real Chromium, over
// one PostgreSQL: eu-1 and eu-2 split the slots of eu, us-1 runs every slot
// of us. eu-2 is killed with SIGKILL and restarted later, and the database
// is stopped for a while. Every slot of every flow, device and location
// runs exactly once, but for the runs eu-2 had in flight when killed and
// the slots of the outage (run by every agent of the location, none lost).
func TestFleetEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: three agents and Chrome for about a minute")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "uxprobe")
	build := exec.Command("go", "build", "-o", bin, "./cmd/uxprobe")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	url := pgtest.URL(t)
	shop := httptest.NewServer(demoshop.New())
	defer shop.Close()
	flowDir := filepath.Join(dir, "flows")
	if err := os.MkdirAll(flowDir, 0o755); err != nil {
		t.Fatal(err)
	}
	var flowNames []string
	for name, steps := range e2eFlows {
		flowNames = append(flowNames, name)
		y := fmt.Sprintf("name: %s\nschedule: \"@every %s\"\ntimeout: 4s\nstep_timeout: 3s\ndevices: [desktop, mobile]\nsteps:\n%s", name, e2ePeriod, steps)
		if err := os.WriteFile(filepath.Join(flowDir, name+".yaml"), []byte(y), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(flowNames)

	addrs := map[string]string{"eu-1": freeAddr(t), "eu-2": freeAddr(t), "us-1": freeAddr(t)}
	start := func(name, loc string, n int) *agentProc {
		return startAgentProc(t, bin, dir, url, shop.URL, flowDir, name, loc, addrs[name], n)
	}
	eu1, eu2, us1 := start("eu-1", "eu", 0), start("eu-2", "eu", 0), start("us-1", "us", 0)
	for _, p := range []*agentProc{eu1, eu2, us1} {
		p.waitReady(t)
	}
	ready := time.Now()

	// A slot or two of the whole fleet, then eu-2 dies.
	time.Sleep(e2ePeriod + 2*time.Second)
	var before []string // the runs of eu-2 committed before it died
	for _, r := range eu1.runs(t) {
		if r.Agent == "eu-2" {
			before = append(before, r.ID)
		}
	}
	killed := time.Now()
	eu2.stop(syscall.SIGKILL)

	// Two slots with eu-1 alone in eu, then eu-2 is back.
	time.Sleep(2 * e2ePeriod)
	restarted := time.Now()
	eu2 = start("eu-2", "eu", 1)
	eu2.waitReady(t)

	// The database stops for a while: every agent runs its location's
	// slots alone, and its history waits in memory.
	srv := pgtest.Shared(t)
	paused := time.Now()
	if err := srv.Pause(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Second)
	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	resumed := time.Now()
	time.Sleep(2 * e2ePeriod)
	end := time.Now()

	// Every agent shows the whole fleet's runs, the same ones.
	all := map[string][]*result.Result{}
	for _, p := range []*agentProc{eu1, eu2, us1} {
		all[p.name] = p.runs(t)
	}
	byID := map[string]*result.Result{}
	for name, runs := range all {
		agents := map[string]int{}
		for _, r := range runs {
			agents[r.Agent]++
			byID[r.ID] = r
		}
		for _, want := range []string{"eu-1", "eu-2", "us-1"} {
			if agents[want] == 0 {
				t.Errorf("/api/v1/runs of %s shows no run of %s: %v", name, want, agents)
			}
		}
	}
	// Every agent's status page shows the whole fleet: each flow in a row,
	// with a cell per device and location that holds a run.
	for _, p := range []*agentProc{eu1, eu2, us1} {
		page := p.overview(t)
		for _, flow := range flowNames {
			if !strings.Contains(page, `/flows/`+flow+`"`) {
				t.Errorf("/ of %s has no row of flow %s", p.name, flow)
			}
		}
		for _, loc := range []string{"eu", "us"} {
			for _, dev := range []string{"desktop", "mobile"} {
				label := dev + " · " + loc
				if !strings.Contains(page, `<th scope="col">`+label+`</th>`) {
					t.Errorf("/ of %s has no column %q", p.name, label)
				}
				cells := strings.Count(page, `<td data-label="`+label+`" class="cell-`)
				if cells != len(flowNames) {
					t.Errorf("/ of %s shows %d runs in column %q, want one for each of the %d flows", p.name, cells, label, len(flowNames))
				}
			}
		}
		// us-1 alone runs us, so every page names it in the us cells;
		// which of eu-1 and eu-2 ran each eu cell's latest slot is a race
		// of their claims (eu-2 lost every race of the slots after the
		// outage once), so only one of them is sure to be named. That every run
		// of every agent reaches every agent is checked on the API above.
		if !strings.Contains(page, " by us-1") {
			t.Errorf("/ of %s names no latest run by us-1", p.name)
		}
		if !strings.Contains(page, " by eu-1") && !strings.Contains(page, " by eu-2") {
			t.Errorf("/ of %s names no latest run by eu-1 or eu-2", p.name)
		}
	}
	for _, id := range before {
		for name, runs := range all {
			if !slices.ContainsFunc(runs, func(r *result.Result) bool { return r.ID == id }) {
				t.Errorf("run %s of eu-2, committed before it was killed, is missing from %s's history", id, name)
			}
		}
	}

	// The agents stop together rather than one after another at cleanup.
	var wg sync.WaitGroup
	for _, p := range []*agentProc{eu1, eu2, us1} {
		wg.Go(func() { p.stop(syscall.SIGTERM) })
	}
	wg.Wait()

	// The claims, straight from the database.
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	claims := map[string]string{} // "loc flow/device slot" → agent
	rows, err := conn.Query(ctx, `SELECT location, flow, device, slot, agent, missed FROM uxprobe_fleet_claims`)
	if err != nil {
		t.Fatal(err)
	}
	var missed []string
	for rows.Next() {
		var loc, flow, dev, ag string
		var at time.Time
		var m bool
		if err := rows.Scan(&loc, &flow, &dev, &at, &ag, &m); err != nil {
			t.Fatal(err)
		}
		key := fmt.Sprintf("%s %s/%s %s", loc, flow, dev, at.UTC().Format("15:04:05.000"))
		if m {
			missed = append(missed, key)
			continue
		}
		claims[key] = ag
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}

	// Each run belongs to the slot its agent claimed: the latest claim of
	// its agent for its flow, device and location at or before its start
	// (a run that waited for a browser starts late in its slot). The runs
	// of the outage had no claim: they go by the schedule's grid.
	outage := func(s time.Time) bool {
		// The pool notices the database is back on its next statement, and
		// a run that failed open late in the outage may start in the first
		// slot after it: that slot may run twice too, as the outage allows.
		return s.Add(e2ePeriod).After(paused) && s.Before(resumed.Add(e2ePeriod+2*time.Second))
	}
	keyOf := func(loc, flow, dev string, s time.Time) string {
		return fmt.Sprintf("%s %s/%s %s", loc, flow, dev, s.UTC().Format("15:04:05.000"))
	}
	runsOf := map[string][]*result.Result{}
	for _, r := range byID {
		if want := map[string]string{"eu-1": "eu", "eu-2": "eu", "us-1": "us"}[r.Agent]; r.Location != want {
			t.Errorf("run %s of %s says location %q", r.ID, r.Agent, r.Location)
		}
		s := slotOf(r.Flow, r.StartedAt)
		key := keyOf(r.Location, r.Flow, r.Device, s)
		if !outage(s) && claims[key] != r.Agent {
			if prev := keyOf(r.Location, r.Flow, r.Device, s.Add(-e2ePeriod)); claims[prev] == r.Agent {
				key = prev
			} else if s.After(ready) {
				t.Errorf("run %s of %s at %s (slot %s) has no claim of its agent", r.ID, r.Agent, r.StartedAt.UTC().Format("15:04:05.000"), key)
			}
		}
		runsOf[key] = append(runsOf[key], r)
	}
	// An agent runs a flow on a device one run at a time: two of its runs
	// in one slot mean the first started late, after its own slot (it
	// waited for a browser on a loaded machine), and belongs to the slot
	// before, which the agent claimed too.
	for key, runs := range runsOf {
		if len(runs) != 2 || runs[0].Agent != runs[1].Agent {
			continue
		}
		first := runs[0]
		if runs[1].StartedAt.Before(first.StartedAt) {
			first = runs[1]
		}
		s := slotOf(first.Flow, first.StartedAt)
		prev := keyOf(first.Location, first.Flow, first.Device, s.Add(-e2ePeriod))
		if key != keyOf(first.Location, first.Flow, first.Device, s) || outage(s) || claims[prev] != first.Agent || len(runsOf[prev]) > 0 {
			continue
		}
		runsOf[prev] = []*result.Result{first}
		runsOf[key] = slices.DeleteFunc(runs, func(r *result.Result) bool { return r == first })
	}
	var checked, twice int
	for _, flow := range flowNames {
		for s := slotOf(flow, ready).Add(e2ePeriod); s.Add(e2ePeriod + 4*time.Second).Before(end); s = s.Add(e2ePeriod) {
			for _, loc := range []string{"eu", "us"} {
				for _, dev := range []string{"desktop", "mobile"} {
					key := keyOf(loc, flow, dev, s)
					runs := runsOf[key]
					checked++
					var by []string
					for _, r := range runs {
						by = append(by, r.Agent)
					}
					claim, claimed := claims[key]
					switch {
					case outage(s):
						// Each agent of the location ran it without a
						// claim; none may be lost.
						if len(runs) == 0 {
							t.Errorf("slot %s of the database outage was lost", key)
						}
						if len(runs) > 1 {
							twice++
						}
					case !claimed:
						t.Errorf("slot %s was claimed by no agent; ran by %q", key, by)
					case len(runs) == 0 && claim == "eu-2" && s.Before(killed):
						// In flight on eu-2 when it was killed.
					case len(runs) != 1:
						t.Errorf("slot %s ran %d times (by %q), want once; claimed by %q", key, len(runs), by, claim)
					case loc == "eu" && s.After(killed) && s.Before(restarted) && claim != "eu-1":
						t.Errorf("slot %s ran on %s while eu-2 was dead", key, claim)
					}
				}
			}
		}
	}
	if checked < 60 {
		t.Errorf("only %d slots checked", checked)
	}
	if len(missed) > 0 {
		t.Errorf("slots marked missed: %q", missed)
	}
	t.Logf("%d slots checked, %d runs, %d slots of the outage ran on both eu agents", checked, len(byID), twice)
	if t.Failed() {
		for _, p := range []*agentProc{eu1, eu2, us1} {
			out, _ := os.ReadFile(p.log)
			if len(out) > 4000 {
				out = out[len(out)-4000:]
			}
			t.Logf("log of %s:\n%s", p.name, strings.TrimSpace(string(out)))
		}
	}
}
