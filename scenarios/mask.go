package scenarios

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Masked is what a secret value becomes wherever it would leave a run.
const Masked = "***"

// Mask replaces every secret value of the flow in s with "***", in every
// form the value takes on its way into a message: raw, percent-encoded
// (as a URL query or path, in either hex case, a space as "+" or "%20",
// each character encoded or not, as browsers normalise URLs),
// JSON-, JavaScript- or Go-quoted (\" \u00f6 \x22, and quoted twice), as
// HTML entities (&quot; &#34; &#x22;), and as a whole in base64 or hex
// (wholeForms), those too in any of the forms above (base64 in a URL
// query). It is the one masking function:
// everything that leaves a run (results, messages, logs, metrics, JUnit,
// file names) goes through it, before any clipping, so that no prefix of a
// secret survives a cut.
func (f *Flow) Mask(s string) string {
	// maskValues adds the values extract steps set in secret vars.
	values := f.maskValues()
	for _, v := range values {
		s = maskWhole(s, v)
	}
	// What is left of a secret that was cut before it got here (a file
	// name the browser shortened, a message clipped by the page): any
	// long piece of it, as it is or in base64 or hex.
	for _, v := range values {
		s = maskFragments(s, v)
	}
	return s
}

// minFragment is the shortest piece of a secret, in bytes, that Mask
// masks where the whole secret is not: long enough that ordinary text does
// not hold it by chance, short enough to catch a secret cut a little
// after its start.
const minFragment = 12

// fragmentSets caches the pieces of minFragment bytes of each secret's
// whole forms (the secret, its base64 and hex), so that one look-up per
// position of a text finds a piece of any of them. Its cost is counted in
// pieces, at most 65,536 (about 3 MB; 100 flows with a secret of 32
// characters each take 36,000).
var fragmentSets = boundedCache[string, map[string]struct{}]{max: 1 << 16}

func fragmentsOf(secret string) map[string]struct{} {
	return fragmentSets.get(secret, func() (map[string]struct{}, int) {
		set := map[string]struct{}{}
		for _, form := range wholeForms(secret) {
			for _, text := range form.variants() {
				// A piece that long is the whole form, masked already.
				for i := 0; len(text) > minFragment && i+minFragment <= len(text); i++ {
					set[text[i:i+minFragment]] = struct{}{}
				}
			}
		}
		return set, len(set) + 1
	})
}

