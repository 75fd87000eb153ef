package scenarios

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func (p *fakePage) Snapshot(context.Context, SnapshotOptions) ([]byte, error) {
	return []byte("png"), nil
}

// baselinePage is a fakePage that keeps baselines: it records what
// assert_screenshot asked of it.
type baselinePage struct {
	fakePage
	gotName      string
	gotThreshold float64
	err          error
}

func (p *baselinePage) CompareBaseline(_ context.Context, name string, png []byte, threshold float64) error {
	p.gotName, p.gotThreshold = name, threshold
	if string(png) != "png" {
		return errors.New("not the snapshot")
	}
	return p.err
}

func TestAssertScreenshotLoads(t *testing.T) {
	for _, tc := range []struct {
		name string
		step string
		want AssertScreenshot
	}{
		{"scalar", "assert_screenshot: home", AssertScreenshot{Name: "home", Threshold: DefaultVisualThreshold}},
		{"mapping", "assert_screenshot: {name: cart, mask: ['#date', 'text=Today'], threshold: 0.02, full_page: true}", AssertScreenshot{
			Name: "cart", Threshold: 0.02, FullPage: true,
			Mask: []Selector{{Kind: SelectorCSS, Value: "#date"}, {Kind: SelectorText, Value: "Today"}},
		}},
		{"one mask", "assert_screenshot: {name: cart, mask: '.ad', threshold: 0}", AssertScreenshot{
			Name: "cart", Mask: []Selector{{Kind: SelectorCSS, Value: ".ad"}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			flows, err := Parse("a.yaml", []byte("name: a\nsteps:\n  - "+tc.step+"\n"), LoadOptions{LookupEnv: fakeEnv(nil)})
			if err != nil {
				t.Fatal(err)
			}
			if got := flows[0].Steps[0].Action; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("built %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestAssertScreenshotRejects(t *testing.T) {
	for _, tc := range []struct {
		name, step, want string
	}{
		{"threshold above 1", "assert_screenshot: {name: a, threshold: 2}", "share from 0 to 1"},
		{"threshold not a number", "assert_screenshot: {name: a, threshold: lots}", "share from 0 to 1"},
		{"bad mask", "assert_screenshot: {name: a, mask: ['xpath=//[']}", "assert_screenshot mask"},
		{"empty mask list", "assert_screenshot: {name: a, mask: []}", "mask is empty"},
		{"unsafe name", "assert_screenshot: ../etc", "file-safe"},
		{"no name", "assert_screenshot: {threshold: 0.1}", "missing name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("a.yaml", []byte("name: a\nsteps:\n  - "+tc.step+"\n"), LoadOptions{LookupEnv: fakeEnv(nil)})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one that says %q", err, tc.want)
			}
		})
	}
}

func TestAssertScreenshotDo(t *testing.T) {
	a := AssertScreenshot{Name: "home", Threshold: 0.05}
	p := &baselinePage{}
	if err := a.Do(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if p.gotName != "home" || p.gotThreshold != 0.05 {
		t.Errorf("compared %q at %v, want home at 0.05", p.gotName, p.gotThreshold)
	}
	p.err = Fail(KindVisual, "differs")
	wantStepError(t, a.Do(context.Background(), p), KindVisual, "differs")
	// A page that keeps no baselines cannot check: a clear error.
	wantStepError(t, a.Do(context.Background(), &fakePage{}), KindScript, "baselines")
}
