package scenarios

import (
	"os"
	"path/filepath"
	"testing"
)

func TestURLPatternMatch(t *testing.T) {
	const own = "https://shop.example.com"
	tests := []struct {
		glob string
		url  string
		want bool
	}{
		{"*://*.doubleclick.net/*", "https://ad.doubleclick.net/pixel?x=1", true},
		{"*://*.doubleclick.net/*", "https://doubleclick.net/pixel", false},
		{"*://*.doubleclick.net/*", "https://shop.example.com/?r=https://ad.doubleclick.net/", true}, // * spans anything
		// * spans /: one star covers a whole path.
		{"https://cdn.example.com/*.js", "https://cdn.example.com/a/b/c/tracker.js", true},
		{"https://cdn.example.com/*.js", "https://cdn.example.com/a/b/c/tracker.css", false},
		// ? is a query's, not a wildcard.
		{"https://pay.example.com/v1?mode=*", "https://pay.example.com/v1?mode=test", true},
		{"https://pay.example.com/v1?mode=*", "https://pay.example.com/v1Xmode=test", false},
		// Regexp characters are themselves.
		{"https://a.example.com/(x)+.js", "https://a.example.com/(x)+.js", true},
		{"https://a.example.com/(x)+.js", "https://a.example.com/xx.js", false},
		{"https://exact.example.com/a", "https://exact.example.com/a", true},
		{"https://exact.example.com/a", "https://exact.example.com/ab", false},
		{ThirdParty, "https://cdn.example.com/a.js", true},
		{ThirdParty, "https://shop.example.com/a.js", false},
		{ThirdParty, "http://shop.example.com/a.js", true},       // another scheme
		{ThirdParty, "https://shop.example.com:8443/a.js", true}, // another port
		{ThirdParty, "data:text/plain,x", false},                 // no origin to speak of
	}
	for _, tc := range tests {
		u := URLPattern{Glob: ThirdParty}
		if tc.glob != ThirdParty {
			u = newURLPattern(tc.glob)
		}
		if got := u.Match(tc.url, own); got != tc.want {
			t.Errorf("%q matches %q = %v, want %v", tc.glob, tc.url, got, tc.want)
		}
	}
}

func TestFetchPattern(t *testing.T) {
	for glob, want := range map[string]string{
		"*://*.doubleclick.net/*":  "*://*.doubleclick.net/*",
		"https://a.example.com/?x": `https://a.example.com/\?x`,
		`https://a.example.com/\`:  `https://a.example.com/\\`,
	} {
		if got := newURLPattern(glob).FetchPattern(); got != want {
			t.Errorf("FetchPattern(%q) = %q, want %q", glob, got, want)
		}
	}
	if got := (URLPattern{Glob: ThirdParty}).FetchPattern(); got != "*" {
		t.Errorf("third-party pauses %q, want every request", got)
	}
}

// TestBlockMockLoad reads block and mock as a flow file gives them: a
// mock's file relative to the flow file, its type from its name, and the
// defaults.
func TestBlockMockLoad(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "mocks"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "mocks", "pay.json"), []byte(`{"paid":true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	flow := `name: t
block: third-party
mock:
  - url: https://pay.example.com/*
    file: mocks/pay.json
  - url: https://cdn.example.com/widget.js
    status: 503
  - url: https://cdn.example.com/x.js
    body: "window.x = 1"
    content_type: text/javascript
steps:
  - goto: https://shop.example.com/cart
`
	path := filepath.Join(dir, "flow.yaml")
	if err := os.WriteFile(path, []byte(flow), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Load([]string{path}, LoadOptions{LookupEnv: fakeEnv(nil)})
	if err != nil || res[0].Err != nil {
		t.Fatal(err, res[0].Err)
	}
	f := res[0].Flows[0]
	if len(f.Block) != 1 || f.Block[0].Glob != ThirdParty || f.OwnOrigin() != "https://shop.example.com" {
		t.Errorf("block = %v, own origin %q", f.Block, f.OwnOrigin())
	}
	tests := []struct {
		url, body, typ, file string
		status               int
	}{
		{"https://pay.example.com/*", `{"paid":true}`, "application/json", "mocks/pay.json", 200},
		{"https://cdn.example.com/widget.js", "", "", "", 503},
		{"https://cdn.example.com/x.js", "window.x = 1", "text/javascript", "", 200},
	}
	if len(f.Mocks) != len(tests) {
		t.Fatalf("mocks = %+v", f.Mocks)
	}
	for i, tc := range tests {
		m := f.Mocks[i]
		if m.URL.Glob != tc.url || string(m.Body) != tc.body || m.ContentType != tc.typ || m.File != tc.file || m.Status != tc.status {
			t.Errorf("mock %d = {%s %q %q %q %d}, want %+v", i+1, m.URL, m.Body, m.ContentType, m.File, m.Status, tc)
		}
	}
}
