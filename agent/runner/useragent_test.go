package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestUserAgentCarriesTheRunningChrome runs real flows on presets and a
// custom device and checks the user agent that the server received and the
// page saw: presets keep their model but name the Chrome that really runs,
// not the one they were written for; a flow's own user agent is untouched.
func TestUserAgentCarriesTheRunningChrome(t *testing.T) {
	t.Parallel()
	major, _, _ := strings.Cut(testBrowser.Version(), ".")
	if major == "" {
		t.Fatal("the browser reports no version")
	}
	var mu sync.Mutex
	sent := map[string]string{} // by path
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sent[r.URL.Path] = r.Header.Get("User-Agent")
		mu.Unlock()
		fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><title>ua</title><h1>ua</h1>`)
	}))
	t.Cleanup(srv.Close)

	realChrome := "Chrome/" + major + ".0.0.0"
	tests := []struct {
		name, path, device string
		// check is an eval step that must be true in the page.
		check string
		want  []string // in the User-Agent header
		not   []string
	}{
		{"android preset", "/android", "mobile",
			`navigator.userAgent.includes('Pixel 5') && navigator.userAgent.includes('` + realChrome + `') && navigator.userAgentData.mobile === true && navigator.userAgentData.platform === 'Android' && navigator.userAgentData.brands.some(b => b.version === '` + major + `')`,
			[]string{"Pixel 5", "Android 11", realChrome}, []string{"Chrome/99."}},
		{"ios preset keeps Safari's", "/ios", `"iPhone 12 Pro"`,
			`navigator.userAgent.includes('iPhone') && !navigator.userAgent.includes('Chrome/')`,
			[]string{"iPhone", "Safari"}, []string{realChrome}},
		{"custom user agent as written", "/custom", `{name: kiosk, width: 800, height: 600, user_agent: "Kiosk/1.0 Chrome/42.0.1"}`,
			`navigator.userAgent === 'Kiosk/1.0 Chrome/42.0.1'`,
			[]string{"Kiosk/1.0 Chrome/42.0.1"}, []string{realChrome}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check, _ := json.Marshal(tt.check) // a JSON string is a YAML double-quoted scalar
			f := mustFlow(t, "name: ua\ndevices: ["+tt.device+"]\nsteps:\n  - goto: "+srv.URL+tt.path+"\n  - eval: "+string(check)+"\n")
			res := (&Runner{Browser: testBrowser}).Run(context.Background(), f, f.Devices[0])
			if !res.Success {
				t.Fatalf("the page saw another user agent: %+v", res.Error)
			}
			mu.Lock()
			got, ok := sent[tt.path]
			mu.Unlock()
			if !ok {
				t.Fatalf("no request for %s", tt.path)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("user agent %q lacks %q", got, w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(got, n) {
					t.Errorf("user agent %q contains %q", got, n)
				}
			}
		})
	}
}
