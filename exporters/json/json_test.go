package json

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

func run(flow, device string, ok bool) *result.Result {
	r := &result.Result{Flow: flow, Device: device, DeviceClass: device, StartedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Success: ok, Attempts: 1, DurationSeconds: 1.5, Steps: []result.Step{{Name: "1-goto", Action: "goto", DurationSeconds: 1.5, Success: ok}},
		Pages: []result.Page{}, ConsoleErrors: []string{}, FailedRequests: []result.FailedRequest{}, Screenshots: []string{}}
	if !ok {
		r.Error = &result.Error{Step: "1-goto", Kind: scenarios.KindNavigation, Message: "HTTP 500"}
	}
	return r
}

func TestWriterKeepsEveryResultInOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.json")
	w := New(path)
	if w.Name() != "json" {
		t.Errorf("Name() = %q", w.Name())
	}
	want := []*result.Result{run("checkout", "desktop", true), run("checkout", "mobile", false), run("search", "desktop", true)}
	for i, r := range want {
		if err := w.Export(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		// After each result the file is a complete list of those so far.
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var got []result.Result
		if err := json.Unmarshal(data, &got); err != nil {
			t.Fatalf("after %d results the file is not a JSON list: %v\n%s", i+1, err, data)
		}
		if len(got) != i+1 {
			t.Fatalf("after %d results the file holds %d", i+1, len(got))
		}
		for j := range got {
			if got[j].Flow != want[j].Flow || got[j].Device != want[j].Device || got[j].Success != want[j].Success {
				t.Errorf("result %d is %s/%s, want %s/%s", j, got[j].Flow, got[j].Device, want[j].Flow, want[j].Device)
			}
		}
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), "[\n  {\n    \"flow\": \"checkout\",") || !strings.HasSuffix(string(data), "]\n") {
		t.Errorf("not the indented form ending in a newline:\n%s", data)
	}
}

func TestWriterConcurrentExports(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.json")
	w := New(path)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if err := w.Export(context.Background(), run("f", string(rune('a'+i)), true)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	data, _ := os.ReadFile(path)
	var got []result.Result
	if err := json.Unmarshal(data, &got); err != nil || len(got) != 20 {
		t.Fatalf("%d results (%v), want 20", len(got), err)
	}
}

func TestWriterError(t *testing.T) {
	w := New(filepath.Join(t.TempDir(), "no-such-dir", "results.json"))
	err := w.Export(context.Background(), run("f", "desktop", true))
	if err == nil || !strings.Contains(err.Error(), "no-such-dir") {
		t.Fatalf("error %v, want one naming the path", err)
	}
}

func TestMarshalEmpty(t *testing.T) {
	data, err := Marshal(nil)
	if err != nil || string(data) != "[]\n" {
		t.Fatalf("Marshal(nil) = %q, %v; want []", data, err)
	}
}
