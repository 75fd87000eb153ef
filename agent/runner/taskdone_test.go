package runner

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// lateImageSite serves a page that adds an image after its load, which
// the server answers after late: the final read waits for it, while the
// task (the goto, which ends at the load) is long over.
func lateImageSite(t *testing.T, late time.Duration) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`<!doctype html><title>late</title><h1>A late image</h1><button id="b">b</button>
<script>addEventListener('load', () => setTimeout(() => {
  const img = new Image(); img.width = 300; img.height = 200; img.src = '/late.svg'; document.body.append(img);
}, 0));</script>`))
	})
	mux.HandleFunc("/late.svg", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(late):
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "image/svg+xml")
		_, _ = w.Write([]byte(`<svg xmlns="http://www.w3.org/2000/svg" width="300" height="200"><rect width="300" height="200" fill="#8ac"/></svg>`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestTaskDone: a run that went through tells its caller that its task is
// over before its final read, which waits for the late image, so that the
// caller can start the next run meanwhile; a run that works after the read
// (finally steps, a flow-level audit), whose task failed, or that a retry
// may follow does not.
func TestTaskDone(t *testing.T) {
	t.Parallel()
	const late = 800 * time.Millisecond
	srv := lateImageSite(t, late)
	open := "steps:\n  - name: open\n    goto: " + srv.URL + "/\n"
	tests := []struct {
		name     string
		flow     string
		wantDone bool
	}{
		{"a run that went through", "name: plain\n" + open, true},
		{"finally steps", "name: cleanup\n" + open + "finally:\n  - click: \"#b\"\n", false},
		{"a flow-level audit", "name: audited\naudit: [lazy-lcp]\n" + open, false},
		{"a failed task", "name: failing\n" + open + "  - assert_text: {selector: h1, contains: nowhere}\n    timeout: 200ms\n", false},
		{"a retry may follow", "name: retried\nretries: 1\n" + open, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var doneAt time.Time
			calls := 0
			ctx := WithTaskDone(context.Background(), func() {
				mu.Lock()
				defer mu.Unlock()
				calls++
				doneAt = time.Now()
			})
			r := &Runner{Browser: testBrowser}
			res := r.Run(ctx, mustFlow(t, tt.flow), desktop(t))
			returned := time.Now()
			mu.Lock()
			defer mu.Unlock()
			if !tt.wantDone {
				if calls != 0 {
					t.Errorf("done called %d times, want none (success %v)", calls, res.Success)
				}
				return
			}
			if !res.Success {
				t.Fatalf("run failed: %+v", res.Error)
			}
			if calls != 1 {
				t.Fatalf("done called %d times, want once", calls)
			}
			// The read waited for the image, after done: most of the late
			// answer lies between the two.
			if waited := returned.Sub(doneAt); waited < late/2 {
				t.Errorf("Run returned %v after done, want the final read's wait for the late image (%v) after it", waited, late)
			}
			if len(res.Pages) != 1 || res.Pages[0].LCPFinal == nil || !*res.Pages[0].LCPFinal {
				t.Errorf("pages %+v: want the page read when final", res.Pages)
			}
		})
	}
}
