package scenarios

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// update rewrites golden files instead of comparing with them:
//
//	go test ./scenarios -update
var update = flag.Bool("update", false, "rewrite the golden files of the scenarios tests")

// invalidDir holds the broken flow files, relative to this package.
const invalidDir = "../testdata/flows/invalid"

// displayPath is the path a user would pass from the repository root; the
// golden files hold it so that they read like the agent's real output.
func displayPath(path string) string {
	return strings.TrimPrefix(filepath.ToSlash(path), "../")
}

// TestInvalidFlowsGolden parses every broken flow file and compares the full
// error text with its golden file, so that a change of wording or position is
// reviewed in the diff.
func TestInvalidFlowsGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(invalidDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 35 {
		t.Fatalf("found %d invalid flow files, want at least 35", len(files))
	}
	env := fakeEnv(map[string]string{})
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err = Parse(displayPath(path), data, LoadOptions{LookupEnv: env})
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Parse took %v; it must stay fast on any input", d)
			}
			if err == nil {
				t.Fatal("Parse returned no error for an invalid flow file")
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("Parse returned %T, want an ErrorList", err)
			}
			for _, e := range list {
				if e.Pos.Line < 1 || e.Pos.Column < 1 || e.Pos.File != displayPath(path) {
					t.Errorf("error without a full position: %q", e.Error())
				}
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(path, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./scenarios -run TestInvalidFlowsGolden -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("errors differ from %s\n got:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

// fakeEnv stands in for the process environment, so tests never depend on it.
func fakeEnv(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}
