package scenarios

import (
	"fmt"
	"strings"
)

// keyNames are the keys `press` accepts besides a single character.
var keyNames = []string{
	"Enter", "Tab", "Escape", "Backspace", "Delete", "Space",
	"ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight",
	"Home", "End", "PageUp", "PageDown",
}

// modifierNames are the keys held down in a chord such as Control+A, in
// the order they are pressed.
var modifierNames = []string{"Alt", "Control", "Meta", "Shift"}

// KeyNames lists the named keys of `press`.
func KeyNames() []string { return append([]string(nil), keyNames...) }

// KeyStroke is one key pressed and released, with modifiers held around it.
type KeyStroke struct {
	// Key is a name of KeyNames or a single character.
	Key string
	// Modifiers are names of modifierNames, held while Key is pressed.
	Modifiers []string
}

func (k KeyStroke) String() string {
	return strings.Join(append(append([]string(nil), k.Modifiers...), k.Key), "+")
}

// ParseKey reads a key as `press` takes it: a single character, a named key
// in any case, or either after modifiers joined by "+" (Control+A,
// Shift+Enter, Meta+K, Control+Shift+Z; "Control++" presses "+").
func ParseKey(s string) (KeyStroke, error) {
	key, rest := s, ""
	switch {
	case len([]rune(s)) == 1:
	case strings.HasSuffix(s, "++"):
		key, rest = "+", strings.TrimSuffix(s, "++")
	default:
		if i := strings.LastIndex(s, "+"); i >= 0 {
			key, rest = s[i+1:], s[:i]
		}
	}
	var k KeyStroke
	if rest != "" {
		for _, m := range strings.Split(rest, "+") {
			name, ok := canonical(m, modifierNames)
			if !ok {
				hint := didYouMean(m, modifierNames)
				if strings.EqualFold(m, "ctrl") {
					hint = ` (did you mean "Control"?)`
				}
				return KeyStroke{}, fmt.Errorf("unknown modifier %q%s; use %s", clip(m), hint, strings.Join(modifierNames, ", "))
			}
			k.Modifiers = append(k.Modifiers, name)
		}
	}
	if name, ok := canonical(key, keyNames); ok {
		k.Key = name
		return k, nil
	}
	if len([]rune(key)) == 1 {
		k.Key = key
		return k, nil
	}
	return KeyStroke{}, fmt.Errorf("unknown key %q%s; use a single character or one of %s, after modifiers such as Control+ (%s)",
		clip(key), didYouMean(key, keyNames), strings.Join(keyNames, ", "), strings.Join(modifierNames, ", "))
}

// TextKeys is the key strokes that type text: one per character, a line
// break as Enter.
func TextKeys(text string) []KeyStroke {
	keys := make([]KeyStroke, 0, len(text))
	for _, r := range strings.ReplaceAll(text, "\r\n", "\n") {
		switch r {
		case '\n', '\r':
			keys = append(keys, KeyStroke{Key: "Enter"})
		default:
			keys = append(keys, KeyStroke{Key: string(r)})
		}
	}
	return keys
}

func canonical(s string, names []string) (string, bool) {
	for _, n := range names {
		if strings.EqualFold(n, s) {
			return n, true
		}
	}
	return "", false
}
