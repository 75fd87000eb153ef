package statuspage

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/uxprobe/uxprobe/agent/history"
	"github.com/uxprobe/uxprobe/agent/pgtest"
	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// visualRun is the run whose checkout picture changed on a phone: the
// step "banner check" failed its comparison with the baseline "banner".
const visualRun = "r-look-mobile-visual"

// visualPictures are the failed step's baseline, actual and diff: phone
// shaped (half an iPhone 15's screenshot), each its own colour, so a
// person can tell them apart and the page must scale them down.
func visualPictures(t *testing.T) (baseline, actual, diff []byte) {
	t.Helper()
	size := image.Pt(590, 1278)
	var out [3][]byte
	for i, c := range []color.RGBA{{0x1e, 0x8e, 0x3e, 0xff}, {0xf9, 0xab, 0x00, 0xff}, {0xd9, 0x30, 0x25, 0xff}} {
		data, err := encodeFilled(size, c)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = data
	}
	return out[0], out[1], out[2]
}

// newVisualStore holds the flow "look": on mobile its latest run failed
// the visual step "banner check" with its three pictures kept, and passed
// the visual step "button"; on desktop it passed. A run of a flow whose
// name cannot name a folder failed a visual step too.
func newVisualStore(t *testing.T) (*history.Store, []byte) {
	t.Helper()
	return fillVisualStore(t, openSQLite(t))
}

