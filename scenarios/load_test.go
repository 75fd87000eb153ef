package scenarios

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

const validDir = "../testdata/flows/valid"

// testEnv is the environment the valid flows read through ${env:...}.
var testEnv = fakeEnv(map[string]string{
	"SHOP_EMAIL":    "guest@example.com",
	"SHOP_PASSWORD": "hunter2",
})

// parseFile parses one flow file of testdata with the fake environment.
func parseFile(t *testing.T, path string, opts LoadOptions) []*Flow {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if opts.LookupEnv == nil {
		opts.LookupEnv = testEnv
	}
	flows, err := Parse(displayPath(path), data, opts)
	if err != nil {
		t.Fatalf("Parse(%s): %v", path, err)
	}
	return flows
}

// describeStep renders a step in one line, so that a table of expected steps
// stays readable and compares actions without reaching into compiled regexps.
func describeStep(s Step) string {
	var a string
	switch x := s.Action.(type) {
	case Press:
		sel := "focused"
		if x.Selector != nil {
			sel = string(x.Selector.Kind) + ":" + x.Selector.Value
		}
		a = sel + " " + x.Key
	case AssertText:
		a = fmt.Sprintf("%s:%s %s", x.Selector.Kind, x.Selector.Value, x.Match)
	case AssertURL:
		a = x.Match.String()
	case AssertTitle:
		a = x.Match.String()
	default:
		a = fmt.Sprintf("%+v", x)
	}
	out := fmt.Sprintf("%s %s %s timeout=%v", s.Name, s.Action.Kind(), a, s.Timeout)
	if len(s.Only) > 0 {
		out += " only=" + strings.Join(s.Only, ",")
	}
	if s.Optional {
		out += " optional"
	}
	return out
}

