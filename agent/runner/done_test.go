package runner

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/uxprobe/uxprobe/scenarios"
)

// recordsSite is a small app of the kind issue 11 was found on: records
// are created through a labelled form inside an iframe, after a confirm()
// dialog; the new record's page opens in a new tab; an API deletes them.
type recordsSite struct {
	*httptest.Server
	mu      sync.Mutex
	records map[string]string // id -> title
	next    int
}

func newRecordsSite(t *testing.T) *recordsSite {
	t.Helper()
	s := &recordsSite{records: map[string]string{}}
	mux := http.NewServeMux()
	page := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><meta name="viewport" content="width=device-width, initial-scale=1">`+body)
		}
	}
	mux.HandleFunc("GET /app", page(`<title>Records</title><h1>Records</h1>
<iframe id="editor" src="/editor" style="width:90%;height:400px;border:1px solid #ccc"></iframe>`))
	mux.HandleFunc("GET /editor", page(`<title>Editor</title>
<form id="f"><label>Title <input name="title"></label> <button>Create</button></form>
<p id="created"></p>
<script>
document.getElementById('f').addEventListener('submit', async (e) => {
  e.preventDefault();
  const title = new FormData(e.target).get('title');
  if (!confirm('Create record "' + title + '"?')) return;
  const r = await fetch('/api/records', { method: 'POST', body: title });
  const j = await r.json();
  document.getElementById('created').innerHTML = 'Created record <b>' + j.id + '</b> <a target="_blank" href="/records/' + j.id + '">Open record</a>';
});
</script>`))
	mux.HandleFunc("POST /api/records", func(w http.ResponseWriter, r *http.Request) {
		title, _ := io.ReadAll(io.LimitReader(r.Body, 1000))
		s.mu.Lock()
		s.next++
		id := fmt.Sprintf("r%d", s.next)
		s.records[id] = html.EscapeString(string(title))
		s.mu.Unlock()
		fmt.Fprintf(w, `{"id":%q}`, id)
	})
	mux.HandleFunc("GET /records/{id}", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		title, ok := s.records[r.PathValue("id")]
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		page(`<title>Record</title><h1>Record `+r.PathValue("id")+`</h1><p id="title">`+title+`</p>`)(w, r)
	})
	mux.HandleFunc("DELETE /api/records/{id}", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		_, ok := s.records[r.PathValue("id")]
		delete(s.records, r.PathValue("id"))
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func (s *recordsSite) left() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for k, v := range s.records {
		out[k] = v
	}
	return out
}

// doneFlow is issue 11's "done when" flow; broken replaces a step.
const doneFlow = `name: records
devices: [desktop, mobile]
timeout: 30s
step_timeout: 5s
vars: {base: "${u}"}
steps:
  - goto: ${base}/app
  - name: fill title
    fill: {selector: "iframe#editor >> label=Title", value: "uxprobe ${device} ${run_id}"}
  - name: create
    click: iframe#editor >> role=button[name="Create"]
  - name: read id
    extract: {var: record_id, selector: "iframe#editor >> #created", pattern: 'record (r\d+)'}
  - name: open record
    click: iframe#editor >> role=link[name="Open record"]
  - name: check record
    assert_text: {selector: h1, equals: "Record ${record_id}"}
  - assert_text: {selector: "#title", contains: "uxprobe ${device}"}
finally:
  - name: delete record
    request: {method: DELETE, url: "${base}/api/records/${record_id}", status: 204}
`

func TestDoneWhenFlow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		replace     [2]string // in the flow text
		wantKind    scenarios.ErrorKind
		wantStep    string
		cleanupFail bool
	}{
		{name: "passes and cleans up"},
		{name: "a broken step fails and still cleans up", replace: [2]string{`equals: "Record ${record_id}"`, `equals: "Record of nobody"`},
			wantKind: scenarios.KindAssertion, wantStep: "check record"},
		{name: "a broken delete is a cleanup failure, not a failed task", replace: [2]string{`/api/records/${record_id}`, `/api/records/nope-${record_id}`},
			cleanupFail: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			site := newRecordsSite(t)
			src := strings.ReplaceAll(doneFlow, "${u}", site.URL)
			if tc.replace[0] != "" {
				src = strings.Replace(src, tc.replace[0], tc.replace[1], 1)
			}
			f := mustFlow(t, src)
			for _, d := range f.Devices {
				res := (&Runner{Browser: testBrowser}).Run(context.Background(), f, d)
				if tc.wantKind == "" {
					checkOutcome(t, res, "", "")
				} else {
					checkOutcome(t, res, tc.wantKind, "")
					if res.Error.Step != tc.wantStep {
						t.Errorf("%s: failed at %q, want %q", d.Name, res.Error.Step, tc.wantStep)
					}
				}
				if len(res.Dialogs) != 1 || res.Dialogs[0].Type != "confirm" || !strings.HasPrefix(res.Dialogs[0].Message, "Create record \"uxprobe "+d.Name+" ") {
					t.Errorf("%s: dialogs = %+v, want the confirm of the record", d.Name, res.Dialogs)
				}
				var tabs []int
				for _, p := range res.Pages {
					tabs = append(tabs, p.Tab)
				}
				if fmt.Sprint(tabs) != "[0 1]" {
					t.Errorf("%s: pages in tabs %v, want the app and the record's new tab", d.Name, tabs)
				}
				if got := len(res.CleanupFailures()) > 0; got != tc.cleanupFail {
					t.Errorf("%s: cleanup failures %+v, want failed=%v", d.Name, res.CleanupFailures(), tc.cleanupFail)
				}
			}
			left := site.left()
			if tc.cleanupFail {
				if len(left) != 2 {
					t.Errorf("records left %v, want the two the broken delete missed", left)
				}
			} else if len(left) != 0 {
				t.Errorf("records left behind: %v", left)
			}
		})
	}
}