// visualStores are the history's two databases, for the tests of what the
// status page reads from a store and writes from it: one code over two
// dialects, so each runs on both.
var visualStores = []struct {
	name string
	open func(t *testing.T) *history.Store
}{
	{"sqlite", openSQLite},
	{"postgres", func(t *testing.T) *history.Store {
		s, err := history.OpenURL(context.Background(), pgtest.URL(t), history.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}},
}

func openSQLite(t *testing.T) *history.Store {
	t.Helper()
	s, err := history.Open(context.Background(), t.TempDir(), history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// fillVisualStore exports the runs of newVisualStore into s.
func fillVisualStore(t *testing.T, s *history.Store) (*history.Store, []byte) {
	t.Helper()
	base, actual, diff := visualPictures(t)
	failed := func(id, flow string) *result.Result {
		dir := t.TempDir()
		write := func(name string, data []byte) string {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}
		r := res(id, flow, "mobile", time.Minute, "", "")
		r.Success = false
		r.Steps = []result.Step{
			{Name: "open", Action: "goto", DurationSeconds: 0.5, Success: true},
			{Name: "button", Action: "assert_screenshot", DurationSeconds: 0.2, Success: true,
				Visual: &result.Visual{Baseline: "uxprobe-baselines/" + flow + "/mobile/button.png"}},
			{Name: "banner check", Action: "assert_screenshot", DurationSeconds: 0.3, Error: "banner differs from its baseline",
				Visual: &result.Visual{DiffRatio: 0.0123, ChangedPixels: 9271,
					Baseline: write("banner.baseline.png", base), Actual: write("banner.actual.png", actual), Diff: write("banner.diff.png", diff)}},
		}
		r.Error = &result.Error{Step: "banner check", Kind: scenarios.KindVisual, Message: "banner differs from its baseline in 9271 pixels"}
		return r
	}
	for _, r := range []*result.Result{
		res("r-look-desktop", "look", "desktop", time.Minute, "", ""),
		failed(visualRun, "look"),
		failed("r-escape", ".."),
	} {
		if err := s.Export(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	return s, actual
}

// files lists what is under dir, relative.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestAcceptBaseline(t *testing.T) {
	for _, st := range visualStores {
		t.Run(st.name, func(t *testing.T) { testAcceptBaseline(t, st.open(t)) })
	}
}

func testAcceptBaseline(t *testing.T, s *history.Store) {
	store, actual := fillVisualStore(t, s)
	tests := []struct {
		name        string
		noBaselines bool
		run         string
		contentType string
		body        string
		header      map[string]string
		status      int
		// location is the redirect's; written says the baseline file of
		// look on mobile named banner holds the run's actual picture
		// after, and nothing else was written.
		location string
		written  bool
		errPart  string
	}{
		{name: "JSON", run: visualRun, contentType: "application/json", body: `{"step": "banner check"}`, status: 200, written: true},
		{name: "form of the run page", run: visualRun, contentType: "application/x-www-form-urlencoded", body: "step=banner+check",
			header: map[string]string{"Accept": "text/html,application/xhtml+xml", "Sec-Fetch-Site": "same-origin"},
			status: 303, location: "/runs/" + visualRun + "?accepted=banner+check", written: true},
		{name: "form by a program", run: visualRun, contentType: "application/x-www-form-urlencoded", body: "step=banner+check", status: 200, written: true},
		{name: "unknown run", run: "r-nope", contentType: "application/json", body: `{"step": "banner check"}`, status: 404, errPart: "no such run"},
		{name: "unknown step", run: visualRun, contentType: "application/json", body: `{"step": "nope"}`, status: 404, errPart: `no step "nope"`},
		{name: "no step named", run: visualRun, contentType: "application/x-www-form-urlencoded", body: "", status: 400, errPart: "name the step"},
		{name: "bad JSON", run: visualRun, contentType: "application/json", body: `{"step":`, status: 400, errPart: "the body"},
		{name: "not a visual step", run: visualRun, contentType: "application/json", body: `{"step": "open"}`, status: 400, errPart: "not an assert_screenshot step"},
		{name: "visual step that passed", run: visualRun, contentType: "application/json", body: `{"step": "button"}`, status: 409, errPart: "did not fail"},
		{name: "successful run", run: "r-look-desktop", contentType: "application/json", body: `{"step": "place order"}`, status: 400, errPart: "not an assert_screenshot step"},
		{name: "flow name that would climb out of the folder", run: "r-escape", contentType: "application/json", body: `{"step": "banner check"}`, status: 400, errPart: "cannot name a baseline file"},
		{name: "agent without baselines", noBaselines: true, run: visualRun, contentType: "application/json", body: `{"step": "banner check"}`, status: 404, errPart: "keeps no baselines"},
		{name: "form of another site", run: visualRun, contentType: "application/x-www-form-urlencoded", body: "step=banner+check",
			header: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.test"}, status: 403},
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The baselines dir is a folder inside a parent of its own, so
			// that a file written beside it is seen.
			parent := t.TempDir()
			dir := filepath.Join(parent, "baselines")
			opts := Options{Store: store, Baselines: dir}
			if tt.noBaselines {
				opts.Baselines = ""
			}
			srv := newServer(t, opts)
			req, err := http.NewRequest("POST", srv.URL+"/api/v1/runs/"+tt.run+"/baselines", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", tt.contentType)
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if got := resp.Header.Get("Location"); got != tt.location {
				t.Errorf("Location %q, want %q", got, tt.location)
			}
			if tt.errPart != "" {
				var e map[string]string
				if err := json.Unmarshal(body, &e); err != nil || !strings.Contains(e["error"], tt.errPart) {
					t.Errorf("answer %s, want an error with %q", body, tt.errPart)
				}
			}
			got := files(t, parent)
			if !tt.written {
				if len(got) > 0 {
					t.Errorf("wrote %q", got)
				}
				return
			}
			if len(got) != 1 || got[0] != "baselines/look/mobile/banner.png" {
				t.Fatalf("wrote %q, want baselines/look/mobile/banner.png alone", got)
			}
			data, err := os.ReadFile(filepath.Join(dir, "look", "mobile", "banner.png"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(data, actual) {
				t.Errorf("the baseline is not the run's actual picture (%d bytes, want %d)", len(data), len(actual))
			}
			if tt.status == 200 {
				var a acceptAnswer
				if err := json.Unmarshal(body, &a); err != nil {
					t.Fatal(err)
				}
				if want := (acceptAnswer{Flow: "look", Device: "mobile", Name: "banner", Baseline: filepath.Join(dir, "look", "mobile", "banner.png")}); a != want {
					t.Errorf("answer %+v, want %+v", a, want)
				}
			}
		})
	}
}

func TestVisualPages(t *testing.T) {
	store, _ := newVisualStore(t)
	pics := []string{
		`<img src="../api/v1/runs/` + visualRun + `/artifacts/banner.baseline.png" alt="baseline"`,
		`<img src="../api/v1/runs/` + visualRun + `/artifacts/banner.actual.png" alt="actual"`,
		`<img src="../api/v1/runs/` + visualRun + `/artifacts/banner.diff.png" alt="diff"`,
	}
	form := `<form method="post" action="../api/v1/runs/` + visualRun + `/baselines"><input type="hidden" name="step" value="banner check">`
	tests := []struct {
		name, path string
		baselines  bool
		want       []string
		notWant    []string
	}{
		{name: "run", path: "/runs/" + visualRun, baselines: true,
			want:    append([]string{"Visual checks", "banner check", "1.23 % changed (9271 pixels)", `<div class="triptych">`, form, "Accept as baseline"}, pics...),
			notWant: []string{"accepted as the baseline", `value="button"`}},
		{name: "run without baselines", path: "/runs/" + visualRun, want: pics, notWant: []string{"<form", "Accept as baseline"}},
		{name: "run just accepted", path: "/runs/" + visualRun + "?accepted=banner+check", baselines: true,
			want: append([]string{"✔ accepted as the baseline of banner"}, pics...), notWant: []string{"<form"}},
		{name: "flow page, under the phone", path: "/flows/look", baselines: true,
			want: append([]string{`<section class="visual" aria-label="visual check banner check">`}, pics...), notWant: []string{"<form"}},
		{name: "run that passed", path: "/runs/r-look-desktop", baselines: true, notWant: []string{"Visual checks", `<div class="triptych">`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{Store: store}
			if tt.baselines {
				opts.Baselines = t.TempDir()
			}
			srv := newServer(t, opts)
			status, body, _ := get(t, srv.URL+tt.path)
			if status != 200 {
				t.Fatalf("status %d:\n%s", status, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(body, w) {
					t.Errorf("page has %q", w)
				}
			}
			if strings.HasPrefix(tt.path, "/flows/") {
				// Under the phone's column, not the desktop's.
				mobile := body[strings.Index(body, `aria-labelledby="dev-mobile"`):]
				if !strings.Contains(mobile, pics[1]) {
					t.Errorf("the pictures are not in the mobile column")
				}
			}
		})
	}
}
