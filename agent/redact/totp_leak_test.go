package redact_test

import (
	"encoding/base32"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestNoOneTimeCodeLeavesARun puts ${totp:seed} where the hostile page of
// TestNoSecretLeavesARun reflects it everywhere (title, URL path, query and
// fragment, console errors, an uncaught exception, a failed request, a
// download's name, an eval's value, an assertion's message), and checks
// that neither the seed (an otpauth URI, and its base32 secret alone) nor
// any code the page received appears in any string of the result, its
// JSON, JUnit report, HAR or the runner's log. The codes have 8 digits,
// the length of this file's leak window.
func TestNoOneTimeCodeLeavesARun(t *testing.T) {
	b, site := leakBrowserAndSite(t)
	// Record the codes the page was sent: those are the codes to look for.
	var mu sync.Mutex
	codes := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s := r.URL.Query().Get("s"); s != "" {
			mu.Lock()
			codes[s] = true
			mu.Unlock()
		}
		site.Config.Handler.ServeHTTP(w, r)
	}))
	defer srv.Close()

	b32 := strings.TrimRight(base32.StdEncoding.EncodeToString([]byte("a seed of twenty bytes")), "=")
	seed := "otpauth://totp/shop:ann?secret=" + b32 + "&digits=8&issuer=shop"
	flowYAML := `name: totp-leak
vars: {seed: "${env:LEAK_SEED}"}
secrets: [seed]
steps:
  - name: open
    goto: ` + srv.URL + `/echo/${totp:seed}?s=${totp:seed}
  - eval: "'` + leakPad + `' + document.title"
  - click: "#dl"
    optional: true
  - assert_text: {selector: h1, equals: "nope ${totp:seed}"}
    timeout: 300ms
`
	env := func(name string) (string, bool) { return seed, name == "LEAK_SEED" }
	res, logs, dir := runLeakFlow(t, b, flowYAML, env)
	secrets := []string{seed, b32}
	mu.Lock()
	for c := range codes {
		if len(c) != 8 || strings.Trim(c, "0123456789") != "" {
			t.Errorf("the page got %q, not an 8-digit code", c)
		}
		secrets = append(secrets, c)
	}
	mu.Unlock()
	if len(secrets) == 2 {
		t.Fatal("the page got no code")
	}
	// The run saw the code: the eval step's value shows the masked title.
	evalValue := ""
	for _, st := range res.Steps {
		evalValue += st.Value
	}
	if !strings.Contains(evalValue, "***") {
		t.Errorf("no eval step's value shows the masked title: %.200q", evalValue)
	}
	assertNoSecretLeaves(t, res, dir, logs, secrets)
}
