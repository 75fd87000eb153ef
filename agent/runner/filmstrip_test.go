package runner

import (
	"bytes"
	"context"
	"fmt"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/uxprobe/uxprobe/agent/result"
)

// spinnerSite is a shop whose "Pay" starts a spinner that never goes away:
// the confirmation the flow waits for never comes.
func spinnerSite(t testing.TB) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><title>Shop</title>
<style>
#spin { display: none; width: 120px; height: 120px; margin: 40px; border: 16px solid #ddd; border-top-color: #c00; border-radius: 50%; animation: turn .8s linear infinite; }
@keyframes turn { to { transform: rotate(360deg); } }
</style>
<h1>Basket</h1><button id="pay" onclick="document.getElementById('spin').style.display = 'block'">Pay</button>
<div id="spin"></div>`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// spinnerFlow fails on the spinner when stuck, else ends at the basket.
func spinnerFlow(u string, stuck bool) string {
	flow := "name: spinner\nsteps:\n  - name: open\n    goto: " + u + "/\n"
	if stuck {
		flow += "  - name: pay\n    click: \"#pay\"\n  - name: confirmation\n    wait_for: \"#done\"\n    timeout: 1500ms\n"
	}
	return flow
}

func TestFilmstrip(t *testing.T) {
	t.Parallel()
	srv := spinnerSite(t)
	tests := []struct {
		name       string
		mode       FilmstripMode
		stuck      bool
		wantFrames bool
	}{
		{"failure, on-failure", FilmstripOnFailure, true, true},
		{"failure, always", FilmstripAlways, true, true},
		{"failure, never", FilmstripNever, true, false},
		{"success, on-failure", FilmstripOnFailure, false, false},
		{"success, always", FilmstripAlways, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			r := &Runner{Browser: testBrowser, ArtifactsDir: dir, Filmstrip: tt.mode}
			res := r.Run(context.Background(), mustFlow(t, spinnerFlow(srv.URL, tt.stuck)), desktop(t))
			if res.Success == tt.stuck {
				t.Fatalf("success %v: %+v", res.Success, res.Error)
			}
			filmDir := filepath.Join(dir, "spinner", "desktop", filmstripDir)
			if !tt.wantFrames {
				if len(res.Filmstrip) > 0 {
					t.Errorf("%d frames kept, want none", len(res.Filmstrip))
				}
				if _, err := os.Stat(filmDir); err == nil {
					t.Errorf("%s written, want no frames", filmDir)
				}
				return
			}
			if len(res.Filmstrip) == 0 {
				t.Fatal("no frames kept")
			}
			checkFrames(t, res, filmDir)
			if !tt.stuck {
				return
			}
			// The spinner turns in the frames of the step that waited on
			// it: they are pictures of a changing page, not one repeated.
			distinct := map[string]bool{}
			for _, f := range res.Filmstrip {
				if f.Step == "confirmation" {
					data, _ := os.ReadFile(f.Path)
					distinct[string(data)] = true
				}
			}
			if len(distinct) < 3 {
				t.Errorf("%d distinct frames while the spinner turned, want several: %+v", len(distinct), res.Filmstrip)
			}
		})
	}
}

// checkFrames checks that the frames are JPEGs of the page, at most 480
// px wide, in order of time, at most ten a second, each with its step.
func checkFrames(t *testing.T, res *result.Result, dir string) {
	t.Helper()
	steps := map[string]bool{}
	last := -1.0
	for i, f := range res.Filmstrip {
		if filepath.Dir(f.Path) != dir {
			t.Errorf("frame %d at %s, want under %s", i, f.Path, dir)
		}
		data, err := os.ReadFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		img, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("frame %d is not a JPEG: %v", i, err)
		}
		if w := img.Bounds().Dx(); w == 0 || w > frameMaxWidth {
			t.Errorf("frame %d is %d px wide, want 1..%d", i, w, frameMaxWidth)
		}
		if f.T < 0 || f.T > res.DurationSeconds+res.SetupSeconds+1 {
			t.Errorf("frame %d at t=%v, outside the run", i, f.T)
		}
		if i > 0 && f.T < last {
			t.Errorf("frame %d at t=%v, before the previous one's %v", i, f.T, last)
		}
		last = f.T
		steps[f.Step] = true
	}
	// A step's last change may be pictured as the next step starts, but
	// the step a failed run waited in is in its frames.
	if !res.Success && !steps["confirmation"] {
		t.Errorf("frames' steps %v, want the failing step's", steps)
	}
	if runTime := res.DurationSeconds + res.SetupSeconds; float64(len(res.Filmstrip)) > runTime*10+2 {
		t.Errorf("%d frames in %.1f s, want at most 10 a second", len(res.Filmstrip), runTime)
	}
}

// TestFilmstripKeepsTheLastFrames: a page that never stops changing keeps
// the last maxFrames frames, in order, and none once the run stopped it.
func TestFilmstripKeepsTheLastFrames(t *testing.T) {
	fr := &filmstripRecorder{quit: make(chan struct{}), done: make(chan struct{})}
	close(fr.done)
	for i := range maxFrames + 50 {
		fr.keep(frame{data: []byte{byte(i)}, t: float64(i) / 10})
	}
	frames := fr.stop(false)
	if len(frames) != maxFrames || frames[0].t != 5 || frames[maxFrames-1].t != float64(maxFrames+49)/10 {
		t.Fatalf("%d frames from t=%v to t=%v, want the last %d", len(frames), frames[0].t, frames[len(frames)-1].t, maxFrames)
	}
	fr.keep(frame{t: 99})
	if got := fr.stop(false); len(got) != maxFrames || got[maxFrames-1].t == 99 {
		t.Error("a frame was kept after the stop")
	}
}

func TestParseFilmstripMode(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want FilmstripMode
		ok   bool
	}{{"on-failure", FilmstripOnFailure, true}, {"always", FilmstripAlways, true}, {"never", FilmstripNever, true}, {"", "", false}, {"on_failure", "", false}} {
		got, err := ParseFilmstripMode(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParseFilmstripMode(%q) = %q, %v", tt.in, got, err)
		}
	}
}

// TestOnFailureFilmstripOfAQuickFailure: an on-failure recording takes no
// frame in a run's first onFailureStart, which most passing runs never
// outlast, and a run that fails sooner still keeps the page as it failed.
func TestOnFailureFilmstripOfAQuickFailure(t *testing.T) {
	t.Parallel()
	srv := spinnerSite(t)
	dir := t.TempDir()
	r := &Runner{Browser: testBrowser, ArtifactsDir: dir, Filmstrip: FilmstripOnFailure}
	// The spinner turns from the click on: a recording that ran would
	// picture it.
	flow := "name: spinner\nsteps:\n  - name: open\n    goto: " + srv.URL + "/\n  - name: pay\n    click: \"#pay\"\n  - name: quick\n    wait_for: \"#done\"\n    timeout: 250ms\n"
	res := r.Run(context.Background(), mustFlow(t, flow), desktop(t))
	if res.Success {
		t.Fatal("the assertion passed")
	}
	if len(res.Filmstrip) == 0 {
		t.Fatal("no frame kept of a failed run")
	}
	for _, f := range res.Filmstrip {
		if _, err := os.Stat(f.Path); err != nil {
			t.Error(err)
		}
	}
	// Every frame but the last one, taken as the run failed, comes after
	// the first pause.
	for i, f := range res.Filmstrip[:len(res.Filmstrip)-1] {
		if f.T < onFailureStart.Seconds()-0.05 {
			t.Errorf("frame %d at t=%.3f s, want none before %v", i, f.T, onFailureStart)
		}
	}
	if last := res.Filmstrip[len(res.Filmstrip)-1]; last.Step != "quick" {
		t.Errorf("last frame of step %q, want the failing step's", last.Step)
	}
}
