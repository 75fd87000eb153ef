package statuspage

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/uxprobe/uxprobe/agent/browser"
	"github.com/uxprobe/uxprobe/agent/history"
	"github.com/uxprobe/uxprobe/agent/runner"
	"github.com/uxprobe/uxprobe/scenarios"
)

// newFilmstripStore holds one real run, made in Chrome with the filmstrip
// on failure, of a phone page whose spinner never goes away: run
// r-stuck, with its frames.
func newFilmstripStore(t *testing.T, b *browser.Browser) *history.Store {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><meta name="viewport" content="width=device-width"><title>Shop</title>
<style>#spin { width: 80px; height: 80px; margin: 24px; border: 12px solid #ddd; border-top-color: #c00; border-radius: 50%; animation: turn .8s linear infinite; }
@keyframes turn { to { transform: rotate(360deg); } }</style>
<h1>Basket</h1><button id="pay" onclick="document.body.append(Object.assign(document.createElement('div'), {id: 'spin'}))">Place order</button>`)
	}))
	defer srv.Close()
	flows, err := scenarios.Parse("stuck.yaml", []byte(`name: stuck
devices: [mobile]
steps:
  - name: open
    goto: `+srv.URL+`/
  - name: place order
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
	res.ID, res.StartedAt = "r-stuck", now.Add(-time.Minute)
	s := newStore(t)
	if err := s.Export(context.Background(), res); err != nil {
		t.Fatal(err)
	}
	return s
}

// filmstripPageFlow is what a person checks on the run page of a run with
// a filmstrip: the strip under the step timeline, a picture per frame the
// API lists (in the API's order, labelled with its time and step).
func filmstripPageFlow(t *testing.T, s *history.Store) string {
	t.Helper()
	h := New(Options{Store: s, Now: func() time.Time { return now }, Flows: func() []*scenarios.Flow { return nil }})
	get := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, w.Code, w.Body)
		}
		return w
	}
	var api struct {
		Artifacts []struct {
			Name, Kind, Step, URL string
			T                     *float64
		}
	}
	if err := json.Unmarshal(get("/api/v1/runs/r-stuck").Body.Bytes(), &api); err != nil {
		t.Fatal(err)
	}
	type want struct{ Name, Label string }
	var frames []want
	failing := false
	for _, a := range api.Artifacts {
		if a.Kind != history.KindFrame {
			continue
		}
		if a.T == nil {
			t.Fatalf("the API lists frame %s without its time", a.Name)
		}
		label := fmt.Sprintf("%.1f s", *a.T)
		if a.Step != "" {
			label += " · " + a.Step
		}
		failing = failing || a.Step == "confirmation"
		frames = append(frames, want{a.Name, label})
		if ct := get(a.URL).Header().Get("Content-Type"); ct != "image/jpeg" {
			t.Errorf("frame %s served as %q, want image/jpeg", a.Name, ct)
		}
	}
	if len(frames) == 0 || !failing {
		t.Fatalf("the API lists frames %+v, want some, of the failing step too", frames)
	}
	js, err := json.Marshal(frames)
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(`
name: filmstrippage
devices: [desktop, mobile]
steps:
  - goto: ${base}/runs/r-stuck
  - name: the frames in a strip under the step timeline, as the API lists them
    eval: |
SCRIPT
  - name: scroll to the filmstrip
    eval: "(document.querySelector('.filmstrip').scrollIntoView({block: 'start'}), true)"
  - screenshot: run
`, "SCRIPT", "      "+strings.ReplaceAll(strings.ReplaceAll(filmstripShown, "FRAMES", string(js)), "\n", "\n      "))
}

// filmstripShown holds when the run page's filmstrip follows the step
// timeline and has a picture per frame of FRAMES, in order, each a JPEG
// that loaded, labelled with its time and step, no wider than its place
// in the strip nor taller than the window, and the strip scrolls inside
// its column: the page does not overflow sideways.
const filmstripShown = `(async () => {
  const frames = FRAMES;
  const strip = document.querySelector('.filmstrip');
  const line = document.querySelector('.timeline');
  if (!strip || !line || !(line.compareDocumentPosition(strip) & Node.DOCUMENT_POSITION_FOLLOWING)) return false;
  const figs = [...strip.querySelectorAll('figure')];
  if (figs.length !== frames.length) return false;
  for (const [k, f] of figs.entries()) {
    const img = f.querySelector('img');
    if (!img.src.endsWith('/' + frames[k].Name)) return false;
    if (f.querySelector('figcaption').textContent !== frames[k].Label) return false;
    img.loading = 'eager';
    await img.decode().catch(() => {});
    if (img.naturalWidth === 0 || img.naturalWidth > 480) return false;
    const r = img.getBoundingClientRect();
    if (r.width > f.clientWidth + 0.5 || r.height > innerHeight) return false;
  }
  window.scrollTo(0, 0);
  return document.documentElement.scrollWidth <= window.innerWidth;
})()`