// maskFragments replaces every run of s made of pieces of secret (or of
// its base64 or hex) at least minFragment bytes long with Masked.
func maskFragments(s, secret string) string {
	if len(s) < minFragment {
		return s
	}
	set := fragmentsOf(secret)
	if len(set) == 0 {
		return s
	}
	var b strings.Builder
	last, coveredTo := 0, -1 // s[last:] is not yet written; s[:coveredTo] is in a run being masked
	start := -1
	flush := func() {
		// Whole characters only: a run may begin or end inside one.
		for start > 0 && !utf8.RuneStart(s[start]) {
			start--
		}
		for coveredTo < len(s) && !utf8.RuneStart(s[coveredTo]) {
			coveredTo++
		}
		if start < last {
			start = last
		}
		b.WriteString(s[last:start])
		b.WriteString(Masked)
		last = coveredTo
		start = -1
	}
	for i := 0; i+minFragment <= len(s); i++ {
		if _, ok := set[s[i:i+minFragment]]; !ok {
			continue
		}
		if start >= 0 && i > coveredTo {
			flush()
		}
		if start < 0 {
			start = i
		}
		coveredTo = i + minFragment
	}
	if start >= 0 {
		flush()
	}
	if last == 0 && b.Len() == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// maskWhole replaces every occurrence of secret in s, in each of its whole
// forms and each of their encodings.
func maskWhole(s, secret string) string {
	for _, form := range wholeForms(secret) {
		s = maskValue(s, form)
	}
	return s
}

// maskValue replaces every encoded occurrence of the form in s.
func maskValue(s string, form wholeForm) string {
	if form.text == "" || s == "" {
		return s
	}
	budget := workBudget(len(s), len(form.text))
	m := matcher{pat: patternOf(form), s: s, work: budget, memoBelow: budget - memoAfter}
	// The bytes an occurrence may start with: the other starts are
	// skipped at the cost of a look-up, and cost no work.
	var starts [256]bool
	for _, form := range m.pat[0] {
		starts[form[0]] = true
	}
	var b strings.Builder
	last := 0 // s[last:i] is not yet written
	for i := 0; i < len(s); {
		if !starts[s[i]] {
			i++
			continue
		}
		end := m.match(i)
		if end == outOfWork {
			// Fail closed: what could not be checked is not shown.
			b.WriteString(s[last:i])
			b.WriteString(Masked)
			return b.String()
		}
		if end > i {
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

// workBudget bounds the form comparisons of masking one string with one
// secret. Forms that are prefixes of one another ("%" and "%25", "\" and
// "\\") make the matcher branch, and runs of a secret's prefix make it
// start over at each character: a hostile page must not make masking
// slow. Ordinary text costs a few comparisons per character and an
// occurrence a few per character of the secret, far below the budget;
// past it, the rest of the string is masked rather than let through.
func workBudget(textLen, secretLen int) int {
	return 1<<21 + 64*(textLen+secretLen)
}

// outOfWork is what match returns when the budget ran out.
const outOfWork = -2

// secretPattern holds, for each character of a secret, the forms it may
// take; an occurrence is any sequence of one form per character.
type secretPattern [][]string

// matcher finds occurrences of one pattern in one string. It remembers
// where the rest of the pattern failed to match, which holds whatever
// the start, so that branching forms cost each (character, position)
// once instead of exponentially; it walks with a stack of its own, so
// that a long secret cannot deepen the goroutine's stack.
type matcher struct {
	pat    secretPattern
	s      string
	work   int
	failed map[int64]struct{} // k*(len(s)+1)+j: pat[k:] does not match at s[j:]; at most maxMemo entries
	stack  []frame
	// memoBelow is the work left below which failures are remembered:
	// ordinary text never gets there, and so never pays for the map.
	memoBelow int
}

type frame struct{ j, form int } // at s[j:], the next form of pat[k] to try

// minMemoK is the first pattern index whose failures are remembered:
// nearly every start fails on the first characters, and remembering those
// would cost a map entry per character of the text.
const minMemoK = 2

// maxMemo bounds the failures remembered, and so the memory masking one
// string takes; past it the work budget alone bounds the time.
const maxMemo = 1 << 16

// memoAfter is the work after which failures are remembered.
const memoAfter = 4096

func (m *matcher) key(k, j int) int64 { return int64(k)*int64(len(m.s)+1) + int64(j) }

// match returns the end of an occurrence of the pattern at s[i:], -1 if
// there is none, or outOfWork.
func (m *matcher) match(i int) int {
	// Nearly every start fails on the first character: try its forms
	// before building a stack.
	first := false
	for _, form := range m.pat[0] {
		m.work--
		if strings.HasPrefix(m.s[i:], form) {
			first = true
			break
		}
	}
	if m.work < 0 {
		return outOfWork
	}
	if !first {
		return -1
	}
	stack := append(m.stack[:0], frame{j: i})
	end := -1
	for len(stack) > 0 {
		k := len(stack) - 1
		if k == len(m.pat) {
			end = stack[k].j
			break
		}
		top := &stack[k]
		if top.form == len(m.pat[k]) {
			if k >= minMemoK && m.work < m.memoBelow && len(m.failed) < maxMemo {
				if m.failed == nil {
					m.failed = map[int64]struct{}{}
				}
				m.failed[m.key(k, top.j)] = struct{}{}
			}
			stack = stack[:k]
			continue
		}
		form := m.pat[k][top.form]
		top.form++
		m.work--
		if m.work < 0 {
			end = outOfWork
			break
		}
		if !strings.HasPrefix(m.s[top.j:], form) {
			continue
		}
		next := top.j + len(form)
		if m.failed != nil && k+1 >= minMemoK && k+1 < len(m.pat) {
			if _, bad := m.failed[m.key(k+1, next)]; bad {
				continue
			}
		}
		stack = append(stack, frame{j: next})
	}
	m.stack = stack
	return end
}

// patterns caches compiled forms: a run masks hundreds of strings with
// the same few secrets. It is bounded, so that secrets rotated over months
// of reloads, or values a run extracts, cannot grow it without end; past
// the bound a form is compiled on each use. Its cost is counted in
// characters, each a slice of its forms (runeFormsOf shares them): at
// most 131,072, about 3 MB.
var patterns = boundedCache[wholeForm, secretPattern]{max: 1 << 17}

func patternOf(form wholeForm) secretPattern {
	return patterns.get(form, func() (secretPattern, int) {
		pat := make(secretPattern, 0, utf8.RuneCountInString(form.text))
		for _, r := range form.text {
			pat = append(pat, runeFormsOf(r, form.alphabet))
		}
		return pat, len(pat) + 1
	})
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
	// A file name: browsers replace the characters file systems refuse
	// with "_" in a download's suggested name.
	if strings.ContainsRune(fileNameUnsafe, r) || r < 0x20 {
		add("_")
	}
	return forms
}

// fileNameUnsafe are the characters Chrome replaces with "_" in the name
// of a download.
const fileNameUnsafe = `"*/:<>?\|`

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
			e.Msg = maskWhole(e.Msg, v)
			e.Flow = maskWhole(e.Flow, v)
		}
	}
}
