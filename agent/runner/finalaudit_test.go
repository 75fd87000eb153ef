package runner

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/uxprobe/uxprobe/agent/audit"
)

// TestLazyHeroAudited is the check of the audit at the final read:
// a goto-only flow with the flow key audit: [lazy-lcp] on the late-hero
// site's page whose hero is a lazy image in the viewport (sent 800 ms
// after it is asked for) reports the hero as LCP, final, and lazy-lcp
// under the goto's step, in every run, two runs at a time (the agent's
// --parallel 2), on desktop and mobile. UXPROBE_HERO_RUNS sets the number
// of runs per device (default 4).
func TestLazyHeroAudited(t *testing.T) {
	t.Parallel()
	srv := lateHeroSite(t)
	f := mustFlow(t, "name: lazy\naudit: [lazy-lcp]\nsteps:\n  - name: open\n    goto: "+srv.URL+"/lazy\n")
	runs := 4
	if n, err := strconv.Atoi(os.Getenv("UXPROBE_HERO_RUNS")); err == nil && n > 0 {
		runs = n
	}
	for _, devName := range []string{"desktop", "mobile"} {
		dev := lookup(t, devName)
		var (
			mu                  sync.Mutex
			heroes, found, both int
		)
		slots := make(chan struct{}, 2)
		var wg sync.WaitGroup
		for i := range runs {
			wg.Go(func() {
				slots <- struct{}{}
				defer func() { <-slots }()
				res := (&Runner{Browser: testBrowser}).Run(context.Background(), f, dev)
				if !res.Success || len(res.Pages) != 1 {
					t.Errorf("%s run %d: success %v, pages %+v, error %+v", devName, i, res.Success, res.Pages, res.Error)
					return
				}
				p := res.Pages[0]
				// The hero is painted after the server held it 800 ms:
				// an LCP before that is the text's.
				hero := p.LCPElement == "img#hero" && p.LCPSeconds != nil && *p.LCPSeconds >= 0.8 && p.LCPFinal != nil && *p.LCPFinal
				lazy := slices.Equal(findingRules(res.Findings), []string{"open:lazy-lcp"})
				if !hero {
					t.Errorf("%s run %d: lcp %s of %q (final %s): want img#hero, painted after 0.8 s, final", devName, i, show(p.LCPSeconds), p.LCPElement, show(p.LCPFinal))
				}
				if !lazy {
					t.Errorf("%s run %d: findings %v, want [open:lazy-lcp]: %+v", devName, i, findingRules(res.Findings), res.Findings)
				}
				if !slices.Contains(res.AuditedRules, "lazy-lcp") {
					t.Errorf("%s run %d: audited rules %v, want lazy-lcp", devName, i, res.AuditedRules)
				}
				mu.Lock()
				defer mu.Unlock()
				if hero {
					heroes++
				}
				if lazy {
					found++
				}
				if hero && lazy {
					both++
				}
			})
		}
		wg.Wait()
		t.Logf("%s, %d runs two at a time: hero as LCP in %d, lazy-lcp found in %d, both in %d", devName, runs, heroes, found, both)
	}
}

