package junit

import (
	"bytes"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata from the current output")

// started is fixed so that the suites' timestamps are part of the golden
// file; UTC because that is what the runner records.
var started = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// reportResults are one of each thing a report must tell apart: a success, a
// site failure (a <failure>) and a failure of uxprobe's own browser (an
// <error>), over two flows so that there are two suites. The failure's
// message holds characters XML must escape.
func reportResults() []*result.Result {
	return []*result.Result{
		{
			Flow: "checkout", Device: "desktop", DeviceClass: "desktop", StartedAt: started,
			Success: true, Attempts: 1, DurationSeconds: 3.2104,
			Steps: []result.Step{
				{Name: "open product", Action: "goto", DurationSeconds: 0.8, Success: true},
				{Name: "open menu", Action: "click", Success: true, Skipped: true},
				{Name: "place order", Action: "click", DurationSeconds: 1.25, Success: true},
				{Name: "confirmation", Action: "screenshot", DurationSeconds: 0.3, Success: true},
			},
			Screenshots: []string{"artifacts/checkout/desktop/confirmation.png"},
		},
		{
			Flow: "checkout", Device: "mobile", DeviceClass: "mobile", StartedAt: started.Add(time.Second),
			Attempts: 1, DurationSeconds: 2.5,
			Steps: []result.Step{
				{Name: "open product", Action: "goto", DurationSeconds: 0.9, Success: true},
				{Name: "place order", Action: "click", DurationSeconds: 1.1, Error: `POST https://shop.example/checkout?a=1&b=<2> returned HTTP 500`},
			},
			Error: &result.Error{Step: "place order", Kind: scenarios.KindNavigation,
				Message: `POST https://shop.example/checkout?a=1&b=<2> returned HTTP 500`},
			Screenshots: []string{"artifacts/checkout/mobile/failure-place_order.png"},
		},
		{
			Flow: "search", Device: "desktop", DeviceClass: "desktop", StartedAt: started.Add(2 * time.Second),
			Attempts: 2, DurationSeconds: 0.75,
			Steps: []result.Step{
				{Name: "open home", Action: "goto", DurationSeconds: 0.75, Error: "Chrome went away (target closed)"},
			},
			Error: &result.Error{Step: "open home", Kind: scenarios.KindBrowser, Message: "Chrome went away (target closed)"},
		},
	}
}

func auditResults() []*result.Result {
	step := func(success bool, msg string) []result.Step {
		return []result.Step{
			{Name: "open checkout", Action: "goto", DurationSeconds: 0.4, Success: true},
			{Name: "checkout usable", Action: "audit", DurationSeconds: 0.12, Success: success, Error: msg},
			{Name: "phones only", Action: "audit", Success: true, Skipped: true},
		}
	}
	overflow := result.Finding{Rule: "horizontal-overflow", Step: "checkout usable", URL: "https://shop.example/checkout", Count: 1,
		Message:  "the page is 720 px wide on a 393 px wide screen, so users must scroll sideways; 1 element sticks out",
		Examples: []result.Example{{Selector: "#promo", X: 16, Y: 80.5, Width: 720, Height: 48}}}
	label := result.Finding{Rule: "a11y-label", Step: "checkout usable", URL: "https://shop.example/checkout", Count: 1,
		Message: "Form elements must have labels", Impact: "critical", WCAG: []string{"4.1.2"}, HelpURL: "https://dequeuniversity.com/rules/axe/4.10/label",
		Examples: []result.Example{{Selector: "#email", X: 16, Y: 176, Width: 361, Height: 42}}}
	msg := "the audit found horizontal-overflow (1): #promo; a11y-label (1): #email"
	return []*result.Result{
		{
			Flow: "mobile-audit", Device: "desktop", DeviceClass: "desktop", StartedAt: started, Success: true, Attempts: 1, DurationSeconds: 0.6,
			Steps: step(true, ""),
			Findings: []result.Finding{{Rule: "image-dimensions", Step: "checkout usable", URL: "https://shop.example/checkout", Count: 2,
				Message: "2 images have no width and height attributes", Examples: []result.Example{{Selector: "img.logo", Width: 80, Height: 20}}}},
		},
		{
			Flow: "mobile-audit", Device: "mobile", DeviceClass: "mobile", StartedAt: started, Attempts: 1, DurationSeconds: 0.7,
			Steps: step(false, msg)[:2], Findings: []result.Finding{overflow, label},
			Error: &result.Error{Step: "checkout usable", Kind: scenarios.KindAudit, Message: msg},
		},
	}
}

func TestWriteGolden(t *testing.T) {
	tests := []struct {
		name    string
		results []*result.Result
		golden  string
		// What CI systems count, checked apart from the golden file so that
		// an -update cannot quietly accept wrong totals.
		tests, failures, errors int
	}{
		{"report", reportResults(), "report.xml", 3, 1, 1},
		{"no results", nil, "empty.xml", 0, 0, 0},
		// Each audit step is a case of its own: on desktop it found
		// something without failing, on mobile it failed the run.
		{"audit steps", auditResults(), "audit.xml", 4, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, tt.results); err != nil {
				t.Fatal(err)
			}
			got := buf.Bytes()
			path := filepath.Join("testdata", tt.golden)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run `go test ./exporters/junit -update` to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Write output differs from %s (rerun with -update and review the diff):\n--- got\n%s\n--- want\n%s", path, got, want)
			}

			var doc struct {
				Tests    int `xml:"tests,attr"`
				Failures int `xml:"failures,attr"`
				Errors   int `xml:"errors,attr"`
			}
			if err := xml.Unmarshal(got, &doc); err != nil {
				t.Fatalf("not well-formed XML: %v", err)
			}
			if doc.Tests != tt.tests || doc.Failures != tt.failures || doc.Errors != tt.errors {
				t.Errorf("tests=%d failures=%d errors=%d, want %d, %d, %d", doc.Tests, doc.Failures, doc.Errors, tt.tests, tt.failures, tt.errors)
			}
		})
	}
}

