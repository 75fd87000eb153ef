package scenarios

import (
	"strings"
	"testing"
)

func TestParseKey(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{in: "Enter", want: "Enter"},
		{in: "enter", want: "Enter"},
		{in: "a", want: "a"},
		{in: "+", want: "+"},
		{in: "中", want: "中"},
		{in: "Control+A", want: "Control+A"},
		{in: "shift+enter", want: "Shift+Enter"},
		{in: "Meta+K", want: "Meta+K"},
		{in: "Control+Shift+z", want: "Control+Shift+z"},
		{in: "Control++", want: "Control++"},
		{in: "Alt+ArrowLeft", want: "Alt+ArrowLeft"},
		{in: "Entr", err: `unknown key "Entr" (did you mean "Enter"?)`},
		{in: "Ctrl+A", err: `unknown modifier "Ctrl" (did you mean "Control"?)`},
		{in: "Shfit+A", err: `unknown modifier "Shfit" (did you mean "Shift"?)`},
		{in: "Control+", err: `unknown key ""`},
		{in: "Control+Enterr", err: `unknown key "Enterr"`},
		{in: "", err: `unknown key ""`},
	}
	for _, tc := range tests {
		k, err := ParseKey(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParseKey(%q) = %v, %v; want an error with %q", tc.in, k, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("ParseKey(%q): %v", tc.in, err)
		case tc.err == "" && k.String() != tc.want:
			t.Errorf("ParseKey(%q) = %q, want %q", tc.in, k, tc.want)
		}
	}
}

func TestTextKeys(t *testing.T) {
	var got []string
	for _, k := range TextKeys("a+\r\nb\né") {
		got = append(got, k.String())
	}
	if want := "a|+|Enter|b|Enter|é"; strings.Join(got, "|") != want {
		t.Errorf("TextKeys = %q, want %q", strings.Join(got, "|"), want)
	}
}
