package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/har"

	"github.com/uxprobe/uxprobe/agent/result"
)

// harSite is a shop whose order POST answers 500; the flow's secret token
// goes into a URL, a header and the posted form.
func harSite(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><title>Shop</title>
<form method="post" action="/order"><input name="token" id="token"><button id="pay">Pay</button></form>
<img src="/logo.png">`)
	})
	mux.HandleFunc("/logo.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		// The size the other tests use: noisyPNG keeps the first one asked for.
		_, _ = w.Write(noisyPNG(400, 300))
	})
	mux.HandleFunc("POST /order", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "out of stock", http.StatusInternalServerError)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// harJSON is the file as DevTools and other HAR readers see it, plus our
// custom field.
type harJSON struct {
	Log struct {
		Entries []struct {
			Step string `json:"_step"`
		} `json:"entries"`
	} `json:"log"`
}

func TestHAR(t *testing.T) {
	t.Parallel()
	srv := harSite(t)
	flow := `name: shop
vars: {token: hunter2secret}
secrets: [token]
headers: {X-Api-Key: "${token}"}
steps:
  - name: open
    goto: ` + srv.URL + `/?t=${token}
  - fill: {selector: "#token", value: "${token}"}
  - name: pay
    click: "#pay"
`
	tests := []struct {
		name    string
		mode    HARMode
		flow    string
		success bool
		wantHAR bool
	}{
		{"failure, on-failure", HAROnFailure, flow, false, true},
		{"failure, never", HARNever, flow, false, false},
		{"success, on-failure", HAROnFailure, "name: ok\nsteps:\n  - goto: " + srv.URL + "/\n", true, false},
		{"success, always", HARAlways, "name: ok\nsteps:\n  - goto: " + srv.URL + "/\n", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			res := (&Runner{Browser: testBrowser, ArtifactsDir: dir, HAR: tt.mode}).Run(context.Background(), mustFlow(t, tt.flow), desktop(t))
			if res.Success != tt.success {
				t.Fatalf("success %v, want %v: %+v", res.Success, tt.success, res.Error)
			}
			if !tt.wantHAR {
				if res.HAR != "" {
					t.Errorf("HAR %s written, want none", res.HAR)
				}
				return
			}
			if want := filepath.Join(dir, strings.SplitN(tt.flow[6:], "\n", 2)[0], "desktop", "network.har"); res.HAR != want {
				t.Fatalf("HAR at %q, want %q", res.HAR, want)
			}
			data, err := os.ReadFile(res.HAR)
			if err != nil {
				t.Fatal(err)
			}
			var doc har.HAR
			if err := json.Unmarshal(data, &doc); err != nil {
				t.Fatalf("not a HAR that cdproto/har decodes: %v", err)
			}
			if doc.Log == nil || doc.Log.Version != "1.2" || len(doc.Log.Entries) == 0 {
				t.Fatalf("log %+v", doc.Log)
			}
			if tt.success {
				checkEntry(t, doc.Log.Entries, "GET", "/", 200)
				return
			}
			var custom harJSON
			if err := json.Unmarshal(data, &custom); err != nil {
				t.Fatal(err)
			}
			steps := map[string]bool{}
			for _, e := range custom.Log.Entries {
				steps[e.Step] = true
			}
			if !steps["open"] || !steps["pay"] {
				t.Errorf("entries' _step values %v, want open and pay", steps)
			}
			open := checkEntry(t, doc.Log.Entries, "GET", "/?t=***", 200)
			checkEntry(t, doc.Log.Entries, "GET", "/logo.png", 200)
			order := checkEntry(t, doc.Log.Entries, "POST", "/order", 500)
			if order != nil {
				if order.Request.PostData == nil || order.Request.PostData.Text != "token=***" {
					t.Errorf("post data %+v, want the masked form", order.Request.PostData)
				}
				if order.Response.Content == nil || len(order.Response.Content.Text) > 0 {
					t.Errorf("response body kept: %q", order.Response.Content.Text)
				}
			}
			if open != nil {
				key := ""
				for _, h := range open.Request.Headers {
					if strings.EqualFold(h.Name, "X-Api-Key") {
						key = h.Value
					}
				}
				if key != "***" {
					t.Errorf("X-Api-Key header %q, want ***", key)
				}
				if open.Timings == nil || open.Timings.Wait < 0 || open.Time < 0 || open.StartedDateTime == "" {
					t.Errorf("timings %+v, time %v, started %q", open.Timings, open.Time, open.StartedDateTime)
				}
			}
			if strings.Contains(string(data), "hunter2secret") {
				t.Error("the secret is in the HAR")
			}
			if strings.Contains(string(data), "out of stock") {
				t.Error("a response body is in the HAR")
			}
			if !strings.Contains(res.HAR, "network.har") || res.Outcome() != result.OutcomeFailure {
				t.Errorf("result %+v", res)
			}
		})
	}
}

// checkEntry finds the entry of the method and URL (after the host) and
// checks its status.
func checkEntry(t *testing.T, entries []*har.Entry, method, path string, status int64) *har.Entry {
	t.Helper()
	for _, e := range entries {
		if e.Request.Method == method && strings.HasSuffix(e.Request.URL, path) {
			if e.Response.Status != status {
				t.Errorf("%s %s: status %d, want %d", method, path, e.Response.Status, status)
			}
			return e
		}
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Request.Method+" "+e.Request.URL)
	}
	t.Errorf("no entry %s %s among %q", method, path, got)
	return nil
}

// TestHARQuerySecret: a secret written raw into a URL's query (a base64
// token with + and /, a value with &) is split and decoded by the query
// parser; the HAR's queryString must not show any of its parts, whatever
// the URL field shows.
func TestHARQuerySecret(t *testing.T) {
	t.Parallel()
	srv := harSite(t)
	const secret = "Tk9+xYz/Qw&name=AbCd+EfGh"
	flow := `name: q
vars: {token: "` + secret + `"}
secrets: [token]
steps:
  - goto: ` + srv.URL + `/?t=${token}&x=1
  - click: "#nothing-here"
    timeout: 300ms
`
	dir := t.TempDir()
	res := (&Runner{Browser: testBrowser, ArtifactsDir: dir, HAR: HAROnFailure}).Run(context.Background(), mustFlow(t, flow), desktop(t))
	if res.HAR == "" {
		t.Fatalf("no HAR: %+v", res.Error)
	}
	data, err := os.ReadFile(res.HAR)
	if err != nil {
		t.Fatal(err)
	}
	if frag := secretFragment(string(data), secret); frag != "" {
		t.Errorf("the HAR shows %q of the secret", frag)
	}
	var doc har.HAR
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	open := checkEntry(t, doc.Log.Entries, "GET", "x=1", 200)
	if open == nil {
		return
	}
	var names []string
	for _, q := range open.Request.QueryString {
		names = append(names, q.Name+"="+q.Value)
		if frag := secretFragment(q.Name+q.Value, secret); frag != "" {
			t.Errorf("queryString %s=%s shows %q", q.Name, q.Value, frag)
		}
	}
	if !strings.Contains(strings.Join(names, "&"), "x=1") {
		t.Errorf("queryString %v lost the other parameter", names)
	}
}

// secretFragment returns a piece of 8 characters of the secret, as it is
// or as a query parser decodes it (+ as a space), found in s.
func secretFragment(s, secret string) string {
	for _, form := range []string{secret, strings.ReplaceAll(secret, "+", " ")} {
		for i := 0; i+8 <= len(form); i++ {
			if w := form[i : i+8]; strings.Contains(s, w) {
				return w
			}
		}
	}
	return ""
}
