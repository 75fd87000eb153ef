package scenarios

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Masked is what a secret value becomes wherever it would leave a run.
const Masked = "***"

// Mask replaces every secret value of the flow in s with "***", in every
// form the value takes on its way into a message: raw, percent-encoded
// (as a URL query or path, in either hex case, a space as "+" or "%20",
// each character encoded or not, as browsers normalise URLs),
// JSON-, JavaScript- or Go-quoted (\" \u00f6 \x22, and quoted twice), and
// as HTML entities (&quot; &#34; &#x22;). It is the one masking function:
// everything that leaves a run (results, messages, logs, metrics, JUnit,
// file names) goes through it, before any clipping, so that no prefix of a
// secret survives a cut.
func (f *Flow) Mask(s string) string {
	// maskValues adds the values extract steps set in secret vars.
	for _, v := range f.maskValues() {
		s = maskValue(s, v)
	}
	return s
}

// maskValue replaces every encoded occurrence of secret in s.
func maskValue(s, secret string) string {
	if secret == "" || s == "" {
		return s
	}
	pat := patternOf(secret)
	var b strings.Builder
	last := 0 // s[last:i] is not yet written
	for i := 0; i < len(s); {
		budget := maxMatchSteps
		if end := pat.match(s, i, 0, &budget); end > i {
			b.WriteString(s[last:i])
			b.WriteString(Masked)
			i, last = end, end
			continue
		}
		i++
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// maxMatchSteps bounds the backtracking of one match attempt: forms that
// are prefixes of one another ("%" and "%25", "\" and "\\") branch, and a
// hostile page must not make masking slow.
const maxMatchSteps = 4096

// secretPattern holds, for each character of a secret, the forms it may
// take; an occurrence is any sequence of one form per character.
type secretPattern [][]string

// patterns caches compiled secrets: a run masks hundreds of strings with
// the same few secrets. It is bounded, so that secrets rotated over months
// of reloads cannot grow it without end; past the bound a secret is
// compiled on each use.
var patterns struct {
	sync.Mutex
	m map[string]secretPattern
}

const maxCachedPatterns = 256

func patternOf(secret string) secretPattern {
	patterns.Lock()
	defer patterns.Unlock()
	if pat, ok := patterns.m[secret]; ok {
		return pat
	}
	pat := compileSecret(secret)
	if patterns.m == nil {
		patterns.m = map[string]secretPattern{}
	}
	if len(patterns.m) < maxCachedPatterns {
		patterns.m[secret] = pat
	}
	return pat
}

func compileSecret(secret string) secretPattern {
	pat := make(secretPattern, 0, utf8.RuneCountInString(secret))
	for _, r := range secret {
		pat = append(pat, runeForms(r))
	}
	return pat
}

// match returns the end of an occurrence of pat[k:] at s[i:], or -1.
func (pat secretPattern) match(s string, i, k int, budget *int) int {
	if k == len(pat) {
		return i
	}
	for _, form := range pat[k] {
		*budget--
		if *budget < 0 {
			return -1
		}
		if strings.HasPrefix(s[i:], form) {
			if end := pat.match(s, i+len(form), k+1, budget); end >= 0 {
				return end
			}
		}
	}
	return -1
}

// backslashEscapes are the short escapes of JSON, JavaScript and Go.
var backslashEscapes = map[rune]string{
	'"': `\"`, '\'': `\'`, '\\': `\\`, '/': `\/`,
	'\n': `\n`, '\r': `\r`, '\t': `\t`, '\b': `\b`, '\f': `\f`, '\v': `\v`, 0: `\0`,
}

// htmlEntities are the named entities HTML escapers use.
var htmlEntities = map[rune][]string{
	'&': {"&amp;"}, '<': {"&lt;"}, '>': {"&gt;"}, '"': {"&quot;"}, '\'': {"&apos;"},
	' ': {"&nbsp;"}, 0xa0: {"&nbsp;"},
}

// runeForms lists the ways r may be written in a message, the raw form
// first.
func runeForms(r rune) []string {
	raw := string(r)
	forms := []string{raw}
	seen := map[string]bool{raw: true}
	add := func(f string) {
		if !seen[f] {
			seen[f] = true
			forms = append(forms, f)
		}
	}
	// Percent-encoding, byte by byte, in both hex cases.
	var up, low strings.Builder
	for _, c := range []byte(raw) {
		fmt.Fprintf(&up, "%%%02X", c)
		fmt.Fprintf(&low, "%%%02x", c)
	}
	add(up.String())
	add(low.String())
	if r == ' ' {
		add("+")
	}
	// Quoting: short escapes, \u (JSON, JavaScript, Go), \U and \x (Go).
	var quoted []string
	if e, ok := backslashEscapes[r]; ok {
		quoted = append(quoted, e)
	}
	if r <= 0xffff {
		quoted = append(quoted, fmt.Sprintf(`\u%04x`, r), fmt.Sprintf(`\u%04X`, r))
	} else {
		// JSON and JavaScript write astral characters as a surrogate pair.
		r1, r2 := utf16Pair(r)
		quoted = append(quoted, fmt.Sprintf(`\u%04x\u%04x`, r1, r2), fmt.Sprintf(`\u%04X\u%04X`, r1, r2),
			fmt.Sprintf(`\U%08x`, r), fmt.Sprintf(`\U%08X`, r))
	}
	var xb, xbu strings.Builder
	for _, c := range []byte(raw) {
		fmt.Fprintf(&xb, `\x%02x`, c)
		fmt.Fprintf(&xbu, `\x%02X`, c)
	}
	quoted = append(quoted, xb.String(), xbu.String())
	for _, q := range quoted {
		add(q)
	}
	// Quoted twice (a JSON value inside a Go-quoted message): the first
	// quoting's backslashes and quotes get escaped again.
	for _, q := range append([]string{raw}, quoted...) {
		if strings.ContainsAny(q, `\"`) {
			again := strconv.Quote(q)
			add(again[1 : len(again)-1])
		}
	}
	// HTML entities.
	for _, e := range htmlEntities[r] {
		add(e)
	}
	add(fmt.Sprintf("&#%d;", r))
	add(fmt.Sprintf("&#x%x;", r))
	add(fmt.Sprintf("&#x%X;", r))
	add(fmt.Sprintf("&#X%x;", r))
	return forms
}

func utf16Pair(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}

// minEnvSecretLen is the shortest environment value a load error masks
// when no secrets list names it: shorter values (a port, a flag) are not
// secrets worth hiding, and masking them would garble the message.
const minEnvSecretLen = 4

// maskErrors masks, in the flow's load errors, its secrets and every value
// it read from the environment: an invalid flow is never run, so these
// errors are the only place its secrets could leave, and `validate`,
// `check`, the agent's logs and the /-/reload answer all print them. The
// environment is where secrets come from, so its values are masked
// whether or not the secrets list names them (it may be the part in error).
func (p *parser) maskErrors(f *Flow) {
	var values []string
	if f != nil {
		values = append(values, f.secrets...)
	}
	for _, v := range p.envValues {
		if len(v) >= minEnvSecretLen {
			values = append(values, v)
		}
	}
	if len(values) == 0 {
		return
	}
	sortLongestFirst(values)
	for _, e := range p.errs {
		for _, v := range values {
			e.Msg = maskValue(e.Msg, v)
			e.Flow = maskValue(e.Flow, v)
		}
	}
}