func TestParseValidFlows(t *testing.T) {
	tests := []struct {
		file string
		opts LoadOptions
		want []wantFlow
	}{
		{
			file: "checkout.yaml",
			want: []wantFlow{{
				name:        "checkout",
				description: "Buy a lamp as a guest",
				schedule:    "*/10 * * * *",
				timeout:     90 * time.Second,
				stepTimeout: 15 * time.Second,
				retries:     2,
				devices:     []string{"desktop/desktop 1366x768", "mobile/mobile 393x851", "iPhone 15/mobile 393x659"},
				network:     "4g",
				cpu:         4,
				headers:     map[string]string{"X-Synthetic": "1", "X-Flow": "guest@example.com"},
				source:      "testdata/flows/valid/checkout.yaml:3:1",
				steps: []string{
					"1-goto goto {URL:http://127.0.0.1:8080/} timeout=15s",
					"2-click click {Selector:#menu} timeout=15s only=mobile",
					"open product click {Selector:a.result} timeout=15s",
					"4-hover hover {Selector:text=Add to cart} timeout=15s",
					"5-scroll_to scroll_to {Selector:xpath=//footer} timeout=15s",
					"6-fill fill {Selector:#email Value:guest@example.com Insert:false} timeout=15s",
					"7-fill fill {Selector:#password Value:hunter2 Insert:false} timeout=15s",
					"8-select select {Selector:select#country Value:Sweden} timeout=15s",
					"9-press press focused Enter timeout=15s",
					"10-wait_for wait_for {Selector:.confirmation State:visible} timeout=15s",
					"11-sleep sleep {Duration:250ms} timeout=15s",
					"12-assert_visible assert_visible {Selector:.confirmation InViewport:false} timeout=15s",
					`13-assert_text assert_text css:.total contains "$" timeout=15s`,
					`14-assert_url assert_url contains "/thanks" timeout=15s`,
					`15-assert_title assert_title contains "Thank you" timeout=15s`,
					"16-eval eval {Expression:document.querySelectorAll('.item').length > 0} timeout=15s",
					"17-screenshot screenshot {Name:thanks-page} timeout=3s optional",
				},
				masked: map[string]string{
					"login guest@example.com with hunter2": "login *** with ***",
					"nothing secret":                       "nothing secret",
				},
			}},
		},
		{
			file: "checkout.yaml",
			opts: LoadOptions{Vars: map[string]string{"base_url": "http://shop.test", "password": "s3cret"}},
			want: []wantFlow{{
				name: "checkout", description: "Buy a lamp as a guest", schedule: "*/10 * * * *",
				timeout: 90 * time.Second, stepTimeout: 15 * time.Second, retries: 2,
				devices: []string{"desktop/desktop 1366x768", "mobile/mobile 393x851", "iPhone 15/mobile 393x659"},
				network: "4g", cpu: 4,
				headers: map[string]string{"X-Synthetic": "1", "X-Flow": "guest@example.com"},
				source:  "testdata/flows/valid/checkout.yaml:3:1",
				firstSteps: []string{
					"1-goto goto {URL:http://shop.test/} timeout=15s",
				},
				stepAt: map[int]string{7: "7-fill fill {Selector:#password Value:s3cret Insert:false} timeout=15s"},
				// An override of a secret var is masked, and the file's value
				// is no longer a secret because it is no longer used.
				masked: map[string]string{"s3cret hunter2": "*** hunter2"},
			}},
		},
		{
			file: "mapping-forms.yaml",
			want: []wantFlow{
				{
					name: "mapping-forms", schedule: DefaultSchedule, timeout: DefaultTimeout, stepTimeout: DefaultStepTimeout,
					devices: []string{"desktop-hd/desktop 1920x1080", "tablet/tablet 768x1024", "Pixel 5/mobile 393x851", "kiosk/desktop 1080x1920", "small-phone/mobile 320x568"},
					network: "none",
					source:  "testdata/flows/valid/mapping-forms.yaml:3:1",
					steps: []string{
						"1-goto goto {URL:https://example.com/?q=lamp} timeout=10s",
						"2-click click {Selector:text=Search} timeout=10s",
						"3-hover hover {Selector:nav} timeout=10s",
						"4-scroll_to scroll_to {Selector:footer} timeout=10s",
						"5-press press css:input[name=q] Tab timeout=10s",
						"6-wait_for wait_for {Selector:#spinner State:hidden} timeout=10s",
						"7-wait_for wait_for {Selector:#results State:present} timeout=10s",
						"8-sleep sleep {Duration:1s} timeout=10s",
						"9-assert_visible assert_visible {Selector:#results InViewport:true} timeout=10s",
						`10-assert_text assert_text css:#count equals "3 results" timeout=10s`,
						`11-assert_text assert_text css:#count matches "^[0-9]+ results$" timeout=10s`,
						`12-assert_url assert_url equals "https://example.com/?q=lamp" timeout=10s`,
						`13-assert_url assert_url matches "q=la?mp" timeout=10s`,
						`14-assert_title assert_title equals "Search" timeout=10s`,
						`15-assert_title assert_title contains "Sea" timeout=10s`,
						`16-assert_title assert_title matches "^S" timeout=10s`,
						"17-eval eval {Expression:window.ready === true} timeout=10s",
						"18-screenshot screenshot {Name:results.v2} timeout=10s only=kiosk,tablet",
						"last press focused a timeout=10s only=desktop",
					},
				},
				{
					name: "minimal", schedule: DefaultSchedule, timeout: DefaultTimeout, stepTimeout: DefaultStepTimeout,
					devices: []string{"desktop/desktop 1366x768", "mobile/mobile 393x851"},
					network: "none",
					source:  "testdata/flows/valid/mapping-forms.yaml:43:1",
					steps:   []string{"1-goto goto {URL:https://example.com/} timeout=10s"},
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			flows := parseFile(t, filepath.Join(validDir, tt.file), tt.opts)
			if len(flows) != len(tt.want) {
				t.Fatalf("got %d flows, want %d", len(flows), len(tt.want))
			}
			for i, w := range tt.want {
				w.check(t, flows[i])
			}
		})
	}
}

// wantFlow is the expected typed model of one flow.
type wantFlow struct {
	name, description, schedule string
	timeout, stepTimeout        time.Duration
	retries                     int
	devices                     []string // "name/class WxH"
	network                     string
	cpu                         float64
	headers                     map[string]string
	source                      string
	steps                       []string // every step, by describeStep
	firstSteps                  []string // a prefix of the steps, when steps is nil
	stepAt                      map[int]string
	masked                      map[string]string // input of Flow.Mask -> output
}

func (w wantFlow) check(t *testing.T, f *Flow) {
	t.Helper()
	if f.Name != w.name || f.Description != w.description || f.Schedule != w.schedule {
		t.Errorf("name, description, schedule = %q, %q, %q; want %q, %q, %q", f.Name, f.Description, f.Schedule, w.name, w.description, w.schedule)
	}
	if f.Timeout != w.timeout || f.StepTimeout != w.stepTimeout || f.Retries != w.retries {
		t.Errorf("timeout, step_timeout, retries = %v, %v, %d; want %v, %v, %d", f.Timeout, f.StepTimeout, f.Retries, w.timeout, w.stepTimeout, w.retries)
	}
	var devs []string
	for _, d := range f.Devices {
		devs = append(devs, fmt.Sprintf("%s/%s %dx%d", d.Name, d.Class, d.Width, d.Height))
	}
	if !reflect.DeepEqual(devs, w.devices) {
		t.Errorf("devices = %q, want %q", devs, w.devices)
	}
	if f.Network.Name != w.network || f.CPUSlowdown != w.cpu {
		t.Errorf("network, cpu_slowdown = %q, %v; want %q, %v", f.Network.Name, f.CPUSlowdown, w.network, w.cpu)
	}
	if len(f.Headers)+len(w.headers) > 0 && !reflect.DeepEqual(f.Headers, w.headers) {
		t.Errorf("headers = %v, want %v", f.Headers, w.headers)
	}
	if f.Source.String() != w.source {
		t.Errorf("source = %s, want %s", f.Source, w.source)
	}
	var steps []string
	for i, s := range f.Steps {
		if s.Index != i+1 {
			t.Errorf("step %d has index %d", i+1, s.Index)
		}
		steps = append(steps, describeStep(s))
	}
	if w.steps != nil {
		if len(steps) != len(w.steps) {
			t.Errorf("got %d steps, want %d:\n%s", len(steps), len(w.steps), strings.Join(steps, "\n"))
		}
		for i := range min(len(steps), len(w.steps)) {
			if steps[i] != w.steps[i] {
				t.Errorf("step %d:\n got %s\nwant %s", i+1, steps[i], w.steps[i])
			}
		}
	}
	for i, s := range w.firstSteps {
		if i >= len(steps) || steps[i] != s {
			t.Errorf("step %d: got %v, want %s", i+1, steps[i:i+1], s)
		}
	}
	for i, s := range w.stepAt {
		if i > len(steps) || steps[i-1] != s {
			t.Errorf("step %d: got %v, want %s", i, steps[i-1:i], s)
		}
	}
	for in, want := range w.masked {
		if got := f.Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStepRunsOn(t *testing.T) {
	flows := parseFile(t, filepath.Join(validDir, "mapping-forms.yaml"), LoadOptions{})
	f := flows[0]
	shot := f.Steps[17] // only: [kiosk, tablet]
	tests := []struct {
		device string
		want   bool
	}{
		{"kiosk", true},       // by name
		{"tablet", true},      // by class
		{"desktop-hd", false}, // a desktop, but neither named nor of class tablet
		{"small-phone", false},
	}
	for _, tt := range tests {
		d, ok := f.Device(tt.device)
		if !ok {
			t.Fatalf("flow has no device %q", tt.device)
		}
		if got := shot.RunsOn(d); got != tt.want {
			t.Errorf("RunsOn(%s) = %v, want %v", tt.device, got, tt.want)
		}
		if !f.Steps[0].RunsOn(d) {
			t.Errorf("a step without only: must run on %s", tt.device)
		}
	}
	if _, ok := f.Device("desktop"); ok {
		t.Error("Device found a device the flow does not run on")
	}
}

func TestMaskLongestSecretFirst(t *testing.T) {
	src := "name: m\nvars: {a: abc, b: abcdef}\nsecrets: [a, b]\nsteps:\n  - goto: https://example.com/\n"
	flows, err := Parse("m.yaml", []byte(src), LoadOptions{LookupEnv: fakeEnv(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if got := flows[0].Mask("x abcdef y abc"); got != "x *** y ***" {
		t.Errorf("Mask = %q; a secret containing another must be masked whole", got)
	}
}

// writeFiles creates flow files in a temporary directory.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func flowYAML(name string) string {
	return "name: " + name + "\nsteps:\n  - goto: https://example.com/" + name + "\n"
}

func TestLoad(t *testing.T) {
	opts := LoadOptions{LookupEnv: testEnv}
	t.Run("directory", func(t *testing.T) {
		results, err := Load([]string{validDir}, opts)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range results {
			if r.Err != nil {
				t.Errorf("%s: %v", r.Path, r.Err)
			}
			for _, f := range r.Flows {
				got = append(got, filepath.Base(r.Path)+":"+f.Name)
			}
		}
		want := []string{"checkout.yaml:checkout", "mapping-forms.yaml:mapping-forms", "mapping-forms.yaml:minimal"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("flows = %q, want %q", got, want)
		}
		if len(results) != 2 {
			t.Errorf("got %d file results, want 2", len(results))
		}
	})

	t.Run("duplicate across files", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{
			"a.yaml":    flowYAML("shared") + "---\n" + flowYAML("only-a"),
			"b/b.yml":   flowYAML("shared") + "---\n" + flowYAML("only-b"),
			"c.yaml":    flowYAML("only-c"),
			"notes.txt": "not a flow file",
			"d/skip.md": "# not a flow file either",
		})
		results, err := Load([]string{dir}, opts)
		if err != nil {
			t.Fatal(err)
		}
		byFile := map[string]FileResult{}
		for _, r := range results {
			rel, _ := filepath.Rel(dir, r.Path)
			byFile[filepath.ToSlash(rel)] = r
		}
		if len(byFile) != 3 {
			t.Fatalf("loaded %d files, want the 3 .yaml/.yml files", len(byFile))
		}
		if a := byFile["a.yaml"]; a.Err != nil || len(a.Flows) != 2 {
			t.Errorf("a.yaml: %d flows, %v; the first definition must load", len(a.Flows), a.Err)
		}
		b := byFile["b/b.yml"]
		if b.Flows != nil {
			t.Errorf("b/b.yml gave %d flows; a file with an error gives none", len(b.Flows))
		}
		want := filepath.Join(dir, "b/b.yml") + `:1:1: flow "shared": a flow with this name is already defined at ` + filepath.Join(dir, "a.yaml") + ":1:1; flow names must be unique"
		if b.Err == nil || b.Err.Error() != want {
			t.Errorf("b/b.yml error:\n got %v\nwant %s", b.Err, want)
		}
		// only-b was dropped with its file, so c.yaml may not clash with it,
		// and c.yaml loads.
		if c := byFile["c.yaml"]; c.Err != nil || len(c.Flows) != 1 {
			t.Errorf("c.yaml: %d flows, %v", len(c.Flows), c.Err)
		}
	})

	t.Run("broken file does not hide others", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{
			"1-good.yaml":   flowYAML("good-one"),
			"2-broken.yaml": "name: broken\nsteps: [\n",
			"3-half.yaml":   flowYAML("half-good") + "---\nname: half-bad\nsteps: []\n",
			"4-good.yaml":   flowYAML("good-two"),
		})
		results, err := Load([]string{dir}, opts)
		if err != nil {
			t.Fatal(err)
		}
		var loaded []string
		var broken []string
		for _, r := range results {
			for _, f := range r.Flows {
				loaded = append(loaded, f.Name)
			}
			if r.Err != nil {
				var list ErrorList
				if !errors.As(r.Err, &list) {
					t.Errorf("%s: error %T, want ErrorList", r.Path, r.Err)
				}
				broken = append(broken, filepath.Base(r.Path))
			}
		}
		if want := []string{"good-one", "good-two"}; !reflect.DeepEqual(loaded, want) {
			t.Errorf("loaded %q, want %q", loaded, want)
		}
		if want := []string{"2-broken.yaml", "3-half.yaml"}; !reflect.DeepEqual(broken, want) {
			t.Errorf("broken %q, want %q", broken, want)
		}
	})

	t.Run("single file and missing path", func(t *testing.T) {
		results, err := Load([]string{filepath.Join(validDir, "checkout.yaml")}, opts)
		if err != nil || len(results) != 1 || len(results[0].Flows) != 1 {
			t.Fatalf("Load(checkout.yaml) = %v, %v", results, err)
		}
		// A missing path is an error of that path alone, so that the
		// other files still load (and a reload keeps the missing file's
		// previous flows).
		results, err = Load([]string{filepath.Join(validDir, "no-such-file.yaml"), filepath.Join(validDir, "checkout.yaml")}, opts)
		if err != nil || len(results) != 2 {
			t.Fatalf("Load = %v, %v; want a result per path", results, err)
		}
		if results[0].Err == nil || !strings.Contains(results[0].Err.Error(), "no-such-file.yaml") {
			t.Errorf("missing path gives %v, want an error naming it", results[0].Err)
		}
		if len(results[1].Flows) != 1 {
			t.Errorf("the file beside a missing one gives %v", results[1])
		}
	})
}

// TestNoFlowInFile: a file without a flow (empty, comments only, empty
// documents) is an error that names the file. Until issue 9 such a file
// was accepted silently, and a ConfigMap key emptied by mistake made its
// flows vanish without a word.
func TestNoFlowInFile(t *testing.T) {
	tests := []struct{ name, data string }{
		{"empty", ""},
		{"blank lines", "\n\n  \n"},
		{"comments only", "# nothing yet\n# really nothing\n"},
		{"empty documents", "---\n# one\n---\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			flows, err := Parse("flows/x.yaml", []byte(tt.data), LoadOptions{LookupEnv: fakeEnv(nil)})
			if len(flows) != 0 || err == nil || err.Error() != "flows/x.yaml: no flow in this file" {
				t.Errorf("got %d flows, error %v; want flows/x.yaml: no flow in this file", len(flows), err)
			}
		})
	}
	t.Run("files", func(t *testing.T) {
		results, err := Load([]string{"../testdata/flows/noflow"}, LoadOptions{LookupEnv: fakeEnv(nil)})
		if err != nil {
			t.Fatal(err)
		}
		if len(results) != 2 {
			t.Fatalf("got %d file results, want 2", len(results))
		}
		for _, r := range results {
			if r.Err == nil || r.Err.Error() != r.Path+": no flow in this file" {
				t.Errorf("%s: error %v, want %s: no flow in this file", r.Path, r.Err, r.Path)
			}
		}
	})
}

