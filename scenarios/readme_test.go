package scenarios

import (
	"os"
	"regexp"
	"strconv"
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
	names = append(names, AuditRuleNames()...)
	for _, k := range ErrorKinds {
		names = append(names, string(k))
	}
	for _, n := range names {
		if !strings.Contains(readme, "`"+n+"`") {
			t.Errorf("README.md does not mention `%s`", n)
		}
	}
}

// TestReadmeExampleFlowValidates keeps the README's first flow, the one a
// newcomer copies, a valid flow.
func TestReadmeExampleFlowValidates(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "## A first flow")
	if !ok {
		t.Fatal("README.md has no section \"A first flow\"")
	}
	_, block, ok := strings.Cut(rest, "```yaml\n")
	if !ok {
		t.Fatal("the first-flow section has no yaml block")
	}
	block, _, _ = strings.Cut(block, "```")
	flows, err := Parse("README.md", []byte(block), LoadOptions{})
	if err != nil {
		t.Fatalf("the README's first flow does not validate:\n%v", err)
	}
	if len(flows) != 1 || len(flows[0].Steps) < 3 {
		t.Fatalf("got %d flows, want the one search flow", len(flows))
	}
}

// TestReadmeDeviceTable keeps the README's device aliases true to the
// presets they come from: a size or scale written from memory (the Pixel 5
// was once documented at scale 2.75; chromedp's preset says 3) fails here.
func TestReadmeDeviceTable(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z-]+)` \\|[^|]*?(\\d+)x(\\d+), scale ([0-9.]+)")
	seen := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(string(data), -1) {
		name := m[1]
		d, ok := LookupDevice(name)
		if !ok {
			t.Errorf("README's device table lists %q, which is no device", name)
			continue
		}
		seen[name] = true
		w, _ := strconv.ParseInt(m[2], 10, 64)
		h, _ := strconv.ParseInt(m[3], 10, 64)
		scale, _ := strconv.ParseFloat(m[4], 64)
		if w != d.Width || h != d.Height || scale != d.Scale {
			t.Errorf("README says %s is %dx%d at scale %v; the device is %dx%d at scale %v", name, w, h, scale, d.Width, d.Height, d.Scale)
		}
	}
	for _, alias := range []string{"desktop", "desktop-hd", "mobile", "tablet"} {
		if !seen[alias] {
			t.Errorf("README's device table has no row of the form \"| `%s` | ... WxH, scale S\"", alias)
		}
	}
}