// TestFlowAuditSeesLatePage: the flow-level audit sees what the page's
// scripts added after its load event, when the flow stayed on the page
// long enough for the user to see it: an image without size and alt text
// added 1 s after load is found, under the step that opened the page,
// whether the page is left by a goto or is the flow's last.
func TestFlowAuditSeesLatePage(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"><html lang="en"><title>Lamps</title>
<h1>Lamps</h1><p>Light for every room of the house.</p>
<script>addEventListener('load', () => setTimeout(() => {
  const i = document.createElement('img'); i.id = 'late'; i.src = '/photo.png'; i.style.maxWidth = '100%'; document.body.appendChild(i);
}, 1000));</script>`)
	})
	mux.HandleFunc("/next", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"><html lang="en"><title>Next</title><h1>Next page</h1>`)
	})
	mux.HandleFunc("/photo.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write(noisyPNG(400, 300))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	rules, want := "[image-dimensions]", []string{"open:image-dimensions"}
	if _, err := audit.FindAxe(""); err == nil {
		rules, want = "[image-dimensions, a11y-image-alt]", []string{"open:image-dimensions", "open:a11y-image-alt"}
	} else {
		t.Logf("axe-core not installed (make axe): a11y-image-alt left out: %v", err)
	}
	flows := []struct {
		name, after string
		fails       bool
	}{
		{"the last page", "", false},
		{"left by a goto", "  - name: leave\n    goto: " + srv.URL + "/next\n", false},
		{"an assertion in between", "  - assert_title: Lamps\n", false},
		// The page where the user gave up is audited as it is.
		{"a failed assertion", "  - assert_title: Chairs\n    timeout: 500ms\n", true},
	}
	for _, fl := range flows {
		t.Run(fl.name, func(t *testing.T) {
			t.Parallel()
			f := mustFlow(t, "name: late\ntimeout: 30s\naudit: "+rules+"\nsteps:\n  - name: open\n    goto: "+srv.URL+"/\n  - sleep: 1500ms\n"+fl.after)
			res := (&Runner{Browser: testBrowser}).Run(context.Background(), f, desktop(t))
			if res.Success == fl.fails {
				t.Fatalf("run: success %v, want %v: %+v", res.Success, !fl.fails, res.Error)
			}
			got := findingRules(res.Findings)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("findings %v, want %v (the image added 1 s after load): %+v", got, want, res.Findings)
			}
			for _, fd := range res.Findings {
				if len(fd.Examples) == 0 || !strings.Contains(fd.Examples[0].Selector, "late") || fd.URL != srv.URL+"/" {
					t.Errorf("finding %s: url %s, examples %+v, want #late on %s/", fd.Rule, fd.URL, fd.Examples, srv.URL)
				}
			}
			// The audit is ours: the task is the steps' time.
			var steps float64
			for _, st := range res.Steps {
				steps += st.DurationSeconds
			}
			if res.DurationSeconds > steps+0.05 {
				t.Errorf("task time %.3fs, steps %.3fs: the audit counted as task time", res.DurationSeconds, steps)
			}
		})
	}
}

// TestLazyImagesNotWaitedFor: the final read waits only for the lazy
// images the browser will fetch, those rendered in the viewport; a lazy
// image that is hidden, or far below the first screen, is never fetched
// and must not hold the read to its bound.
func TestLazyImagesNotWaitedFor(t *testing.T) {
	t.Parallel()
	srv := lateHeroSite(t) // its /slow.png takes 800 ms
	pages := map[string]string{
		"hidden":              `<img id="pic" loading="lazy" src="/slow.png" width="400" height="300" alt="" style="display:none">`,
		"in a closed details": `<details><summary>More</summary><img id="pic" loading="lazy" src="/slow.png" width="400" height="300" alt=""></details>`,
		"below the fold":      `<div style="height:5000px"></div><img id="pic" loading="lazy" src="/slow.png" width="400" height="300" alt="">`,
	}
	mux := http.NewServeMux()
	for name, body := range pages {
		mux.HandleFunc("/"+strings.ReplaceAll(name, " ", "-"), func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><title>t</title><h1>Lamps</h1>`+body)
		})
	}
	mux.Handle("/slow.png", http.RedirectHandler(srv.URL+"/slow.png", http.StatusFound))
	site := httptest.NewServer(mux)
	t.Cleanup(site.Close)
	for name := range pages {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := mustFlow(t, "name: lazy\nsteps:\n  - goto: "+site.URL+"/"+strings.ReplaceAll(name, " ", "-")+"\n")
			res := (&Runner{Browser: testBrowser}).Run(context.Background(), f, desktop(t))
			if !res.Success || len(res.Pages) != 1 {
				t.Fatalf("run: %+v", res)
			}
			p := res.Pages[0]
			if p.LCPFinal == nil || !*p.LCPFinal || p.LCPElement != "body > h1" {
				t.Errorf("lcp_final %s, lcp_element %q: want the heading, final: the lazy image is not fetched, so not waited for", show(p.LCPFinal), p.LCPElement)
			}
		})
	}
}
