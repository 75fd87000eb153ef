package scenarios

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSessionsAcrossFiles loads directories of flow files whose session
// keys name each other and compares what Load makes of them with golden
// files: the flows kept with their login flow, or the errors at the
// session key of the flow that names it.
func TestSessionsAcrossFiles(t *testing.T) {
	const dir = "../testdata/flows/sessions"
	for _, name := range []string{"ok", "unknown", "not-provider", "cycle"} {
		t.Run(name, func(t *testing.T) {
			results, err := Load([]string{filepath.Join(dir, name)}, LoadOptions{LookupEnv: fakeEnv(nil)})
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, r := range results {
				if r.Err != nil {
					b.WriteString(displayPath(r.Err.Error()) + "\n")
					continue
				}
				for _, f := range r.Flows {
					prov := "-"
					if p := f.SessionProvider(); p != nil {
						prov = p.Name + " at " + p.LoginURL()
					}
					b.WriteString(f.Name + ": provides_session=" + boolText(f.ProvidesSession) + " session=" + prov + " max_age=" + f.SessionMaxAge.String() + "\n")
				}
			}
			got := strings.ReplaceAll(b.String(), "../", "")
			golden := filepath.Join(dir, name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("differs from %s\n got:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// TestCookiesAndStorageDecoded: the decoded cookies and local storage, and
// a value from the environment that becomes a secret of the flow.
func TestCookiesAndStorageDecoded(t *testing.T) {
	src := `name: c
vars: {bucket: b}
cookies:
  - {name: consent, value: "yes", url: "https://shop.example.com/"}
  - {name: sid, value: "${env:SID}", domain: .example.com, secure: true, http_only: true, same_site: None}
local_storage:
  "HTTPS://Shop.Example.com:443": {ab: "${bucket}", token: "${env:SID}"}
steps:
  - goto: https://shop.example.com/
`
	flows, err := Parse("c.yaml", []byte(src), LoadOptions{LookupEnv: fakeEnv(map[string]string{"SID": "sid-from-env-123"})})
	if err != nil {
		t.Fatal(err)
	}
	f := flows[0]
	want := []Cookie{
		{Name: "consent", Value: "yes", URL: "https://shop.example.com/"},
		{Name: "sid", Value: "sid-from-env-123", Domain: ".example.com", Path: "/", Secure: true, HTTPOnly: true, SameSite: "None"},
	}
	if len(f.Cookies) != 2 || f.Cookies[0] != want[0] || f.Cookies[1] != want[1] {
		t.Errorf("cookies = %+v, want %+v", f.Cookies, want)
	}
	if got := f.LocalStorage["https://shop.example.com"]; got["ab"] != "b" || got["token"] != "sid-from-env-123" || len(f.LocalStorage) != 1 {
		t.Errorf("local_storage = %v", f.LocalStorage)
	}
	if got := f.Mask("cookie sid=sid-from-env-123; consent=yes"); got != "cookie sid=***; consent=yes" {
		t.Errorf("Mask = %q: a cookie value from the environment must be masked, a literal one not", got)
	}
	if f.Session != "" || f.SessionMaxAge != 0 || f.SessionProvider() != nil {
		t.Errorf("a flow without session has session %q, max age %v", f.Session, f.SessionMaxAge)
	}
	_ = time.Second
}
