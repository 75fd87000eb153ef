package runner

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/uxprobe/uxprobe/agent/runner/bridge"
	"github.com/uxprobe/uxprobe/agent/runner/pagelog"
)

var recordPagelog = flag.Bool("pagelog.record", false, "write the event recordings of TestPagelogReplaysWhatChromeSaid to pagelog/testdata")

// TestPagelogReplaysWhatChromeSaid runs flows in real Chrome while
// recording what the runner feeds its page log, then replays the recording
// without Chrome: the replay must give the same pages, requests, errors,
// downloads and interaction latencies as the run. So the Chrome-free
// tests of pagelog, fed by such recordings (with -pagelog.record), test
// what Chrome really says.
func TestPagelogReplaysWhatChromeSaid(t *testing.T) {
	t.Parallel()
	site := testSite(t)
	hostile := hostileSite(t)
	routes := newRouteSites(t)
	flows := map[string]string{
		"blocked": "name: blocked\ntimeout: 30s\nblock: ['" + routes.tracker.URL + "/*']\nsteps:\n  - goto: " + routes.shop.URL + "/page\n",
		"navigations": "name: nav\ntimeout: 30s\nsteps:\n  - goto: " + site.URL + "/\n  - click: \"#counter\"\n  - fill: {selector: \"#q\", value: lamp}\n" +
			"  - click: \"#go\"\n  - goto: " + site.URL + "/errors\n  - goto: " + site.URL + "/noisy\n  - goto: " + site.URL + "/post-fails\n  - click: \"#send\"\n",
		"download": "name: dl\ntimeout: 30s\nsteps:\n  - goto: " + hostile.URL + "/ok\n  - goto: " + hostile.URL + "/report\n",
	}
	for name, src := range flows {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var rec bytes.Buffer
			recorder := pagelog.NewRecorder(&rec)
			r := &Runner{Browser: testBrowser, record: recorder.Record}
			res := r.Run(context.Background(), mustFlow(t, src), desktop(t))
			if err := recorder.Stop(); err != nil {
				t.Fatal(err)
			}
			if len(res.Pages) == 0 {
				t.Fatalf("the run saw %d pages: %+v", len(res.Pages), res.Error)
			}
			replayed, err := pagelog.Replay(bytes.NewReader(rec.Bytes()), bridge.ReportBinding, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := pagelog.Folded(replayed), pagelog.Folded(res); got != want {
				t.Fatalf("the replay differs from the run\nreplay: %s\nrun:    %s", got, want)
			}
			if *recordPagelog {
				// The servers' ports change from run to run: the recording
				// names them as the golden files do.
				data := strings.NewReplacer(site.URL, "http://site.test", hostile.URL, "http://hostile.test", routes.shop.URL, "http://shop.test", routes.tracker.URL, "http://tracker.test").Replace(rec.String())
				if err := os.WriteFile(filepath.Join("pagelog", "testdata", name+".jsonl"), []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
