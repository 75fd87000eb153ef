package examples_test

import (
	"slices"
	"testing"

	"github.com/uxprobe/uxprobe/agent/demoshop"
	"github.com/uxprobe/uxprobe/scenarios"
	"github.com/uxprobe/uxprobe/scenarios/examples"
)

// The shipped flows must pass the same loader that users' flows do, with the
// base URL overridden the way the demo command does it.
func TestExamplesLoad(t *testing.T) {
	flows, err := scenarios.LoadFS(examples.FS, scenarios.LoadOptions{
		Vars:      map[string]string{"base_url": "http://127.0.0.1:1"},
		LookupEnv: demoshop.DemoEnv(func(string) (string, bool) { return "", false }),
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range flows {
		names = append(names, f.Name)
	}
	slices.Sort(names)
	if want := []string{"account-avatar", "account-login", "account-overview", "checkout", "checkout-visual", "help-topics", "help-visible", "mobile-audit", "search"}; !slices.Equal(names, want) {
		t.Errorf("flows = %v, want %v", names, want)
	}
}
