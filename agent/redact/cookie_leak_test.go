package redact_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// leakCookie is a cookie value from the environment: the characters a
// cookie may hold, the base64 ones included.
const leakCookie = "Ck7Qz9/Wm2+Xr5Tb8Np3=="

// TestNoCookieOrStorageValueLeavesARun sets a cookie and a local storage
// value from the environment (${env:...}, not in the secrets list), and
// sends both to the hostile page of TestNoSecretLeavesARun, which reflects
// them everywhere; the cookie also travels in every request's Cookie
// header, which the HAR records. Neither value may appear in any string
// of the result, its JSON, JUnit report, HAR, artifact names or the
// runner's log.
func TestNoCookieOrStorageValueLeavesARun(t *testing.T) {
	b, site := leakBrowserAndSite(t)
	var sawCookie bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/cookie-echo":
			c, err := r.Cookie("token")
			if err != nil {
				http.Error(w, "no cookie", http.StatusBadRequest)
				return
			}
			sawCookie = c.Value == leakCookie
			http.Redirect(w, r, "/echo/"+url.PathEscape(c.Value)+"?s="+url.QueryEscape(c.Value), http.StatusFound)
		case "/storage-echo":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(`<!doctype html><script>const s = localStorage.getItem("k");
location.replace("/echo/" + encodeURIComponent(s) + "?s=" + encodeURIComponent(s));</script>`))
		default:
			site.Config.Handler.ServeHTTP(w, r)
		}
	}))
	defer srv.Close()

	flowYAML := `name: cookie-leak
cookies:
  - {name: token, value: "${env:LEAK_COOKIE}", url: "` + srv.URL + `/", http_only: true}
local_storage:
  "` + srv.URL + `": {k: "${env:LEAK_STORAGE}"}
steps:
  - goto: ` + srv.URL + `/cookie-echo
  - eval: "'` + leakPad + `' + document.title"
  - click: "#dl"
    optional: true
  - goto: ` + srv.URL + `/storage-echo
  - wait_for: "#extracted"
  - eval: "'` + leakPad + `' + document.title"
  - assert_text: {selector: h1, equals: "nope"}
    timeout: 300ms
`
	env := func(name string) (string, bool) {
		switch name {
		case "LEAK_COOKIE":
			return leakCookie, true
		case "LEAK_STORAGE":
			return leakShort, true
		}
		return "", false
	}
	res, logs, dir := runLeakFlow(t, b, flowYAML, env)
	if !sawCookie {
		t.Fatal("the site did not get the flow's cookie")
	}
	// The run saw both values: the eval steps' values show the masked
	// titles of both echo pages.
	evalValue := ""
	for _, st := range res.Steps {
		evalValue += st.Value
	}
	if strings.Count(evalValue, "***") < 2 {
		t.Errorf("the eval steps' values do not show both masked titles: %.300q", evalValue)
	}
	assertNoSecretLeaves(t, res, dir, logs, []string{leakCookie, leakShort})
}
