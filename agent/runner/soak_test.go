package runner

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// soakRuns is how many runs TestSoak makes; 0 skips it. `make soak` sets
// it, `make test` does not: a soak takes minutes.
var soakRuns = flag.Int("soak.runs", 0, "runs of the soak test (make soak); 0 skips it")

// soakFigures are what a long-running agent must not grow.
type soakFigures struct {
	goroutines, fds, pages, chromeProcs int
	rssKiB, chromeRSSKiB                int64
}

func (f soakFigures) String() string {
	return fmt.Sprintf("goroutines %d, open files %d, tabs %d, Chrome processes %d, agent RSS %.1f MiB, Chrome RSS %.1f MiB",
		f.goroutines, f.fds, f.pages, f.chromeProcs, float64(f.rssKiB)/1024, float64(f.chromeRSSKiB)/1024)
}

// rssKiB reads a process's resident set from /proc.
func rssKiB(pid string) int64 {
	data, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

func measureSoak(t *testing.T) soakFigures {
	t.Helper()
	testBrowser.Settle()
	var f soakFigures
	infos, err := chromedp.Targets(testBrowser.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range infos {
		if i.Type == "page" {
			f.pages++
		}
	}
	f.goroutines = runtime.NumGoroutine()
	ents, _ := os.ReadDir("/proc/self/fd")
	f.fds = len(ents)
	f.rssKiB = rssKiB("self")
	pid := testBrowser.PID()
	f.chromeRSSKiB = rssKiB(strconv.Itoa(pid))
	for _, p := range descendants(pid) {
		f.chromeProcs++
		f.chromeRSSKiB += rssKiB(strconv.Itoa(p))
	}
	return f
}

// settledSoak measures until the counts stop moving: Chrome reaps the
// renderers of closed tabs asynchronously.
func settledSoak(t *testing.T, want *soakFigures) soakFigures {
	t.Helper()
	var got soakFigures
	for i := 0; i < 100; i++ {
		got = measureSoak(t)
		if want == nil && i >= 2 {
			break
		}
		if want != nil && got.goroutines <= want.goroutines && got.fds <= want.fds && got.pages <= want.pages && got.chromeProcs <= want.chromeProcs {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return got
}

// TestSoak makes many runs, two at a time, of a mix of ordinary and
// hostile pages (a busy main thread, a redirect loop, a download, a
// secret in every encoding, an HTTP error), and reports what the process
// and Chrome hold before and after: nothing may grow but caches.
func TestSoak(t *testing.T) {
	if *soakRuns == 0 {
		t.Skip("a soak takes minutes: make soak (go test -run TestSoak -soak.runs=1000 ./agent/runner)")
	}
	srv := hostileSite(t)
	secret := secretSite(t)
	site := testSite(t)
	mix := []struct {
		name   string
		weight int
		flow   *scenarios.Flow
		want   result.Outcome
	}{
		{"search", 12, mustFlow(t, "name: search\nsteps:\n  - goto: "+site.URL+"/\n  - fill: {selector: \"#q\", value: lamp}\n  - press: Enter\n  - assert_text: {selector: h1, contains: lamp}\n"), result.OutcomeSuccess},
		{"busy page", 1, mustFlow(t, "name: busy\nsteps:\n  - goto: "+srv.URL+"/busy\n  - assert_text: {selector: h1, contains: OK}\n    timeout: 500ms\n"), result.OutcomeFailure},
		{"redirect loop", 1, mustFlow(t, "name: loop\nsteps:\n  - goto: "+srv.URL+"/script-loop\n  - wait_for: h2\n"), result.OutcomeFailure},
		{"download", 2, mustFlow(t, "name: dl\nsteps:\n  - goto: "+srv.URL+"/downloads\n  - click: \"#attachment\"\n"), result.OutcomeSuccess},
		{"secret", 2, mustFlow(t, "name: secret\nvars: {token: '"+hostileSecret+"'}\nsecrets: [token]\nsteps:\n  - goto: "+secret.URL+"/echo/${token}\n  - assert_title: {contains: nope}\n    timeout: 200ms\n"), result.OutcomeFailure},
		{"http error", 1, mustFlow(t, "name: broken\nsteps:\n  - goto: "+site.URL+"/broken\n"), result.OutcomeFailure},
	}
	var order []int
	for i, m := range mix {
		for range m.weight {
			order = append(order, i)
		}
	}
	r := &Runner{Browser: testBrowser}
	r.Run(context.Background(), mix[0].flow, desktop(t)) // warm up the tab cycle
	before := settledSoak(t, nil)
	start := time.Now()
	var next atomic.Int64
	var mu sync.Mutex
	outcomes := map[string]int{}
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				n := int(next.Add(1)) - 1
				if n >= *soakRuns {
					return
				}
				m := mix[order[n%len(order)]]
				res := r.Run(context.Background(), m.flow, desktop(t))
				mu.Lock()
				outcomes[m.name+" "+string(res.Outcome())]++
				mu.Unlock()
				if res.Outcome() != m.want {
					t.Errorf("run %d (%s): outcome %s, want %s: %+v", n, m.name, res.Outcome(), m.want, res.Error)
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	after := settledSoak(t, &before)
	t.Logf("%d runs in %s (%.0f ms per run, 2 at a time): %v", *soakRuns, took.Round(time.Second), float64(took.Milliseconds())/float64(*soakRuns), outcomes)
	t.Logf("before: %v", before)
	t.Logf("after:  %v", after)
	if after.goroutines > before.goroutines || after.fds > before.fds || after.pages > before.pages || after.chromeProcs > before.chromeProcs {
		t.Errorf("something grew over %d runs:\nbefore %v\nafter  %v", *soakRuns, before, after)
	}
}
