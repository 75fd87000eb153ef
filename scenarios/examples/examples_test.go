package examples

import (
	"bytes"
	"io/fs"
	"slices"
	"testing"

	"gopkg.in/yaml.v3"
)

// The loader that validates flows fully lives elsewhere; this only catches a
// file that is missing, misnamed or not YAML at all.
func TestExamples(t *testing.T) {
	tests := []struct {
		file, name string
	}{
		{"search.yaml", "search"},
		{"checkout.yaml", "checkout"},
		{"help-visible.yaml", "help-visible"},
		{"mobile-audit.yaml", "mobile-audit"},
		{"checkout-visual.yaml", "checkout-visual"},
		{"help-topics.yaml", "help-topics"},
		{"account-login.yaml", "account-login"},
		{"account-overview.yaml", "account-overview"},
		{"account-avatar.yaml", "account-avatar"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := fs.ReadFile(FS, tt.file)
			if err != nil {
				t.Fatal(err)
			}
			const schema = "# yaml-language-server: $schema=../flow.schema.json\n"
			if !bytes.HasPrefix(data, []byte(schema)) {
				t.Errorf("%s does not start with %q", tt.file, schema)
			}
			var flow struct {
				Name  string           `yaml:"name"`
				Vars  map[string]any   `yaml:"vars"`
				Steps []map[string]any `yaml:"steps"`
			}
			if err := yaml.Unmarshal(data, &flow); err != nil {
				t.Fatalf("%s: %v", tt.file, err)
			}
			if flow.Name != tt.name {
				t.Errorf("%s: name = %q, want %q", tt.file, flow.Name, tt.name)
			}
			if _, ok := flow.Vars["base_url"]; !ok {
				t.Errorf("%s: no base_url var for the demo command to override", tt.file)
			}
			if len(flow.Steps) == 0 {
				t.Errorf("%s: no steps", tt.file)
			}
		})
	}

	// A file added without a case above would ship untested.
	files, err := fs.Glob(FS, "*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !slices.ContainsFunc(tests, func(tt struct{ file, name string }) bool { return tt.file == f }) {
			t.Errorf("%s is embedded but not tested", f)
		}
	}
}
