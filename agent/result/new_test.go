package result

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/uxprobe/uxprobe/scenarios"
)

// TestNewListsAreEmptyNotNull: every list of a new result is [] in JSON,
// whoever builds it (the runner, or the agent's stand-in for a runner that
// gave none).
func TestNewListsAreEmptyNotNull(t *testing.T) {
	d := scenarios.Device{Name: "desktop", Class: "desktop"}
	r := New("f", d, time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)))
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if strings.Contains(s, "null") {
		t.Errorf("a new result has null in its JSON: %s", s)
	}
	for _, key := range []string{"steps", "pages", "console_errors", "failed_requests", "screenshots", "findings", "dialogs"} {
		if !strings.Contains(s, `"`+key+`":[]`) {
			t.Errorf("%s is not [] in %s", key, s)
		}
	}
	if r.StartedAt.Location() != time.UTC || r.Device != "desktop" || r.DeviceClass != "desktop" || r.Flow != "f" {
		t.Errorf("new result %+v", r)
	}
}

func TestRoundTimes(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	r := &Result{
		DurationSeconds: 1.2345674999,
		SetupSeconds:    0.1 + 0.2,
		Steps:           []Step{{DurationSeconds: 0.30000000000000004, InteractionSeconds: f(0.0166000000001)}},
		Pages: []Page{{
			TTFBSeconds: f(0.0030000000000000027), DOMContentLoadedSeconds: f(0.12340000000000001),
			LoadSeconds: f(0.5), FCPSeconds: f(0.1000000001), LCPSeconds: f(0.34620000000018625),
			INPSeconds: f(0.0480000000000004), TBTSeconds: f(1e-9), ObservedSeconds: f(2.0000004),
			CLS: f(0.12345678),
		}},
	}
	r.RoundTimes()
	b, _ := json.Marshal(r)
	got := string(b)
	for _, want := range []string{`"duration_seconds":1.234567,`, `"setup_seconds":0.3,`, `"duration_seconds":0.3,`,
		`"interaction_seconds":0.0166`, `"ttfb_seconds":0.003,`, `"dom_content_loaded_seconds":0.1234,`,
		`"fcp_seconds":0.1,`, `"lcp_seconds":0.3462,`, `"inp_seconds":0.048,`, `"tbt_seconds":0,`, `"observed_seconds":2,`,
		`"cls":0.12345678`} {
		if !strings.Contains(got, want) {
			t.Errorf("%s not in %s", want, got)
		}
	}
}
