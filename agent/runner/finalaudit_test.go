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
	"time"

	"github.com/uxprobe/uxprobe/agent/audit"
)

// lazyHeroSite serves /?run=ID, a page whose hero, its largest content, is
// an <img loading="lazy"> in the viewport that the server sends 600 ms
// after it is asked for (a noisy image: Chrome ignores plain ones as LCP
// candidates), and records when it sent the document and the hero of each
// run.
type lazyHeroSite struct {
	*httptest.Server
	mu           sync.Mutex
	docAt, imgAt map[string]time.Time
}

func newLazyHeroSite(t *testing.T) *lazyHeroSite {
	t.Helper()
	s := &lazyHeroSite{docAt: map[string]time.Time{}, imgAt: map[string]time.Time{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("run")
		s.mu.Lock()
		s.docAt[id] = time.Now()
		s.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"><title>Lamps</title>
<style>body{margin:0;font:16px sans-serif} p{margin:0;font-size:12px}</style>
<p>Light for every room of the house.</p>
<img id="hero" loading="lazy" src="/hero.png?run=%s" width="400" height="300" alt="A lamp" style="max-width:100%%;height:auto">`, id)
	})
	mux.HandleFunc("/hero.png", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
			return
		case <-time.After(600 * time.Millisecond):
		}
		s.mu.Lock()
		s.imgAt[r.URL.Query().Get("run")] = time.Now()
		s.mu.Unlock()
		w.Header().Set("Content-Type", "image/png")
		w.Write(noisyPNG(400, 300))
	})
	noisyPNG(400, 300) // made now, not in the first image request
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// heroSent is when the server sent run id's hero, from its document.
func (s *lazyHeroSite) heroSent(id string) (float64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	img, ok := s.imgAt[id]
	if !ok {
		return 0, false
	}
	return img.Sub(s.docAt[id]).Seconds(), true
}

// TestLazyHeroAudited is the check of the audit at the final read:
// a goto-only flow with the flow key audit: [lazy-lcp] on the page whose
// hero is a lazy image reports the hero as LCP, final, and lazy-lcp under
// the goto's step, in every run, two runs at a time (the agent's
// --parallel 2), on desktop and mobile. UXPROBE_HERO_RUNS sets the number
// of runs per device (default 4).
func TestLazyHeroAudited(t *testing.T) {
	t.Parallel()
	site := newLazyHeroSite(t)
	runs := 4
	if n, err := strconv.Atoi(os.Getenv("UXPROBE_HERO_RUNS")); err == nil && n > 0 {
		runs = n
	}
	for _, devName := range []string{"desktop", "mobile"} {
		dev := lookup(t, devName)
		var (
			mu                  sync.Mutex
			heroes, found, fine int
		)
		slots := make(chan struct{}, 2)
		var wg sync.WaitGroup
		for i := range runs {
			wg.Go(func() {
				slots <- struct{}{}
				defer func() { <-slots }()
				id := fmt.Sprintf("lazy-%s-%d", devName, i)
				f := mustFlow(t, "name: lazy\naudit: [lazy-lcp]\nsteps:\n  - name: open\n    goto: "+site.URL+"/?run="+id+"\n")
				res := (&Runner{Browser: testBrowser}).Run(context.Background(), f, dev)
				if !res.Success || len(res.Pages) != 1 {
					t.Errorf("%s run %d: success %v, pages %+v, error %+v", devName, i, res.Success, res.Pages, res.Error)
					return
				}
				p := res.Pages[0]
				hero := p.LCPElement == "img#hero"
				lazy := slices.Equal(findingRules(res.Findings), []string{"open:lazy-lcp"})
				sent, ok := site.heroSent(id)
				after := ok && p.LCPSeconds != nil && *p.LCPSeconds >= sent
				final := p.LCPFinal != nil && *p.LCPFinal
				if !hero || !after || !final {
					t.Errorf("%s run %d: lcp %s of %q (final %s), hero sent at %.3fs: want img#hero, final, painted after it was sent", devName, i, show(p.LCPSeconds), p.LCPElement, show(p.LCPFinal), sent)
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
				if hero && lazy && after && final {
					fine++
				}
			})
		}
		wg.Wait()
		t.Logf("%s, %d runs two at a time: hero as LCP in %d, lazy-lcp found in %d, both (final, after the hero was sent) in %d", devName, runs, heroes, found, fine)
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
	}{
		{"the last page", ""},
		{"left by a goto", "  - name: leave\n    goto: " + srv.URL + "/next\n"},
		{"an assertion in between", "  - assert_title: Lamps\n"},
	}
	for _, fl := range flows {
		t.Run(fl.name, func(t *testing.T) {
			t.Parallel()
			f := mustFlow(t, "name: late\ntimeout: 30s\naudit: "+rules+"\nsteps:\n  - name: open\n    goto: "+srv.URL+"/\n  - sleep: 1500ms\n"+fl.after)
			res := (&Runner{Browser: testBrowser}).Run(context.Background(), f, desktop(t))
			if !res.Success {
				t.Fatalf("run: %+v", res.Error)
			}
			got := findingRules(res.Findings)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("findings %v, want %v (the image added 1 s after load): %+v", got, want, res.Findings)
			}
			for _, fd := range res.Findings {
				if len(fd.Examples) == 0 || !strings.Contains(fd.Examples[0].Selector, "late") {
					t.Errorf("finding %s: examples %+v, want #late", fd.Rule, fd.Examples)
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
