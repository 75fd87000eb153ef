package scenarios

import (
	"encoding/base64"
	"encoding/hex"
	"slices"
	"strings"
)

// A wholeForm is a secret, or an encoding that writes it as a whole rather
// than character by character, with the alphabet its characters are
// matched in: each character in any form runeForms knows (percent-encoded,
// quoted, as an entity), and in the alphabet's other spelling of it.
type wholeForm struct {
	text     string
	alphabet alphabet
}

type alphabet byte

const (
	plain alphabet = iota
	// hexDigits: a to f in either case.
	hexDigits
	// base64Chars: "+" and "/" of the standard alphabet, or "-" and "_" of
	// the URL-safe one.
	base64Chars
)

// minWholeForm is the shortest base64 or hex form of a secret that Mask
// masks: shorter ones (of secrets under six bytes) would match ordinary
// words and numbers by chance.
const minWholeForm = 8

// wholeFormSets caches each secret's forms; its cost is counted in bytes
// of the forms.
var wholeFormSets = boundedCache[string, []wholeForm]{max: 1 << 20}

// wholeForms is the secret itself, then its hex and base64 forms, of its
// UTF-8 bytes and of its Latin-1 bytes where it has them (JavaScript's btoa
// encodes those). A secret inside a longer text encoded in base64 starts
// at any of three offsets within a group of three bytes, and each offset
// writes it differently: each offset is a form. Only the characters that
// depend on the secret's bytes alone are kept: the one before and the one
// after also carry bits of the text around it, and are left, with at most
// four bits of the secret each.
func wholeForms(secret string) []wholeForm {
	return wholeFormSets.get(secret, func() ([]wholeForm, int) {
		forms := []wholeForm{{secret, plain}}
		seen := map[string]bool{secret: true}
		add := func(text string, a alphabet) {
			if len(text) >= minWholeForm && !seen[text] {
				seen[text] = true
				forms = append(forms, wholeForm{text, a})
			}
		}
		encodings := [][]byte{[]byte(secret)}
		if latin1, ok := latin1Bytes(secret); ok {
			encodings = append(encodings, latin1)
		}
		for _, b := range encodings {
			add(hex.EncodeToString(b), hexDigits)
			for offset := range 3 {
				padded := append(make([]byte, offset), b...)
				// Character i holds bits 6i to 6i+5 of the padded bytes;
				// the secret's are bits 8*offset to 8*len(padded)-1.
				from, to := (8*offset+5)/6, 8*len(padded)/6
				if to > from {
					add(base64.StdEncoding.EncodeToString(padded)[from:to], base64Chars)
				}
			}
		}
		cost := 1
		for _, f := range forms {
			cost += len(f.text)
		}
		return forms, cost
	})
}

// variants are the spellings of the form in its alphabet, for matching
// pieces of it as they are: hex in both cases, base64 in both alphabets.
func (f wholeForm) variants() []string {
	switch f.alphabet {
	case hexDigits:
		return []string{f.text, strings.ToUpper(f.text)}
	case base64Chars:
		if url := strings.NewReplacer("+", "-", "/", "_").Replace(f.text); url != f.text {
			return []string{f.text, url}
		}
	}
	return []string{f.text}
}

// latin1Bytes is s with each character as one byte, if s has a character
// outside ASCII and none beyond U+00FF: the bytes btoa encodes, which
// differ from UTF-8's.
func latin1Bytes(s string) ([]byte, bool) {
	b := make([]byte, 0, len(s))
	wide := false
	for _, r := range s {
		if r > 0xff {
			return nil, false
		}
		wide = wide || r >= 0x80
		b = append(b, byte(r))
	}
	return b, wide
}

// runeKey is a character in an alphabet.
type runeKey struct {
	r rune
	a alphabet
}

// runeFormSets caches the forms of each character, which every pattern of
// the character shares; bounded in characters.
var runeFormSets = boundedCache[runeKey, []string]{max: 1 << 12}

// runeFormsOf is the forms of r in the alphabet: runeForms's, and those of
// the alphabet's other spelling of r.
func runeFormsOf(r rune, a alphabet) []string {
	return runeFormSets.get(runeKey{r, a}, func() ([]string, int) {
		forms := runeForms(r)
		other := r
		switch {
		case a == hexDigits && r >= 'a' && r <= 'f':
			other = r - 'a' + 'A'
		case a == base64Chars && r == '+':
			other = '-'
		case a == base64Chars && r == '/':
			other = '_'
		}
		if other != r {
			for _, f := range runeForms(other) {
				if !slices.Contains(forms, f) {
					forms = append(forms, f)
				}
			}
		}
		return forms, 1
	})
}
