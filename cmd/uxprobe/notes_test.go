package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// TestCheckTableGolden fixes the table that ends a check and the notes
// after it: counts of console errors and failed requests, the first console
// error with its source, warnings, failed cleanup and dialogs.
func TestCheckTableGolden(t *testing.T) {
	results := []*result.Result{
		{Flow: "graph", Device: "desktop", Success: true, DurationSeconds: 1.5,
			Steps: []result.Step{
				{Name: "open tab", Action: "click", Success: true, Warnings: []string{"text=Graph matches 2 elements (a.nav-link, button.tab); the step used the first"}},
				{Name: "finally-1-request", Action: "request", Cleanup: true, Error: "DELETE http://127.0.0.1:9093/api/v2/silence/abc returned HTTP 500"},
			},
			ConsoleErrors:  []string{"TypeError: tooltip is undefined (http://127.0.0.1:9090/app.js:12)", "console.error: again"},
			FailedRequests: []result.FailedRequest{{URL: "http://127.0.0.1:9090/x.png", Status: 404}},
			Dialogs:        []result.Dialog{{Step: "delete", Type: "confirm", Message: "Delete it?"}},
		},
		{Flow: "graph", Device: "mobile", DurationSeconds: 10,
			Error: &result.Error{Step: "open tab", Kind: scenarios.KindTimeout, Message: "button.tab is covered by div.modal after 10s"}},
		{Flow: "quiet", Device: "desktop", Success: true, DurationSeconds: 0.25},
	}
	var b bytes.Buffer
	printTable(&b, results)
	path := filepath.Join("testdata", "check-table.golden")
	if *updateGolden {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/uxprobe -run TestCheckTableGolden -update to create it)", err)
	}
	if b.String() != string(want) {
		t.Errorf("table differs from %s (rerun with -update if intended):\n%s", path, b.String())
	}
	rows := checkTable(t, b.String())
	if len(rows) != 3 {
		t.Errorf("the notes were read as table rows: %v", rows)
	}
}