func TestLoadFS(t *testing.T) {
	fsys := fstest.MapFS{
		"a.yaml":      {Data: []byte(flowYAML("shared"))},
		"b/b.yaml":    {Data: []byte(flowYAML("shared") + "---\n" + flowYAML("other"))},
		"readme.txt":  {Data: []byte("not a flow")},
		"c/empty.yml": {Data: []byte("# nothing yet\n")},
	}
	flows, err := LoadFS(fsys, LoadOptions{LookupEnv: fakeEnv(nil)})
	var names []string
	for _, f := range flows {
		names = append(names, f.Name)
	}
	if want := []string{"shared", "other"}; !reflect.DeepEqual(names, want) {
		t.Errorf("flows = %q, want %q", names, want)
	}
	// c/empty.yml holds no flow: an error since issue 9, like any file.
	want := `b/b.yaml:1:1: flow "shared": a flow with this name is already defined at a.yaml:1:1; flow names must be unique` + "\nc/empty.yml: no flow in this file"
	if err == nil || err.Error() != want {
		t.Errorf("error:\n got %v\nwant %s", err, want)
	}
}

func TestParseEnvFromProcess(t *testing.T) {
	t.Setenv("UXPROBE_TEST_BASE", "http://from-env.test")
	src := "name: env\nvars: {base: \"${env:UXPROBE_TEST_BASE}\"}\nsteps:\n  - goto: ${base}/\n"
	flows, err := Parse("env.yaml", []byte(src), LoadOptions{}) // nil LookupEnv: the process environment
	if err != nil {
		t.Fatal(err)
	}
	if got := flows[0].Steps[0].Action.(Goto).URL; got != "http://from-env.test/" {
		t.Errorf("URL = %q", got)
	}
}

