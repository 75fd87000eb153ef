package scenarios

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeDocumentsTheFormat keeps the README's format reference true: a
// new action, flow key, step key, device alias, network profile, key name or
// error kind that the README does not describe fails here.
func TestReadmeDocumentsTheFormat(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	var names []string
	names = append(names, ActionNames()...)
	names = append(names, FlowKeys()...)
	names = append(names, StepKeys()...)
	names = append(names, "desktop", "desktop-hd", "mobile", "tablet")
	for _, p := range NetworkProfiles() {
		names = append(names, p.Name)
	}
	names = append(names, KeyNames()...)
	for _, k := range ErrorKinds {
		names = append(names, string(k))
	}
	for _, n := range names {
		if !strings.Contains(readme, "`"+n+"`") {
			t.Errorf("README.md does not mention `%s`", n)
		}
	}
}
