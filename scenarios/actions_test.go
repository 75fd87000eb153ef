package scenarios

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// fakePage is a Page whose answers the test scripts. Text, URL and Title
// return the next value of their list on each call and then keep the last,
// which models a page that changes while an assertion waits.
type fakePage struct {
	texts   []string
	textErr error
	urls    []string
	titles  []string
	visible []bool
	visErr  error
	truthy  bool
	value   string
	evalErr error

	textCalls, urlCalls, titleCalls, visCalls int
}

var _ Page = (*fakePage)(nil)

func next[T any](list []T, calls *int) T {
	i := min(*calls, len(list)-1)
	*calls++
	return list[i]
}

func (p *fakePage) Navigate(context.Context, string) error                { return nil }
func (p *fakePage) Apply(context.Context, Selector, string, ...any) error { return nil }
func (p *fakePage) Focus(context.Context, *Selector, bool) error          { return nil }
func (p *fakePage) Keys(context.Context, []KeyStroke) error               { return nil }
func (p *fakePage) InsertText(context.Context, string) error              { return nil }
func (p *fakePage) AwaitNavigation(context.Context) error                 { return nil }
func (p *fakePage) Touchscreen() bool                                     { return false }
func (p *fakePage) WaitFor(context.Context, Selector, WaitState) error    { return nil }
func (p *fakePage) Screenshot(context.Context, string) error              { return nil }
func (p *fakePage) Locate(context.Context, Selector) (Target, error)      { return Target{}, nil }
func (p *fakePage) Pointer(context.Context, PointerAction, Point) error   { return nil }
func (p *fakePage) Audit(context.Context, []string, bool) error           { return nil }
func (p *fakePage) Eval(context.Context, string) (bool, string, error) {
	return p.truthy, p.value, p.evalErr
}
func (p *fakePage) URL(context.Context) (string, error)   { return next(p.urls, &p.urlCalls), nil }
func (p *fakePage) Title(context.Context) (string, error) { return next(p.titles, &p.titleCalls), nil }
func (p *fakePage) Visible(context.Context, Selector, bool) (bool, error) {
	if p.visErr != nil {
		return false, p.visErr
	}
	return next(p.visible, &p.visCalls), nil
}

func (p *fakePage) Text(context.Context, Selector) (string, error) {
	if p.textErr != nil {
		p.textCalls++
		return "", p.textErr
	}
	return next(p.texts, &p.textCalls), nil
}

func mustSelector(t *testing.T, s string) Selector {
	t.Helper()
	sel, err := ParseSelector(s)
	if err != nil {
		t.Fatal(err)
	}
	return sel
}

// withTimeout is a step's deadline, short so that failing assertions end fast.
func withTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// wantStepError checks the kind and that the message names every part.
func wantStepError(t *testing.T, err error, kind ErrorKind, parts ...string) {
	t.Helper()
	se := AsStepError(err)
	if se == nil {
		t.Fatalf("err = %v (%T), want a StepError of kind %s", err, err, kind)
	}
	if se.Kind != kind {
		t.Errorf("kind = %s, want %s (%s)", se.Kind, kind, se.Message)
	}
	for _, p := range parts {
		if !strings.Contains(se.Message, p) {
			t.Errorf("message %q does not mention %q", se.Message, p)
		}
	}
}

func TestAssertTextRetriesUntilMatch(t *testing.T) {
	page := &fakePage{texts: []string{"Loading…", "Loading…", "Total: 9.99"}}
	a := AssertText{Selector: mustSelector(t, ".total"), Match: TextMatch{Op: "contains", Want: "9.99"}}
	if err := a.Do(withTimeout(t, 2*time.Second), page); err != nil {
		t.Fatalf("Do: %v", err)
	}
	if page.textCalls != 3 {
		t.Errorf("Text called %d times, want 3: the assertion must look again until the page changes", page.textCalls)
	}
}

func TestAssertTextFails(t *testing.T) {
	page := &fakePage{texts: []string{"Total: 5.00"}}
	a := AssertText{Selector: mustSelector(t, ".total"), Match: TextMatch{Op: "equals", Want: "Total: 9.99"}}
	err := a.Do(withTimeout(t, 200*time.Millisecond), page)
	wantStepError(t, err, KindAssertion, ".total", `"Total: 5.00"`, `equals "Total: 9.99"`)
	if page.textCalls < 2 {
		t.Errorf("Text called %d times; the assertion gave up without waiting", page.textCalls)
	}
}

func TestAssertTextElementNotFound(t *testing.T) {
	page := &fakePage{textErr: Fail(KindElementNotFound, "no element matches .total")}
	a := AssertText{Selector: mustSelector(t, ".total"), Match: TextMatch{Op: "contains", Want: "x"}}
	err := a.Do(withTimeout(t, 150*time.Millisecond), page)
	// A missing element stays element_not_found, and is waited for: it may
	// still appear.
	wantStepError(t, err, KindElementNotFound, ".total")
	if page.textCalls < 2 {
		t.Errorf("Text called %d times; a missing element must be waited for", page.textCalls)
	}
}

