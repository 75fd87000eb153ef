package runner

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// tabsSite opens tabs in the ways pages do, to pages that are measured,
// fail, download or close themselves.
func tabsSite(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	page := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,">`+body)
		}
	}
	mux.HandleFunc("/{$}", page(`<title>Opener</title><h1>opener</h1>
<a id="blank" href="/measured" target="_blank">blank</a>
<button id="open" onclick="window.open('/measured?w')">open</button>
<a id="broken" href="/broken" target="_blank">broken</a>
<a id="file" href="/file" target="_blank">file</a>
<a id="slowfile" href="/file?late" target="_blank">late file</a>
<a id="slowpage" href="/late" target="_blank">late page</a>
<button id="closing" onclick="window.open('/closing')">closing</button>
<p id="here">still here</p>`))
	// A page with a first response 150 ms late, an image (its LCP) and a
	// missing script: what a tab's page must report.
	mux.HandleFunc("/measured", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(150 * time.Millisecond)
		fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><title>Measured</title><h1>measured</h1>
<img src="/img.svg" width="300" height="200"><script src="/missing.js"></script><p>a paragraph of text</p>`)
	})
	mux.HandleFunc("/img.svg", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/svg+xml")
		fmt.Fprint(w, `<svg xmlns="http://www.w3.org/2000/svg" width="300" height="200"><rect width="300" height="200" fill="teal"/></svg>`)
	})
	mux.HandleFunc("/broken", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `<!doctype html><title>Broken</title><h1>server error</h1>`)
	})
	// Answers later than a blank tab's moment to navigate (navStartGrace):
	// a tab opened with a URL waits for its document or download.
	late := func(r *http.Request) {
		select {
		case <-time.After(navStartGrace + 500*time.Millisecond):
		case <-r.Context().Done():
		}
	}
	mux.HandleFunc("/late", func(w http.ResponseWriter, r *http.Request) {
		late(r)
		page(`<title>Late</title><h1>late</h1>`)(w, r)
	})
	mux.HandleFunc("/file", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("late") {
			late(r)
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", `attachment; filename="report.bin"`)
		w.Write(make([]byte, 4096))
	})
	// Jupyter's Close and Halt: the page closes its tab a moment after
	// the click that asked for it.
	mux.HandleFunc("/closing", page(`<title>Closing</title><h1>closing</h1><button id="halt" onclick="setTimeout(() => window.close(), 300)">close and halt</button>`))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestTabPagesAreMeasured: a page in a followed tab has what a page of
// the first tab has: status, TTFB, FCP, LCP, CLS, requests and failures.
func TestTabPagesAreMeasured(t *testing.T) {
	// Not parallel with the other tests: its runs, in parallel among
	// themselves, would slow the pages whose timings other tests check.
	srv := tabsSite(t)
	for _, opener := range []string{"#blank", "#open"} {
		t.Run(opener, func(t *testing.T) {
			t.Parallel()
			f := mustFlow(t, "name: tabs\ntimeout: 30s\nsteps:\n  - goto: "+srv.URL+"/\n  - click: \""+opener+"\"\n  - assert_title: Measured\n  - goto: "+srv.URL+"/measured?again\n")
			res := (&Runner{Browser: testBrowser}).Run(context.Background(), f, desktop(t))
			if !res.Success {
				t.Fatalf("flow failed: %+v", res.Error)
			}
			var tabPages []result.Page
			for _, p := range res.Pages {
				if p.Tab == 1 {
					tabPages = append(tabPages, p)
				}
			}
			// The page the click opened, and the one the goto loaded in the tab.
			if len(tabPages) != 2 {
				t.Fatalf("pages %+v, want two in tab 1", res.Pages)
			}
			for _, p := range tabPages {
				if !strings.Contains(p.URL, "/measured") || p.Status != 200 {
					t.Errorf("page %s status %d, want /measured with 200", p.URL, p.Status)
				}
				if p.TTFBSeconds == nil || *p.TTFBSeconds < 0.15 {
					t.Errorf("page %s TTFB %v, want at least the server's 150 ms", p.URL, p.TTFBSeconds)
				}
				if p.FCPSeconds == nil || p.LCPSeconds == nil || p.CLS == nil || p.LoadSeconds == nil {
					t.Errorf("page %s FCP %v LCP %v CLS %v load %v, want all measured", p.URL, p.FCPSeconds, p.LCPSeconds, p.CLS, p.LoadSeconds)
				}
				if p.LCPElement == "" {
					t.Errorf("page %s has no LCP element", p.URL)
				}
				if p.Requests < 3 || p.FailedRequests != 1 {
					t.Errorf("page %s requests %d (failed %d), want the document, image and script, one failed", p.URL, p.Requests, p.FailedRequests)
				}
			}
			missing := 0
			for _, fr := range res.FailedRequests {
				if strings.HasSuffix(fr.URL, "/missing.js") && fr.Status == 404 {
					missing++
				}
			}
			if missing != 2 {
				t.Errorf("failed requests %+v, want the missing script of both tab pages", res.FailedRequests)
			}
		})
	}
}

// TestTabsFailAndEndAsTheFirstTab: a tab's HTTP error fails the step that
// opened it; a download in a new tab is a download; a tab that closes
// itself a moment after a step is noticed at once.
func TestTabsFailAndEndAsTheFirstTab(t *testing.T) {
	// Not parallel with the other tests: its runs, in parallel among
	// themselves, would slow the pages whose timings other tests check.
	srv := tabsSite(t)
	tests := []struct {
		name, steps string
		wantKind    scenarios.ErrorKind
		wantMsg     string
		check       func(t *testing.T, res *result.Result)
	}{
		{"an HTTP error in a tab fails the step", "- click: \"#broken\"\n- assert_title: Broken", scenarios.KindNavigation, "GET " + srv.URL + "/broken returned HTTP 500", func(t *testing.T, res *result.Result) {
			if res.Error.Step != "2-click" {
				t.Errorf("failed at %s, want the click that opened the tab", res.Error.Step)
			}
		}},
		{"a download in a new tab is a download", "- click: \"#file\"\n- assert_text: {selector: \"#here\", equals: still here}\n  timeout: 2s\n- assert_title: Opener", "", "", func(t *testing.T, res *result.Result) {
			if len(res.Downloads) != 1 || !res.Downloads[0].Complete || res.Downloads[0].FileName != "report.bin" || res.Downloads[0].Step != "2-click" {
				t.Errorf("downloads %+v, want report.bin of 2-click, complete", res.Downloads)
			}
			for _, p := range res.Pages {
				if p.URL == "" || p.URL == "about:blank" || strings.HasSuffix(p.URL, "/file") {
					t.Errorf("page %+v: the download is not a page", p)
				}
			}
		}},
		{"a download in a new tab that starts late is a download", "- click: \"#slowfile\"\n- assert_text: {selector: \"#here\", equals: still here}\n  timeout: 1s\n- assert_title: Opener", "", "", func(t *testing.T, res *result.Result) {
			if len(res.Downloads) != 1 || !res.Downloads[0].Complete || res.Downloads[0].Step != "2-click" {
				t.Errorf("downloads %+v, want report.bin of 2-click, complete", res.Downloads)
			}
		}},
		{"a new tab whose page comes late is followed to it", "- click: \"#slowpage\"\n- assert_title: Late\n  timeout: 300ms", "", "", nil},
		{"a tab that closes itself is noticed at once", "- click: \"#closing\"\n- click: \"#halt\"\n- assert_text: {selector: \"#here\", equals: still here}\n  timeout: 8s\n- assert_title: Opener", "", "", func(t *testing.T, res *result.Result) {
			if d := res.Steps[3].DurationSeconds; d > 3 {
				t.Errorf("the step after the close took %.1fs; the close was not noticed when it happened", d)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := mustFlow(t, "name: tabs\ntimeout: 30s\nsteps:\n"+indent("- goto: "+srv.URL+"/\n"+tc.steps))
			res := (&Runner{Browser: testBrowser, ArtifactsDir: t.TempDir()}).Run(context.Background(), f, desktop(t))
			switch {
			case tc.wantKind == "" && !res.Success:
				t.Fatalf("flow failed: %+v\nsteps %+v", res.Error, res.Steps)
			case tc.wantKind != "" && res.Success:
				t.Fatalf("flow succeeded, want a %s failure", tc.wantKind)
			case tc.wantKind != "" && (res.Error.Kind != tc.wantKind || !strings.Contains(res.Error.Message, tc.wantMsg)):
				t.Fatalf("error = %s: %q\nwant %s containing %q", res.Error.Kind, res.Error.Message, tc.wantKind, tc.wantMsg)
			}
			if tc.check != nil {
				tc.check(t, res)
			}
		})
	}
}

// TestTabFirstDocumentOnTheDevice: a tab a page opens is measured on the
// device, or its step says it may not be (a document that committed while
// the device was being set is warned of too). On a phone, a Help link that opens
// in a new tab loads the help page at once, before the device can be
// emulated in the new tab: the page's own width at its first script is
// the phone's, or the step warns.
func TestTabFirstDocumentOnTheDevice(t *testing.T) {
	t.Parallel()
	widths := make(chan string, 4)
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><meta name="viewport" content="width=device-width"><link rel="icon" href="data:,"><title>Shop</title><a id="help" href="/help" target="_blank">Help</a>`)
	})
	mux.HandleFunc("/help", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><meta name="viewport" content="width=device-width"><link rel="icon" href="data:,"><title>Help</title>
<script>new Image().src = '/width?w=' + innerWidth;</script><h1>Help</h1>`)
	})
	mux.HandleFunc("/width", func(w http.ResponseWriter, r *http.Request) {
		select {
		case widths <- r.URL.Query().Get("w"):
		default:
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	phone, ok := scenarios.LookupDevice("mobile")
	if !ok {
		t.Fatal("no mobile device")
	}
	f := mustFlow(t, "name: help\nsteps:\n  - goto: "+srv.URL+"/\n  - click: '#help'\n  - assert_title: Help\n")
	res := (&Runner{Browser: testBrowser}).Run(context.Background(), f, phone)
	if !res.Success {
		t.Fatalf("flow failed: %+v", res.Error)
	}
	var width string
	select {
	case width = <-widths:
	case <-time.After(5 * time.Second):
		t.Fatal("the help page did not report its width")
	}
	warned := slices.Contains(res.Steps[1].Warnings, earlyTabWarning)
	if width != fmt.Sprint(phone.Width) && !warned {
		t.Errorf("the help page was %s px wide at its first script on a %d px phone, and the click's step does not say so: warnings %q", width, phone.Width, res.Steps[1].Warnings)
	}
	t.Logf("help page %s px wide at its first script; warned: %v", width, warned)
}
