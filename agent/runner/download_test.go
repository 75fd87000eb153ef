package runner

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uxprobe/uxprobe/agent/runner/pagelog"
)

// endless serves an attachment that never ends, bounded in time: it
// writes until the client goes away or half a minute passes, and counts
// what it wrote.
type endless struct{ sent atomic.Int64 }

func (e *endless) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="endless.bin"`)
	chunk := make([]byte, 256<<10)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		n, err := w.Write(chunk)
		e.sent.Add(int64(n))
		if err != nil {
			return
		}
	}
}

// TestDownloadsAreCappedWhileTheyArrive: a download past the cap is
// cancelled as soon as its received bytes pass it, whether the page or an
// iframe of it started it, and is listed, not complete.
func TestDownloadsAreCappedWhileTheyArrive(t *testing.T) {
	// Not parallel with the others: it moves a hundred megabytes.
	page := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><title>dl</title>`+body)
		}
	}
	tests := []struct {
		name, steps string
		pages       map[string]string
	}{
		{"from the page", "- goto: ${u}/\n- click: \"#get\"", map[string]string{
			"/{$}": `<h1>link</h1><a id="get" href="/endless">get</a>`,
		}},
		{"from an iframe", "- goto: ${u}/\n- wait_for: {selector: h1, state: visible}\n- sleep: 3s", map[string]string{
			"/{$}":   `<h1>frame</h1><iframe src="/inner"></iframe>`,
			"/inner": `<a id="get" href="/endless">get</a><script>setTimeout(() => document.getElementById('get').click(), 50)</script>`,
		}},
		// localhost is another site than 127.0.0.1: Chrome runs the frame
		// in a process of its own.
		{"from an iframe of another origin", "- goto: ${u}/\n- wait_for: {selector: h1, state: visible}\n- sleep: 3s", map[string]string{
			"/{$}":   `<h1>frame</h1><iframe id="f"></iframe><script>document.getElementById('f').src = location.href.replace('127.0.0.1', 'localhost') + 'inner'</script>`,
			"/inner": `<a id="get" href="/endless">get</a><script>setTimeout(() => document.getElementById('get').click(), 50)</script>`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mux := http.NewServeMux()
			for path, body := range tc.pages {
				mux.HandleFunc(path, page(body))
			}
			e := &endless{}
			mux.Handle("/endless", e)
			srv := httptest.NewServer(mux)
			defer srv.Close()
			f := mustFlow(t, "name: dl\ntimeout: 1m\nsteps:\n"+indent(strings.ReplaceAll(tc.steps, "${u}", srv.URL)))
			res := (&Runner{Browser: testBrowser}).Run(context.Background(), f, desktop(t))
			if len(res.Downloads) != 1 {
				t.Fatalf("downloads = %+v (success %v, %+v), want the endless one", res.Downloads, res.Success, res.Error)
			}
			d := res.Downloads[0]
			if d.Complete || !strings.HasSuffix(d.URL, "/endless") || d.FileName != "endless.bin" {
				t.Errorf("download %+v, want endless.bin cut off", d)
			}
			// The cap holds while the bytes arrive: Chrome stops reading
			// soon after it, what the sockets buffer aside.
			const slack = 16 << 20
			if d.SizeBytes > pagelog.MaxDownloadBytes+slack {
				t.Errorf("%d bytes received, past the cap of %d by more than %d", d.SizeBytes, pagelog.MaxDownloadBytes, slack)
			}
			time.Sleep(200 * time.Millisecond) // the server's last write fails after the cancel
			t.Logf("%.1f MiB received, %.1f MiB sent", float64(d.SizeBytes)/(1<<20), float64(e.sent.Load())/(1<<20))
			if sent := e.sent.Load(); sent > pagelog.MaxDownloadBytes+2*slack {
				t.Errorf("the server sent %d MiB before the download was cancelled; the cap is %d MiB", sent>>20, pagelog.MaxDownloadBytes>>20)
			}
		})
	}
}