func TestAssertTextOtherError(t *testing.T) {
	boom := errors.New("browser gone")
	page := &fakePage{textErr: boom}
	a := AssertText{Selector: mustSelector(t, ".total"), Match: TextMatch{Op: "contains", Want: "x"}}
	if err := a.Do(withTimeout(t, time.Second), page); !errors.Is(err, boom) {
		t.Errorf("err = %v, want the page's own error at once", err)
	}
	if page.textCalls != 1 {
		t.Errorf("Text called %d times; an error that is not a step error must not be retried", page.textCalls)
	}
}

func TestAssertVisible(t *testing.T) {
	t.Run("becomes visible", func(t *testing.T) {
		page := &fakePage{visible: []bool{false, false, true}}
		a := AssertVisible{Selector: mustSelector(t, "#done")}
		if err := a.Do(withTimeout(t, 2*time.Second), page); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("no element", func(t *testing.T) {
		page := &fakePage{visErr: Fail(KindElementNotFound, "nothing")}
		a := AssertVisible{Selector: mustSelector(t, "text=Thanks")}
		err := a.Do(withTimeout(t, 150*time.Millisecond), page)
		wantStepError(t, err, KindAssertion, "text=Thanks", "no element matches")
	})
	t.Run("stays hidden in viewport", func(t *testing.T) {
		page := &fakePage{visible: []bool{false}}
		a := AssertVisible{Selector: mustSelector(t, "#cta"), InViewport: true}
		err := a.Do(withTimeout(t, 150*time.Millisecond), page)
		wantStepError(t, err, KindAssertion, "#cta", "in the viewport without scrolling", "it is not")
	})
}

func TestAssertURLAndTitle(t *testing.T) {
	// re builds a matches expectation the way the loader does, because
	// the compiled expression is unexported.
	re := func(s string) TextMatch {
		flows, err := Parse("t.yaml", []byte("name: t\nsteps:\n  - assert_url: {matches: '"+s+"'}\n"), LoadOptions{LookupEnv: fakeEnv(nil)})
		if err != nil {
			t.Fatal(err)
		}
		return flows[0].Steps[0].Action.(AssertURL).Match
	}
	tests := []struct {
		name  string
		match TextMatch
		seen  []string
		ok    bool
	}{
		{"equals", TextMatch{Op: "equals", Want: "https://shop.test/thanks"}, []string{"https://shop.test/cart", "https://shop.test/thanks"}, true},
		{"equals is exact", TextMatch{Op: "equals", Want: "https://shop.test/thanks"}, []string{"https://shop.test/thanks?x=1"}, false},
		{"contains", TextMatch{Op: "contains", Want: "/thanks"}, []string{"https://shop.test/thanks?x=1"}, true},
		{"contains fails", TextMatch{Op: "contains", Want: "/thanks"}, []string{"https://shop.test/cart"}, false},
		{"matches", re(`/orders/[0-9]+$`), []string{"https://shop.test/orders/42"}, true},
		{"matches fails", re(`/orders/[0-9]+$`), []string{"https://shop.test/orders/new"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, what := range []string{"URL", "title"} {
				page := &fakePage{urls: tt.seen, titles: tt.seen}
				var a Action = AssertURL{Match: tt.match}
				if what == "title" {
					a = AssertTitle{Match: tt.match}
				}
				err := a.Do(withTimeout(t, 200*time.Millisecond), page)
				if tt.ok {
					if err != nil {
						t.Errorf("%s: %v", what, err)
					}
					continue
				}
				wantStepError(t, err, KindAssertion, "page "+what, tt.seen[len(tt.seen)-1], tt.match.String())
			}
		})
	}
}

func TestEval(t *testing.T) {
	ctx := context.Background()
	if err := (Eval{Expression: "1"}).Do(ctx, &fakePage{truthy: true, value: "1"}); err != nil {
		t.Errorf("truthy: %v", err)
	}
	err := Eval{Expression: "document.title === 'x'"}.Do(ctx, &fakePage{truthy: false, value: "false"})
	wantStepError(t, err, KindAssertion, "document.title === 'x'", "returned false", "truthy")
	thrown := Fail(KindScript, "ReferenceError: x is not defined")
	if err := (Eval{Expression: "x"}).Do(ctx, &fakePage{evalErr: thrown}); !errors.Is(err, thrown) {
		t.Errorf("a thrown exception: err = %v, want the script error", err)
	}
}

func TestSleep(t *testing.T) {
	start := time.Now()
	if err := (Sleep{Duration: 30 * time.Millisecond}).Do(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("slept %v, want 30ms", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	start = time.Now()
	err := Sleep{Duration: time.Hour}.Do(ctx, nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancelled sleep took %v", d)
	}
}

func TestParseSelector(t *testing.T) {
	tests := []struct {
		in      string
		want    Selector
		str     string
		wantErr bool
	}{
		{in: "#buy", want: Selector{SelectorCSS, "#buy"}, str: "#buy"},
		{in: "css=.a > .b", want: Selector{SelectorCSS, ".a > .b"}, str: ".a > .b"},
		{in: "text=Add to cart", want: Selector{SelectorText, "Add to cart"}, str: "text=Add to cart"},
		{in: "xpath=//button[1]", want: Selector{SelectorXPath, "//button[1]"}, str: "xpath=//button[1]"},
		// Only a prefix at the start counts; "=" elsewhere is CSS.
		{in: "input[name=text]", want: Selector{SelectorCSS, "input[name=text]"}, str: "input[name=text]"},
		{in: "", wantErr: true},
		{in: "   ", wantErr: true},
		{in: "text=", wantErr: true},
		{in: "xpath= ", wantErr: true},
		{in: "css=", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseSelector(tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("ParseSelector(%q) = %+v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseSelector(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
		if got.String() != tt.str {
			t.Errorf("%q.String() = %q, want %q", tt.in, got.String(), tt.str)
		}
	}
}

// TestActionKinds checks that every action of the table builds an action
// whose Kind is its own name, so results and metrics label steps correctly.
func TestActionKinds(t *testing.T) {
	samples := map[string]args{
		"sleep": {"duration": time.Second},
	}
	for _, spec := range actionSpecs {
		a := samples[spec.name]
		if a == nil {
			a = args{}
		}
		if got := spec.build(a).Kind(); got != spec.name {
			t.Errorf("action %q builds a %q", spec.name, got)
		}
		if spec.doc == "" {
			t.Errorf("action %q has no doc", spec.name)
		}
		if spec.scalar != "" && !contains(paramList(spec.params), spec.scalar) {
			t.Errorf("action %q: scalar parameter %q is not among its params", spec.name, spec.scalar)
		}
		for _, o := range spec.oneOf {
			if !contains(paramList(spec.params), o) {
				t.Errorf("action %q: oneOf %q is not among its params", spec.name, o)
			}
		}
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"a longer text", 6, "a long…"},
		{"ééééé", 3, "é…"}, // é is 2 bytes: never cut inside it
	}
	for _, tc := range tests {
		if got := Clip(tc.in, tc.max); got != tc.want {
			t.Errorf("Clip(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

// actionSamples is one valid step of each action. Its keys must be the
// table's actions: a new action needs a sample here, and so a test.
var actionSamples = map[string]string{
	"goto":              "goto: https://example.com/",
	"click":             "click: '#buy'",
	"hover":             "hover: '#menu'",
	"drag":              "drag: {from: '#card-1', to: '#done'}",
	"scroll_to":         "scroll_to: footer",
	"fill":              "fill: {selector: '#q', value: lamp}",
	"type":              "type: print(6*7)",
	"dblclick":          "dblclick: '#node'",
	"select":            "select: {selector: '#ship', value: express}",
	"press":             "press: Control+A",
	"wait_for":          "wait_for: {selector: '#late', state: hidden}",
	"sleep":             "sleep: 10ms",
	"assert_visible":    "assert_visible: '#cart'",
	"assert_text":       "assert_text: {selector: h1, contains: Lamp}",
	"assert_url":        "assert_url: /cart",
	"assert_title":      "assert_title: {equals: Cart}",
	"eval":              "eval: 'true'",
	"screenshot":        "screenshot: cart",
	"audit":             "audit: {rules: [tap-target-size], fail: true}",
	"extract":           "extract: {var: id, selector: '#order', pattern: 'ID (\\w+)'}",
	"close_tab":         "close_tab:",
	"request":           "request: {method: DELETE, url: 'https://example.com/api/x', status: 204}",
	"assert_screenshot": "assert_screenshot: {name: cart, mask: ['#date'], threshold: 0.01, full_page: true}",
	"upload":            "upload: {selector: '#avatar', files: [flow.schema.json]}", // relative to a.yaml, here
	"network":           "network: offline",
}

// TestKindComesFromTheTable: each action's Kind is its name in the table,
// for the value the loader builds, so the name is written once.
func TestKindComesFromTheTable(t *testing.T) {
	if len(actionKinds) != len(actionSpecs) {
		t.Fatalf("%d action types for %d actions: two actions share a type", len(actionKinds), len(actionSpecs))
	}
	var names []string
	for name := range actionSamples {
		names = append(names, name)
	}
	slices.Sort(names)
	want := slices.Sorted(slices.Values(ActionNames()))
	if !slices.Equal(names, want) {
		t.Fatalf("samples for %v, want one per action %v", names, want)
	}
	for _, spec := range actionSpecs {
		t.Run(spec.name, func(t *testing.T) {
			if spec.zero == nil || spec.zero.Kind() != spec.name {
				t.Fatalf("zero value %#v has Kind %q", spec.zero, kindOf(spec.zero))
			}
			flows, err := Parse("a.yaml", []byte("name: a\nsteps:\n  - "+actionSamples[spec.name]+"\n"), LoadOptions{LookupEnv: fakeEnv(nil)})
			if err != nil {
				t.Fatal(err)
			}
			a := flows[0].Steps[0].Action
			if a.Kind() != spec.name || reflect.TypeOf(a) != reflect.TypeOf(spec.zero) {
				t.Errorf("built %T with Kind %q, want %T with Kind %q", a, a.Kind(), spec.zero, spec.name)
			}
		})
	}
}
