package runner

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a log destination the runner's goroutines may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestEveryFailureLeavesEvidence: a failed step has its failure
// screenshot, in the first tab or in a tab it followed, or the result and
// the log say why it has none.
func TestEveryFailureLeavesEvidence(t *testing.T) {
	// Not parallel with the other tests: its runs, in parallel among
	// themselves, would slow the pages whose timings other tests check.
	crashing := make(chan string, 4)
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><title>home</title><h1>home</h1><a id="open" href="/tab" target="_blank">open</a>`)
	})
	mux.HandleFunc("/tab", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><title>tab</title><h1>in the tab</h1>`)
	})
	mux.HandleFunc("/crash", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><title>crash</title><h1>crash me</h1>`)
	})
	mux.HandleFunc("/crashing", func(w http.ResponseWriter, r *http.Request) {
		crashing <- r.Referer()
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	go func() {
		for u := range crashing {
			crashTab(t, u)
		}
	}()
	t.Cleanup(func() { close(crashing) })

	tests := []struct {
		name      string
		steps     string
		artifacts func(t *testing.T) string
		wantShot  string // the failure screenshot's file name, or "" for none
		wantWhy   string // the screenshot_error, when none
	}{
		{"in the first tab", "- goto: ${u}/\n- click: \"#nope\"\n  timeout: 300ms", nil, "failure-2-click.png", ""},
		{"in a followed tab", "- goto: ${u}/\n- click: \"#open\"\n- assert_text: {selector: h1, equals: elsewhere}\n  timeout: 300ms", nil, "failure-3-assert_text.png", ""},
		{"after a page crash", "- goto: ${u}/crash\n- eval: \"fetch('/crashing').then(() => new Promise(() => {}))\"\n  timeout: 30s", nil, "", "the page crashed"},
		{"when the file cannot be written", "- goto: ${u}/\n- click: \"#nope\"\n  timeout: 300ms", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "file")
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			return p // a file where the directory should be
		}, "", "the file could not be written"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if tc.artifacts != nil {
				dir = tc.artifacts(t)
			}
			var logs syncBuffer
			f := mustFlow(t, "name: ev\ntimeout: 40s\nsteps:\n"+indent(strings.ReplaceAll(tc.steps, "${u}", srv.URL)))
			r := &Runner{Browser: testBrowser, ArtifactsDir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
			res := r.Run(context.Background(), f, desktop(t))
			if res.Success || res.Error == nil {
				t.Fatalf("the flow succeeded; want a failure")
			}
			if tc.wantShot == "" {
				if len(res.Screenshots) != 0 {
					t.Errorf("screenshots = %v, want none", res.Screenshots)
				}
				if !strings.Contains(res.Error.ScreenshotError, tc.wantWhy) {
					t.Errorf("screenshot_error = %q, want it to say %q", res.Error.ScreenshotError, tc.wantWhy)
				}
				if !strings.Contains(logs.String(), "no failure screenshot") || !strings.Contains(logs.String(), tc.wantWhy) {
					t.Errorf("the log does not say why there is no failure screenshot:\n%s", logs.String())
				}
				return
			}
			if res.Error.ScreenshotError != "" {
				t.Errorf("screenshot_error = %q, want none", res.Error.ScreenshotError)
			}
			want := filepath.Join(dir, "ev", "desktop", tc.wantShot)
			if len(res.Screenshots) != 1 || res.Screenshots[0] != want {
				t.Fatalf("screenshots = %v, want [%s]", res.Screenshots, want)
			}
			data, err := os.ReadFile(want)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := png.Decode(bytes.NewReader(data)); err != nil {
				t.Errorf("%s is not a PNG: %v", want, err)
			}
		})
	}
}
