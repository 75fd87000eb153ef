package scenarios

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseSelectorForms(t *testing.T) {
	tests := []struct {
		in      string
		segs    []Segment
		str     string
		wantErr string
	}{
		{in: "label=Email", segs: []Segment{{Kind: SelectorLabel, Value: "Email"}}, str: "label=Email"},
		{in: "placeholder=Search", segs: []Segment{{Kind: SelectorPlaceholder, Value: "Search"}}, str: "placeholder=Search"},
		{in: "testid=checkout", segs: []Segment{{Kind: SelectorTestID, Value: "checkout"}}, str: "testid=checkout"},
		{in: "role=button", segs: []Segment{{Kind: SelectorRole, Value: "button"}}, str: "role=button"},
		{in: `role=button[name="Place order"]`, segs: []Segment{{Kind: SelectorRole, Value: "button", Name: "Place order", HasName: true}}, str: `role=button[name="Place order"]`},
		{in: `role=link[name='a "b"']`, segs: []Segment{{Kind: SelectorRole, Value: "link", Name: `a "b"`, HasName: true}}, str: `role=link[name="a \"b\""]`},
		{in: `role=tab[name=""]`, segs: []Segment{{Kind: SelectorRole, Value: "tab", HasName: true}}, str: `role=tab[name=""]`},
		{in: "iframe#pay >> label=Card number", segs: []Segment{{Kind: SelectorCSS, Value: "iframe#pay"}, {Kind: SelectorLabel, Value: "Card number"}}, str: "iframe#pay >> label=Card number"},
		{in: "li>>nth=2", segs: []Segment{{Kind: SelectorCSS, Value: "li"}, {Kind: segmentNth, Nth: 2}}, str: "li >> nth=2"},
		{in: "li >> nth=-1", segs: []Segment{{Kind: SelectorCSS, Value: "li"}, {Kind: segmentNth, Nth: -1}}, str: "li >> nth=-1"},
		// ">>" inside quotes or brackets is part of the segment.
		{in: `role=button[name="Next >>"] >> span`, segs: []Segment{{Kind: SelectorRole, Value: "button", Name: "Next >>", HasName: true}, {Kind: SelectorCSS, Value: "span"}}, str: `role=button[name="Next >>"] >> span`},
		{in: `a[title=">>"]`, segs: []Segment{{Kind: SelectorCSS, Value: `a[title=">>"]`}}, str: `a[title=">>"]`},
		{in: "role=buton", wantErr: `unknown ARIA role "buton" (did you mean "button"?)`},
		{in: "role=button[name=Pay]", segs: []Segment{{Kind: SelectorRole, Value: "button", Name: "Pay", HasName: true}}, str: `role=button[name="Pay"]`},
		{in: "role=button[label=x]", wantErr: "is not of the form"},
		{in: "role=button[name=a\"b]", wantErr: "is not of the form"},
		{in: "nth=1", wantErr: "cannot come first"},
		{in: "li >> nth=x", wantErr: `segment 2 ("nth=x")`},
		{in: "li >> nth=-2", wantErr: "must be a whole number"},
		{in: "a >> ", wantErr: "empty segment between >>"},
		{in: "testid=", wantErr: "empty testid= selector"},
	}
	for _, tt := range tests {
		got, err := ParseSelector(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseSelector(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseSelector(%q): %v", tt.in, err)
			continue
		}
		if segs := got.Segments(); !reflect.DeepEqual(segs, tt.segs) {
			t.Errorf("ParseSelector(%q) segments = %+v, want %+v", tt.in, segs, tt.segs)
		}
		if got.String() != tt.str {
			t.Errorf("%q.String() = %q, want %q", tt.in, got.String(), tt.str)
		}
		// What String gives is what a user could write: it reads back the same.
		again, err := ParseSelector(got.String())
		if err != nil || again != got {
			t.Errorf("ParseSelector(%q) = %+v, %v; want %+v", got.String(), again, err, got)
		}
	}
}

func FuzzParseSelector(f *testing.F) {
	for _, s := range []string{"#a", `role=button[name="x"]`, "a >> nth=1", "label=E >> text=x", `a[b=">>"]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sel, err := ParseSelector(s)
		if err != nil {
			return
		}
		_ = sel.String()
		_ = sel.Segments()
	})
}