// TestWriteOutcomes pins which element each outcome becomes: a CI system
// shows a <failure> as "the site is broken" and an <error> as "the test is
// broken", and a cancelled run says nothing about the site.
func TestWriteOutcomes(t *testing.T) {
	tests := []struct {
		name               string
		err                *result.Error
		wantFailure, wantE bool
	}{
		{"success", nil, false, false},
		{"navigation", &result.Error{Step: "s", Kind: scenarios.KindNavigation, Message: "m"}, true, false},
		{"assertion", &result.Error{Step: "s", Kind: scenarios.KindAssertion, Message: "m"}, true, false},
		{"browser", &result.Error{Step: "s", Kind: scenarios.KindBrowser, Message: "m"}, false, true},
		{"cancelled", &result.Error{Step: "s", Kind: scenarios.KindCancelled, Message: "m"}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &result.Result{Flow: "f", Device: "desktop", StartedAt: started, Success: tt.err == nil, Error: tt.err}
			var buf bytes.Buffer
			if err := Write(&buf, []*result.Result{r}); err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Suites []struct {
					Cases []struct {
						Failure *struct {
							Type string `xml:"type,attr"`
						} `xml:"failure"`
						Error *struct {
							Type string `xml:"type,attr"`
						} `xml:"error"`
					} `xml:"testcase"`
				} `xml:"testsuite"`
			}
			if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			if len(doc.Suites) != 1 || len(doc.Suites[0].Cases) != 1 {
				t.Fatalf("want one suite with one case:\n%s", buf.String())
			}
			c := doc.Suites[0].Cases[0]
			if (c.Failure != nil) != tt.wantFailure || (c.Error != nil) != tt.wantE {
				t.Fatalf("failure %v, error %v; want failure %v, error %v:\n%s", c.Failure != nil, c.Error != nil, tt.wantFailure, tt.wantE, buf.String())
			}
			for _, p := range []*struct {
				Type string `xml:"type,attr"`
			}{c.Failure, c.Error} {
				if p != nil && p.Type != string(tt.err.Kind) {
					t.Errorf("type %q, want the kind %q", p.Type, tt.err.Kind)
				}
			}
		})
	}
}

// TestControlCharactersKeepTheReportValid: a step name or a page's message
// with control characters must not make the report invalid XML, and what
// was there stays visible.
func TestControlCharactersKeepTheReportValid(t *testing.T) {
	nasty := "bell\a nul\x00 esc\x1b[31m vt\v ff\f del\x7f bad\xff end ]]> tab\tnl\n"
	tests := []struct {
		name string
		res  *result.Result
	}{
		{"step name and message", &result.Result{Flow: "f", Device: "desktop", StartedAt: started,
			Steps: []result.Step{{Name: "step " + nasty, Action: "eval", Error: nasty}},
			Error: &result.Error{Step: "step " + nasty, Kind: scenarios.KindAssertion, Message: nasty}}},
		{"browser error", &result.Result{Flow: "f", Device: "custom\x01device", StartedAt: started,
			Steps: []result.Step{{Name: "s", Action: "goto", Error: nasty}},
			Error: &result.Error{Step: "s", Kind: scenarios.KindBrowser, Message: nasty}}},
		{"screenshot path", &result.Result{Flow: "f", Device: "desktop", StartedAt: started, Success: true,
			Steps: []result.Step{{Name: "s", Action: "screenshot", Success: true}}, Screenshots: []string{"a\x02b.png"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, []*result.Result{tc.res}); err != nil {
				t.Fatal(err)
			}
			dec := xml.NewDecoder(&buf)
			for {
				_, err := dec.Token()
				if err != nil {
					if err.Error() != "EOF" {
						t.Fatalf("the report is not valid XML: %v\n%s", err, buf.String())
					}
					break
				}
			}
		})
	}
	if got, want := xmlSafe("a\x1bb\x00c\xffd\tx\u0085"), `a\x1bb\x00c\xffd`+"\tx\u0085"; got != want {
		t.Errorf("xmlSafe = %q, want %q", got, want)
	}
}
