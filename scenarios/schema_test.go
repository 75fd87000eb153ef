package scenarios

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

const schemaFile = "flow.schema.json"

// TestSchemaUpToDate regenerates the JSON Schema and compares it with the
// checked-in file; run `go test ./scenarios -run TestSchemaUpToDate -update`
// after changing the model's tables.
func TestSchemaUpToDate(t *testing.T) {
	got, err := JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(schemaFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is out of date; run go test ./scenarios -run TestSchemaUpToDate -update and review the diff", schemaFile)
	}
}

func TestSchemaCoversModel(t *testing.T) {
	data, err := JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(data) {
		t.Fatal("the schema is not valid JSON")
	}
	var s map[string]any
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	if s["$schema"] != "http://json-schema.org/draft-07/schema#" {
		t.Errorf("$schema = %v", s["$schema"])
	}
	props := s["properties"].(map[string]any)
	for _, k := range flowKeys {
		p, ok := props[k].(map[string]any)
		if !ok {
			t.Errorf("flow key %q is missing", k)
			continue
		}
		if p["description"] == "" || p["description"] == nil {
			t.Errorf("flow key %q has no description", k)
		}
	}
	if len(props) != len(flowKeys) {
		t.Errorf("%d flow properties, want %d", len(props), len(flowKeys))
	}

	defs := s["definitions"].(map[string]any)
	steps := defs["step"].(map[string]any)["oneOf"].([]any)
	if len(steps) != len(actionSpecs) {
		t.Fatalf("%d step variants, want one per action (%d)", len(steps), len(actionSpecs))
	}
	for i, name := range ActionNames() {
		v := steps[i].(map[string]any)
		sp := v["properties"].(map[string]any)
		if v["title"] != name || sp[name] == nil {
			t.Errorf("step variant %d is %v, want action %q", i, v["title"], name)
		}
		req := v["required"].([]any)
		if len(req) != 1 || req[0] != name {
			t.Errorf("step %q requires %v, want only its action", name, req)
		}
		for _, k := range commonStepKeys {
			if sp[k] == nil {
				t.Errorf("step %q lacks common key %q", name, k)
			}
		}
		if len(sp) != len(commonStepKeys)+1 {
			t.Errorf("step %q has %d keys, want its action and the common keys", name, len(sp))
		}
	}
	dev := defs["customDevice"].(map[string]any)["properties"].(map[string]any)
	for _, k := range customDeviceKeys {
		if dev[k] == nil {
			t.Errorf("custom device key %q is missing", k)
		}
	}
	net := props["network"].(map[string]any)["enum"].([]any)
	for i, n := range networkNames() {
		if i >= len(net) || net[i] != n {
			t.Errorf("network enum %v, want %v", net, networkNames())
			break
		}
	}

	// Every object schema with properties is closed, so that a typo is an
	// editor error, as it is a loader error.
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if _, has := x["properties"]; has && x["additionalProperties"] != false {
				t.Errorf("%s: object without additionalProperties: false", path)
			}
			for k, c := range x {
				walk(path+"/"+k, c)
			}
		case []any:
			for _, c := range x {
				walk(path+"/[]", c)
			}
		}
	}
	walk("#", s)
}
