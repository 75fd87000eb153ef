package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse, seeded with every flow file of
// testdata. Parse reads user input, so it must never panic or hang, and what
// it returns must keep the promises the agent relies on.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"../testdata/flows/*/*.yaml", "../testdata/flows/*/*.yml"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, path := range files {
			data, err := os.ReadFile(path)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	env := fakeEnv(map[string]string{"SHOP_EMAIL": "guest@example.com", "SHOP_PASSWORD": "hunter2"})
	f.Fuzz(func(t *testing.T, data []byte) {
		flows, err := Parse("fuzz.yaml", data, LoadOptions{LookupEnv: env})
		for _, fl := range flows {
			if fl == nil {
				t.Fatal("nil flow")
			}
			if fl.Name == "" || len(fl.Steps) == 0 || len(fl.Devices) == 0 {
				t.Fatalf("flow %q returned with %d steps and %d devices", fl.Name, len(fl.Steps), len(fl.Devices))
			}
			for _, s := range fl.Steps {
				if s.Action == nil || s.Name == "" || s.Timeout <= 0 {
					t.Fatalf("flow %q: incomplete step %+v", fl.Name, s)
				}
			}
			if fl.Timeout <= 0 || fl.StepTimeout <= 0 {
				t.Fatalf("flow %q: timeouts %v, %v", fl.Name, fl.Timeout, fl.StepTimeout)
			}
		}
		if err == nil {
			return
		}
		var list ErrorList
		if !errors.As(err, &list) {
			t.Fatalf("error %T, want an ErrorList: %v", err, err)
		}
		if len(list) == 0 {
			t.Fatal("empty ErrorList returned as an error")
		}
		for _, e := range list {
			if ((e.Pos.Line < 1 || e.Pos.Column < 1) && e.Msg != msgNoFlow) || e.Pos.File != "fuzz.yaml" {
				t.Fatalf("error without a full position: %q", e.Error())
			}
		}
	})
}