// TestVarsExpandOnceInValues shows that variables are expanded after parsing
// and only once: a value that contains YAML syntax or another ${...} is used
// as it is.
func TestVarsExpandOnceInValues(t *testing.T) {
	src := "name: once\nvars: {tricky: \"a: [b], ${x}\"}\nsteps:\n  - eval: \"'${tricky}'\"\n"
	flows, err := Parse("once.yaml", []byte(src), LoadOptions{LookupEnv: fakeEnv(nil)})
	if err == nil {
		// ${x} inside a var is looked up as a var only in the var's own
		// level, where no vars exist, so it is an error.
		t.Fatalf("want an error for ${x} inside a var value, got flows %v", flows)
	}
	src = "name: once\nvars: {tricky: \"a: [b], $x\"}\nsteps:\n  - eval: \"'${tricky}'\"\n"
	flows, err = Parse("once.yaml", []byte(src), LoadOptions{LookupEnv: fakeEnv(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if got := flows[0].Steps[0].Action.(Eval).Expression; got != "'a: [b], $x'" {
		t.Errorf("expression = %q", got)
	}
}

// TestAliasBudget builds files whose aliases name large nodes many times. A
// walk that followed them naively would take the product of their sizes; the
// node budget must stop it quickly with one clear error.
func TestAliasBudget(t *testing.T) {
	keys := func(n int) string {
		var b strings.Builder
		b.WriteString("{")
		for i := range n {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "k%d: 1", i)
		}
		b.WriteString("}")
		return b.String()
	}
	aliases := func(n int, name string) string {
		return "[" + strings.TrimSuffix(strings.Repeat("*"+name+", ", n), ", ") + "]"
	}
	const (
		budget = "too large or repeats aliases too often"
		limit  = "too many errors (100)"
	)
	tests := []struct {
		name, src, want string
	}{
		{"devices", "name: bomb\nx: &d " + keys(3000) + "\ndevices: " + aliases(3000, "d") + "\nsteps:\n  - goto: https://example.com/\n", limit},
		{"steps", "name: bomb\nx: &s " + keys(3000) + "\nsteps: " + aliases(3000, "s") + "\n", limit},
		{"only", "name: bomb\nx: &o [" + strings.TrimSuffix(strings.Repeat("desktop, ", 3000), ", ") + "]\nx2: &s {goto: /, only: *o}\nsteps: " + aliases(3000, "s") + "\n", budget},
		{"action params", "name: bomb\nx: &p " + keys(3000) + "\nsteps: [" + strings.TrimSuffix(strings.Repeat("{fill: *p}, ", 3000), ", ") + "]\n", limit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := Parse("bomb.yaml", []byte(tt.src), LoadOptions{LookupEnv: fakeEnv(nil)})
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("Parse took %v", d)
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("err = %v, want an ErrorList", err)
			}
			if len(list) > maxErrors+1 {
				t.Errorf("%d errors; at most %d are reported", len(list), maxErrors+1)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("no %q in %d errors:\n%.2000s", tt.want, len(list), err)
			}
		})
	}
}

// TestLoadSkipsHiddenFolders mirrors how Kubernetes mounts a ConfigMap: the
// files are links into a hidden, timestamped folder that must not be read a
// second time.
func TestLoadSkipsHiddenFolders(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "..2026_12_01_00_00_00.123")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	flow := []byte("name: one\nsteps:\n  - goto: http://127.0.0.1/\n")
	if err := os.WriteFile(filepath.Join(data, "one.yaml"), flow, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Base(data), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("..data", "one.yaml"), filepath.Join(dir, "one.yaml")); err != nil {
		t.Fatal(err)
	}
	results, err := Load([]string{dir}, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 1 || results[0].Err != nil || len(results[0].Flows) != 1 {
		t.Fatalf("got %+v, want the one flow once", results)
	}
}
