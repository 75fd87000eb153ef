package redact

import (
	"bytes"
	"unicode/utf8"

	"github.com/uxprobe/uxprobe/scenarios"
)

// File is what of a file a page gave the run (a download the flow keeps)
// may leave it: kept in the artifacts, the history and the API. Text (UTF-8
// without NUL bytes: CSV, JSON, HTML, a log) is kept with every secret of
// the flow masked, and masked reports whether anything was. Other bytes
// (a PDF, an archive) cannot be masked without breaking the file: they are
// kept as they are when they hold no secret in any form Mask knows, and
// not at all (ok false) when they do.
func File(data []byte, f *scenarios.Flow) (kept []byte, masked, ok bool) {
	if f == nil || len(data) == 0 {
		return data, false, true
	}
	s := string(data)
	m := f.Mask(s)
	if m == s {
		return data, false, true
	}
	if utf8.Valid(data) && bytes.IndexByte(data, 0) < 0 {
		return []byte(m), true, true
	}
	return nil, false, false
}
