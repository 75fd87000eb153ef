package runner

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/uxprobe/uxprobe/agent/internal/testpages"
)

// TestTaskDone: a run that went through tells its caller that its task is
// over before its final read, which waits for the late image, so that the
// caller can start the next run meanwhile; a run that works after the read
// (finally steps, a flow-level audit), whose task failed, or that a retry
// may follow does not.
func TestTaskDone(t *testing.T) {
	t.Parallel()
	const late = 800 * time.Millisecond
	srv := httptest.NewServer(testpages.LateImage(late))
	t.Cleanup(srv.Close)
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
