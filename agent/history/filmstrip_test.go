package history

import (
	"bytes"
	"context"
	"fmt"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/uxprobe/uxprobe/agent/browser"
	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/agent/runner"
	"github.com/uxprobe/uxprobe/scenarios"
)

// stuckRun is a real run in Chrome, with --artifacts.filmstrip on-failure,
// of a page whose spinner never goes away: it fails, and keeps its frames.
func stuckRun(t *testing.T) *result.Result {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><title>Shop</title>
<style>#spin { width: 80px; height: 80px; border: 12px solid #ddd; border-top-color: #c00; border-radius: 50%; animation: turn .8s linear infinite; }
@keyframes turn { to { transform: rotate(360deg); } }</style>
<button id="pay" onclick="document.body.append(Object.assign(document.createElement('div'), {id: 'spin'}))">Pay</button>`)
	}))
	defer srv.Close()
	b, err := browser.Start(browser.Options{NoSandbox: os.Geteuid() == 0})
	if err != nil {
		t.Fatalf("this test needs Chrome: %v", err)
	}
	defer func() {
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	}()
	flows, err := scenarios.Parse("stuck.yaml", []byte(`name: stuck
steps:
  - name: open
    goto: `+srv.URL+`/
  - name: pay
    click: "#pay"
  - name: confirmation
    wait_for: "#done"
    timeout: 1500ms
`), scenarios.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := &runner.Runner{Browser: b, ArtifactsDir: t.TempDir(), Filmstrip: runner.FilmstripOnFailure}
	res := r.Run(context.Background(), flows[0], flows[0].Devices[0])
	if res.Success || len(res.Filmstrip) == 0 {
		t.Fatalf("want a failed run with its filmstrip, got success %v, %d frames", res.Success, len(res.Filmstrip))
	}
	return res
}

func TestFilmstripOfARealRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chrome")
	}
	res := stuckRun(t)
	eachStore(t, func(t *testing.T, st storeKind) {
		s := st.open(t, Options{})
		r := *res
		r.ID = ""
		export(t, s, &r)
		ctx := context.Background()
		got, err := s.Run(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		frames := got.Frames()
		if len(frames) != len(res.Filmstrip) {
			t.Fatalf("%d frames stored, want the run's %d", len(frames), len(res.Filmstrip))
		}
		last, steps := -1.0, map[string]bool{}
		for i, a := range frames {
			if a.T == nil || *a.T < last {
				t.Errorf("frame %d (%s) at t=%v, after %v: want increasing times", i, a.Name, a.T, last)
				continue
			}
			last = *a.T
			steps[a.Step] = true
			data, rd, err := s.ReadArtifact(ctx, r.ID, a.Name)
			if err != nil || rd.Kind != KindFrame {
				t.Fatalf("ReadArtifact(%s): %+v, %v", a.Name, rd, err)
			}
			if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
				t.Errorf("frame %s is not a JPEG: %v", a.Name, err)
			}
		}
		if !steps["confirmation"] {
			t.Errorf("frames' steps %v, want the failing step's", steps)
		}
	})
}
