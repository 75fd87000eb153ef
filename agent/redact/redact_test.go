package redact_test

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/uxprobe/uxprobe/agent/redact"
	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

const testSecret = "s3cr3t+T0k/en=&x"

func secretFlow(t testing.TB, secret string) *scenarios.Flow {
	t.Helper()
	flows, err := scenarios.Parse("t.yaml", []byte("name: t\nvars: {token: "+strconv.Quote(secret)+"}\nsecrets: [token]\nsteps:\n  - goto: http://x/\n"),
		scenarios.LoadOptions{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	return flows[0]
}

// fill sets every settable string reachable from v to s, growing nil
// slices and pointers to one element, so that every field of the type is
// exercised, including fields added after this test was written.
func fill(v reflect.Value, s string, depth int) {
	if depth > 10 {
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		fill(v.Elem(), s, depth+1)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), s, depth+1)
			}
		}
	case reflect.Slice:
		if v.Len() == 0 {
			v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		}
		for i := range v.Len() {
			fill(v.Index(i), s, depth+1)
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k := reflect.New(v.Type().Key()).Elem()
		fill(k, s, depth+1)
		e := reflect.New(v.Type().Elem()).Elem()
		fill(e, s, depth+1)
		m.SetMapIndex(k, e)
		v.Set(m)
	}
}

// strings lists every string reachable from v with its path.
func allStrings(v reflect.Value, path string, out map[string][]string) {
	switch v.Kind() {
	case reflect.String:
		out[path] = append(out[path], v.String())
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			allStrings(v.Elem(), path, out)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				allStrings(v.Field(i), strings.TrimPrefix(path+"."+v.Type().Field(i).Name, "."), out)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			allStrings(v.Index(i), path, out)
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			allStrings(it.Key(), path, out)
			allStrings(it.Value(), path, out)
		}
	}
}

// TestResultMasksEveryString: every string of a result, in every form
// the masker knows, comes out masked, whatever field holds it.
func TestResultMasksEveryString(t *testing.T) {
	f := secretFlow(t, testSecret)
	forms := map[string]string{
		"raw":   testSecret,
		"query": url.QueryEscape(testSecret),
		"json":  strings.Trim(string(must(json.Marshal(testSecret))), `"`),
	}
	for name, form := range forms {
		t.Run(name, func(t *testing.T) {
			var r result.Result
			fill(reflect.ValueOf(&r).Elem(), "<"+form+">", 0)
			redact.Result(&r, f)
			got := map[string][]string{}
			allStrings(reflect.ValueOf(r), "", got)
			if len(got) < 20 {
				t.Fatalf("only %d string fields found: the walk is broken", len(got))
			}
			for path, ss := range got {
				for _, s := range ss {
					if s != "<***>" {
						t.Errorf("%s = %q, want %q", path, s, "<***>")
					}
				}
			}
		})
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// TestResultClipsAfterMasking: the clip limits hold, the cut is marked,
// a secret cut by the limit leaves no prefix, paths stay whole, and a
// second redaction changes nothing.
func TestResultClipsAfterMasking(t *testing.T) {
	f := secretFlow(t, testSecret)
	long := strings.Repeat("a", redact.MessageLen-4) + testSecret + strings.Repeat("b", 5000)
	path := "/var/lib/uxprobe/" + strings.Repeat("p", 3000) + ".png"
	r := result.Result{
		ID:             "20260101T000000Z-abc",
		Dialogs:        []result.Dialog{{Message: long}},
		ConsoleErrors:  []string{long},
		FailedRequests: []result.FailedRequest{{URL: long, Error: long}},
		Steps:          []result.Step{{Name: "s", Error: long, Warnings: []string{long}}},
		Error:          &result.Error{Message: long},
		Pages:          []result.Page{{URL: long}},
		Screenshots:    []string{path},
		HAR:            path,
	}
	redact.Result(&r, f)
	check := func(name, s string, max int) {
		t.Helper()
		if strings.Contains(s, testSecret[:4]) {
			t.Errorf("%s keeps a prefix of the secret: %q", name, s)
		}
		if len(s) > max+len("…") {
			t.Errorf("%s is %d bytes, limit %d", name, len(s), max)
		}
		if !strings.HasSuffix(s, "…") {
			t.Errorf("%s: a clipped string must say so: %q", name, s[len(s)-10:])
		}
	}
	check("dialog", r.Dialogs[0].Message, redact.MessageLen)
	check("failed URL", r.FailedRequests[0].URL, redact.MessageLen)
	check("step error", r.Steps[0].Error, redact.ErrorLen)
	check("warning", r.Steps[0].Warnings[0], redact.ErrorLen)
	check("error", r.Error.Message, redact.ErrorLen)
	check("page URL", r.Pages[0].URL, redact.TextLen)
	if !strings.Contains(r.Dialogs[0].Message, "***") {
		t.Errorf("the masked secret should be within the limit: %q", r.Dialogs[0].Message)
	}
	if r.HAR != path || r.Screenshots[0] != path {
		t.Errorf("file paths must stay whole")
	}
	again := r
	again.Dialogs = append([]result.Dialog(nil), r.Dialogs...)
	again.Steps = append([]result.Step(nil), r.Steps...)
	again.Steps[0].Warnings = append([]string(nil), r.Steps[0].Warnings...)
	e := *r.Error
	again.Error = &e
	redact.Result(&again, f)
	a, _ := json.Marshal(r)
	b, _ := json.Marshal(again)
	if string(a) != string(b) {
		t.Errorf("redacting twice changed the result:\n%s\n%s", a, b)
	}
}

func TestString(t *testing.T) {
	f := secretFlow(t, testSecret)
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"x" + testSecret + "y", 0, "x***y"},
		{"xx" + testSecret, 3, "xx*…"},
		{"abc", 3, "abc"},
		{"abcd", 3, "abc…"},
		{"héllo", 2, "h…"},
	}
	for _, tc := range tests {
		if got := redact.String(tc.in, f, tc.max); got != tc.want {
			t.Errorf("String(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
	if got := redact.String(testSecret, nil, 4); got != testSecret[:4]+"…" {
		t.Errorf("a nil flow only clips: %q", got)
	}
	if got := redact.Clip("", 1); got != "" {
		t.Errorf("Clip of empty = %q", got)
	}
}

func TestNilResult(t *testing.T) {
	redact.Result(nil, nil) // must not panic
	var r result.Result
	redact.Result(&r, nil)
}
