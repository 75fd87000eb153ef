// Package redact is the one boundary a run's text crosses on its way out:
// into a result, a log record, a HAR file, an error a user reads. Inside a
// run, messages stay whole; here every secret of the flow is masked, in
// every encoding scenarios.Flow.Mask knows, and only then is the text
// clipped, so that no cut can leave a secret's first characters behind.
package redact

import (
	"reflect"
	"sync"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// The clip limits, in bytes, of what leaves a run. They are the limits the
// runner used before the boundary existed, so that users see the same
// results.
const (
	// MessageLen bounds one line a page wrote: a dialog's message, a
	// console error (its message and its source are each clipped to it by
	// the runner), a failed request's URL.
	MessageLen = 300
	// ErrorLen bounds a step's error message and warnings: long enough
	// for a message that quotes a long selector or expression whole.
	ErrorLen = 2000
	// ValueLen bounds an eval step's value in the result.
	ValueLen = 1000
	// TextLen bounds every other string of a result (page URLs, step
	// names): long enough for a real URL, short enough that a hostile
	// page cannot grow a result without end.
	TextLen = 2048
	// NoClip marks a string that must stay whole: a file path the agent
	// itself wrote, whose name was masked when it was made.
	NoClip = -1
)

// resultLimits are the limits of result.Result's strings by field path
// (field names from the Result, slices and pointers left out of the path);
// a string not listed gets TextLen. A console error is its message and
// its source, each up to MessageLen plus the clip mark.
var resultLimits = map[string]int{
	"ID":                    NoClip,
	"HAR":                   NoClip,
	"Screenshots":           NoClip,
	"Downloads.Path":        NoClip,
	"Steps.Visual.Baseline": NoClip,
	"Steps.Visual.Actual":   NoClip,
	"Steps.Visual.Diff":     NoClip,
	"Dialogs.Message":       MessageLen,
	"ConsoleErrors":         2*(MessageLen+len(clipMark)) + 8,
	"FailedRequests.URL":    MessageLen,
	"FailedRequests.Error":  MessageLen,
	"Downloads.URL":         MessageLen,
	"Downloads.FileName":    MessageLen,
	"Error.Message":         ErrorLen,
	"Steps.Error":           ErrorLen,
	"Steps.Warnings":        ErrorLen,
	"Findings.Message":      ErrorLen,
	"Steps.Value":           ValueLen,
}

// clipMark ends a clipped string (scenarios.Clip's mark).
const clipMark = "…"

// Result masks with the flow's secrets, then clips, every string of r in
// place: every string field, slice, map key and value, pointer and nested
// struct, found by reflection so that a field added later cannot be
// forgotten. A nil flow only clips. It is idempotent: a result redacted
// twice is the result redacted once.
func Result(r *result.Result, f *scenarios.Flow) {
	if r == nil {
		return
	}
	Value(reflect.ValueOf(r).Elem(), f, func(path string) int {
		if n, ok := resultLimits[path]; ok {
			return n
		}
		return TextLen
	})
}

// String masks s with the flow's secrets, then clips it to max bytes
// (max <= 0: no clip), marking a clipped string with "…".
func String(s string, f *scenarios.Flow, max int) string {
	if f != nil {
		s = f.Mask(s)
	}
	return Clip(s, max)
}

// Clip cuts s to at most max bytes on a character boundary and marks the
// cut with "…"; max <= 0 keeps s whole. It is idempotent. Use it only on
// text already masked: String and Result are the boundary.
func Clip(s string, max int) string {
	if max <= 0 || len(s) <= max {
		return s
	}
	return scenarios.Clip(s, max)
}

// maxDepth bounds the walk, so that a cyclic value cannot loop it.
const maxDepth = 32

// Value masks then clips every string reachable from v in place (v must be
// settable for its own strings to change: pass reflect.ValueOf(&x).Elem()).
// limit gives the clip limit of a string by its field path: the names of
// the struct fields from v down, joined by ".", without slice indexes,
// map keys or pointers.
func Value(v reflect.Value, f *scenarios.Flow, limit func(path string) int) {
	walk(v, "", f, limit, 0)
}

func walk(v reflect.Value, path string, f *scenarios.Flow, limit func(string) int, depth int) {
	if depth > maxDepth || !v.IsValid() {
		return
	}
	switch v.Kind() {
	case reflect.String:
		if v.CanSet() {
			if s := String(v.String(), f, limit(path)); s != v.String() {
				v.SetString(s)
			}
		}
	case reflect.Pointer:
		if !v.IsNil() {
			walk(v.Elem(), path, f, limit, depth+1)
		}
	case reflect.Interface:
		if v.IsNil() || !v.CanSet() {
			return
		}
		// What an interface holds cannot be set in place: redact a copy
		// and put it back.
		inner := v.Elem()
		c := reflect.New(inner.Type()).Elem()
		c.Set(inner)
		walk(c, path, f, limit, depth+1)
		v.Set(c)
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			if !t.Field(i).IsExported() {
				continue
			}
			walk(v.Field(i), join(path, t.Field(i).Name), f, limit, depth+1)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			walk(v.Index(i), path, f, limit, depth+1)
		}
	case reflect.Map:
		if v.IsNil() || !v.CanSet() {
			return
		}
		// Map entries are not addressable, and a key may hold a secret
		// too: build the map anew.
		m := reflect.MakeMapWithSize(v.Type(), v.Len())
		it := v.MapRange()
		for it.Next() {
			k := reflect.New(v.Type().Key()).Elem()
			k.Set(it.Key())
			walk(k, path, f, limit, depth+1)
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(it.Value())
			walk(e, path, f, limit, depth+1)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	}
}

// joined caches the field paths, which a walk would otherwise build anew
// for every field of every result; there are as many as the types have
// fields.
var joined sync.Map // [2]string{path, name} -> string

func join(path, name string) string {
	if path == "" {
		return name
	}
	k := [2]string{path, name}
	if j, ok := joined.Load(k); ok {
		return j.(string)
	}
	j := path + "." + name
	joined.Store(k, j)
	return j
}
