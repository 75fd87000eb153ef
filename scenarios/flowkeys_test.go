package scenarios

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

// TestEveryFlowKeyIsDecoded gives each key of the table a value of the wrong
// shape and expects an error at that value: a key that is listed (so the
// loader accepts it) but whose value nobody reads would pass silently.
func TestEveryFlowKeyIsDecoded(t *testing.T) {
	const wrong = "{bogus: [1]}"
	for _, spec := range flowKeySpecs {
		t.Run(spec.name, func(t *testing.T) {
			if spec.doc == "" || spec.schema == nil || spec.decode == nil {
				t.Fatalf("flow key %q needs a doc, a schema and a decode function", spec.name)
			}
			doc := spec.name + ": " + wrong + "\n"
			if spec.name != "name" {
				doc += "name: keyed\n"
			}
			if spec.name != "steps" {
				doc += "steps: [{goto: /}]\n"
			}
			_, err := Parse("keys.yaml", []byte(doc), LoadOptions{LookupEnv: fakeEnv(nil)})
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("%s: %s gave no error; its value is never decoded", spec.name, wrong)
			}
			for _, e := range list {
				if e.Pos.Line == 1 && !strings.Contains(e.Msg, "unknown key") {
					return
				}
			}
			t.Errorf("%s: %s gave no error at its value, only:\n%v", spec.name, wrong, err)
		})
	}
}

// TestFlowKeyStagesKeepDependencies checks the decode order the loader relies
// on: a stage may only read what earlier stages set.
func TestFlowKeyStagesKeepDependencies(t *testing.T) {
	stage := map[string]decodeStage{}
	for _, s := range flowKeySpecs {
		stage[s.name] = s.stage
	}
	for _, dep := range [][2]string{
		{"name", "vars"},          // messages about vars name the flow
		{"vars", "secrets"},       // secrets name vars
		{"vars", "headers"},       // header values use ${var}
		{"step_timeout", "steps"}, // a step's timeout defaults to it
	} {
		if stage[dep[0]] >= stage[dep[1]] {
			t.Errorf("%s must decode in an earlier stage than %s", dep[0], dep[1])
		}
	}
	idx := map[string]int{}
	for i, s := range flowKeySpecs {
		idx[s.name] = i
	}
	if stage["devices"] != stage["steps"] || idx["devices"] > idx["steps"] {
		t.Error("devices must decode before steps, whose only: names the flow's devices")
	}
}

// TestReadmeFlowKeyTable keeps the README's table of flow keys the table of
// the loader: the same keys, in the same order.
func TestReadmeFlowKeyTable(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "## Flow format reference")
	if !ok {
		t.Fatal("README.md has no section \"Flow format reference\"")
	}
	_, table, ok := strings.Cut(rest, "| key | default | meaning |\n|---|---|---|\n")
	if !ok {
		t.Fatal("the flow format reference has no table of keys")
	}
	var keys []string
	for _, line := range strings.Split(table, "\n") {
		if !strings.HasPrefix(line, "| `") {
			break
		}
		k, _, _ := strings.Cut(strings.TrimPrefix(line, "| `"), "`")
		keys = append(keys, k)
	}
	if got, want := strings.Join(keys, " "), strings.Join(FlowKeys(), " "); got != want {
		t.Errorf("README flow keys\n got: %s\nwant: %s", got, want)
	}
}

// TestLoaderParsesTheSchedule: the loader keeps the parsed schedule next to
// its text, so that the agent never parses it again.
func TestLoaderParsesTheSchedule(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
	tests := []struct {
		name, schedule string
		want           time.Time
	}{
		{"default", "", t0.Add(5 * time.Minute)},
		{"every", "schedule: \"@every 2m\"\n", t0.Add(2 * time.Minute)},
		{"cron", "schedule: \"30 * * * *\"\n", time.Date(2026, 1, 2, 3, 30, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			flows, err := Parse("s.yaml", []byte("name: s\n"+tt.schedule+"steps: [{goto: /}]\n"), LoadOptions{LookupEnv: fakeEnv(nil)})
			if err != nil {
				t.Fatal(err)
			}
			f := flows[0]
			if f.Cron == nil {
				t.Fatal("no parsed schedule")
			}
			if got := f.Cron.Next(t0).UTC(); !got.Equal(tt.want) {
				t.Errorf("next run after %s is %s, want %s", t0, got, tt.want)
			}
		})
	}
}
