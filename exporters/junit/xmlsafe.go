package junit

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// xmlSafe makes s valid XML 1.0 text. XML allows no C0 control character
// but tab, newline and carriage return, no U+FFFE/U+FFFF and no invalid
// UTF-8; encoding/xml replaces them in attributes and escaped text, but
// writes CDATA as it is, so a step name or page message holding one
// made the whole report unreadable to CI. They are shown as \xNN (or
// \uNNNN), which keeps what was there visible.
func xmlSafe(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case !allowed(r):
			if r < 0x100 {
				fmt.Fprintf(&b, `\x%02x`, r)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func needsEscape(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || !allowed(r) {
			return true
		}
		i += size
	}
	return false
}

// allowed is XML 1.0's Char production.
func allowed(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return true
	case r < 0x20:
		return false
	case r >= 0xd800 && r <= 0xdfff, r == 0xfffe, r == 0xffff:
		return false
	}
	return r <= 0x10ffff
}
