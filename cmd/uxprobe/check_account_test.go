package main

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/uxprobe/uxprobe/agent/demoshop"
)

// TestCheckDemoAccountDarkPhone signs in to the demo shop on a phone in
// dark mode, German and Berlin time, with the password and a one-time code
// given as vars, and audits the sign-in and account pages: the dark
// colours keep axe's contrast rules and the phone layout its tap targets.
func TestCheckDemoAccountDarkPhone(t *testing.T) {
	shop := httptest.NewServer(demoshop.New())
	t.Cleanup(shop.Close)
	srv := shop.URL
	dir := t.TempDir()
	flow := `name: account-dark
devices: [{name: mobile, color_scheme: dark}]
locale: de-DE
timezone: Europe/Berlin
vars: {password: "set-by---var", seed: "set-by---var"}
secrets: [password, seed]
steps:
  - goto: ` + srv + `/account
  - audit: {rules: [accessibility, tap-target-size, horizontal-overflow], fail: true}
  - fill: {selector: "#email", value: "` + demoshop.DemoEmail + `"}
  - fill: {selector: "#password", value: "${password}"}
  - click: "#sign-in"
  - fill: {selector: "#code", value: "${totp:seed}"}
  - click: "#verify"
  - assert_text: {selector: "#account-name", equals: "` + demoshop.DemoName + `"}
  - audit: {rules: [accessibility, tap-target-size, horizontal-overflow], fail: true}
`
	path := filepath.Join(dir, "account.yaml")
	if err := os.WriteFile(path, []byte(flow), 0o644); err != nil {
		t.Fatal(err)
	}
	jsonFile := filepath.Join(dir, "results.json")
	code, stdout, stderr := runCheckWithChrome(t, "--var", "password="+demoshop.DemoPassword, "--var", "seed="+demoshop.DemoTOTPSeed,
		"--json", jsonFile, path)
	if code != exitOK {
		t.Fatalf("exit code %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	res := readCheckJSON(t, jsonFile)
	if len(res) != 1 || !slices.Contains(res[0].AuditedRules, "accessibility") || len(res[0].Findings) != 0 {
		t.Fatalf("results %+v, want one run audited for accessibility without findings", res)
	}
	if c := res[0].Conditions; c == nil || c.ColorScheme != "dark" || c.Locale != "de-DE" || c.Timezone != "Europe/Berlin" {
		t.Errorf("result conditions %+v, want dark, de-DE, Europe/Berlin", c)
	}
}
