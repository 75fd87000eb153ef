package scenarios

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// checkSelector reports a selector that no browser would accept, so that
// `validate` finds it instead of a run failing with element_not_found. The
// checks are conservative: they reject only what is certainly not valid
// (unclosed brackets and strings, empty list items, dangling combinators,
// a class or id that is not a name, characters selectors never hold), and
// leave the fine points to the browser, so that no selector Chrome takes
// is refused here.
func checkSelector(sel Selector) error {
	switch sel.Kind {
	case SelectorCSS:
		// The hand-written pass finds the common mistakes and says at
		// which character; cascadia's grammar judges the rest.
		if err := checkCSS(sel.Value); err != nil {
			return err
		}
		return checkCSSGrammar(sel.Value)
	case SelectorXPath:
		return checkXPath(sel.Value)
	}
	return nil // text=: any text is something to look for
}

// checkCSS checks the syntax of a CSS selector list.
func checkCSS(s string) error {
	type open struct {
		r   rune
		pos int
	}
	var stack []open
	var quote rune
	// At the top level (no bracket open) the checks below look at the
	// selector's own structure; inside brackets they are the browser's.
	var prev rune // the previous significant rune at the top level
	combinatorPending := false
	itemEmpty := true
	runes := []rune(s)
	for i := 0; i < len(runes); i++ {
		r := runes[i]
		pos := i + 1
		if quote != 0 {
			switch r {
			case '\\':
				i++ // an escaped character, even a quote
			case quote:
				quote = 0
			case '\n':
				return fmt.Errorf("a string ends at a line break at character %d", pos)
			}
			continue
		}
		if r == '\\' {
			i++ // a lone backslash at the end is U+FFFD to CSS
			if len(stack) == 0 {
				prev, combinatorPending, itemEmpty = 'a', false, false
			}
			continue
		}
		if len(stack) > 0 {
			top := stack[len(stack)-1]
			switch r {
			case '"', '\'':
				quote = r
			case '(', '[':
				stack = append(stack, open{r, pos})
			case ')', ']':
				if (r == ')') != (top.r == '(') {
					return fmt.Errorf("%q at character %d does not close the %q at character %d", r, pos, top.r, top.pos)
				}
				if top.r == '[' && strings.TrimSpace(string(runes[top.pos:i])) == "" {
					return fmt.Errorf("the attribute selector at character %d is empty", top.pos)
				}
				if top.r == '[' {
					if err := checkAttribute(string(runes[top.pos:i]), top.pos); err != nil {
						return err
					}
				}
				stack = stack[:len(stack)-1]
			case '{', '}', ';':
				return fmt.Errorf("%q at character %d cannot be part of a selector", r, pos)
			}
			if len(stack) == 0 {
				prev = r
			}
			continue
		}
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f':
			continue
		case r == '/' && i+1 < len(runes) && runes[i+1] == '*':
			// A comment; one open at the end is closed there.
			end := strings.Index(string(runes[i+2:]), "*/")
			if end < 0 {
				i = len(runes)
			} else {
				i += 2 + utf8.RuneCountInString(string(runes[i+2:])[:end]) + 1
			}
			continue
		case r == ',':
			if itemEmpty || combinatorPending {
				return fmt.Errorf("the selector list has an empty item at character %d", pos)
			}
			itemEmpty = true
		case r == '>' || r == '+' || r == '~':
			if combinatorPending || itemEmpty {
				return fmt.Errorf("the combinator %q at character %d has no selector before it", r, pos)
			}
			combinatorPending = true
		case r == '[':
			stack = append(stack, open{r, pos})
			combinatorPending, itemEmpty = false, false
		case r == '(':
			// Only a functional pseudo-class takes arguments: :not(...).
			if !isNameRune(prev) || !pseudoBefore(runes, i) {
				return fmt.Errorf("the parenthesis at character %d follows no pseudo-class such as :not", pos)
			}
			stack = append(stack, open{r, pos})
		case r == ')' || r == ']':
			return fmt.Errorf("%q at character %d closes nothing", r, pos)
		case r == '"' || r == '\'':
			return fmt.Errorf("a string at character %d belongs inside an attribute selector, such as [title=%c...%c]", pos, r, r)
		case r == '#' || r == '.':
			if !nameStartAt(runes, i+1) {
				what := "class"
				if r == '#' {
					what = "id"
				}
				return fmt.Errorf("the %s at character %d is not a name (a name starts with a letter, _ or -, or is escaped, such as #\\31 23)", what, pos)
			}
			combinatorPending, itemEmpty = false, false
		case r == ':':
			next := i + 1
			if next < len(runes) && runes[next] == ':' {
				next++
			}
			if !nameStartAt(runes, next) {
				return fmt.Errorf("the pseudo-class at character %d has no name", pos)
			}
			combinatorPending, itemEmpty = false, false
		case r == '*' || r == '|' || r == '&' || r == '%' || isNameRune(r):
			// % appears only in keyframe selectors, which querySelector
			// rejects; let the browser say so rather than guess here.
			combinatorPending, itemEmpty = false, false
		default:
			return fmt.Errorf("%q at character %d cannot be part of a selector", r, pos)
		}
		prev = r
	}
	// CSS closes what is open at the end of the text (Chrome takes
	// "a[href" and "a:not(b"), so only what is inside is checked.
	for k := len(stack) - 1; k >= 0; k-- {
		if top := stack[k]; top.r == '[' {
			inner := string(runes[top.pos:])
			if k+1 < len(stack) {
				inner = string(runes[top.pos : stack[k+1].pos-1])
			}
			if strings.TrimSpace(inner) == "" {
				return fmt.Errorf("the attribute selector at character %d is empty", top.pos)
			}
			if err := checkAttribute(inner, top.pos); err != nil {
				return err
			}
		}
	}
	if len(stack) > 0 {
		return nil
	}
	if combinatorPending {
		return fmt.Errorf("it ends in a combinator, with no selector after it")
	}
	if itemEmpty {
		return fmt.Errorf("the selector list ends in an empty item")
	}
	return nil
}

// checkAttribute checks the inside of [...]: a name, then optionally an
// operator and a value, at pos (the position of "[").
func checkAttribute(inner string, pos int) error {
	in := strings.TrimSpace(inner)
	// The name, with an optional namespace prefix.
	j := 0
	for j < len(in) && (isNameRune(rune(in[j])) || in[j] == '*' || in[j] == '|' || in[j] == '\\' || in[j] >= utf8.RuneSelf) {
		if in[j] == '\\' {
			j++
		}
		j++
	}
	if j == 0 {
		return fmt.Errorf("the attribute selector at character %d has no attribute name", pos)
	}
	rest := strings.TrimSpace(in[min(j, len(in)):])
	if rest == "" {
		return nil
	}
	op := ""
	for _, o := range []string{"~=", "|=", "^=", "$=", "*=", "="} {
		if strings.HasPrefix(rest, o) {
			op = o
			break
		}
	}
	if op == "" {
		return fmt.Errorf("the attribute selector at character %d has %q where =, ~=, |=, ^=, $= or *= belongs", pos, clip(rest))
	}
	if strings.TrimSpace(rest[len(op):]) == "" {
		return fmt.Errorf("the attribute selector at character %d has no value after %s", pos, op)
	}
	return nil
}

// pseudoBefore reports whether the name that ends before runes[i] follows
// a ":" (a functional pseudo-class).
func pseudoBefore(runes []rune, i int) bool {
	j := i - 1
	for j >= 0 && isNameRune(runes[j]) {
		j--
	}
	return j >= 0 && runes[j] == ':'
}

// nameStartAt reports whether an identifier starts at runes[i].
func nameStartAt(runes []rune, i int) bool {
	if i >= len(runes) {
		return false
	}
	r := runes[i]
	if r == '-' {
		if i+1 >= len(runes) {
			return false
		}
		r = runes[i+1]
		if r == '-' {
			return true
		}
	}
	return r == '_' || r == '\\' || r >= utf8.RuneSelf || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
}

func isNameRune(r rune) bool {
	return r == '_' || r == '-' || r >= utf8.RuneSelf || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
}

// checkXPath checks what every XPath needs: closed strings, brackets and
// parentheses, and no dangling path or union operator.
func checkXPath(s string) error {
	type open struct {
		r   rune
		pos int
	}
	var stack []open
	var quote rune
	quotePos := 0
	runes := []rune(s)
	for i, r := range runes {
		pos := i + 1
		if quote != 0 {
			if r == quote {
				quote = 0
			}
			continue
		}
		switch r {
		case '"', '\'':
			quote, quotePos = r, pos
		case '(', '[':
			stack = append(stack, open{r, pos})
		case ')', ']':
			if len(stack) == 0 {
				return fmt.Errorf("%q at character %d closes nothing", r, pos)
			}
			top := stack[len(stack)-1]
			if (r == ')') != (top.r == '(') {
				return fmt.Errorf("%q at character %d does not close the %q at character %d", r, pos, top.r, top.pos)
			}
			if top.r == '[' && strings.TrimSpace(string(runes[top.pos:i])) == "" {
				return fmt.Errorf("the predicate at character %d is empty", top.pos)
			}
			stack = stack[:len(stack)-1]
		case '{', '}', ';', '`', '#':
			return fmt.Errorf("%q at character %d cannot be part of an XPath", r, pos)
		}
	}
	if quote != 0 {
		return fmt.Errorf("the string opened at character %d is not closed", quotePos)
	}
	if len(stack) > 0 {
		top := stack[len(stack)-1]
		return fmt.Errorf("the %q at character %d is not closed", top.r, top.pos)
	}
	t := strings.TrimSpace(s)
	if t != "/" && (strings.HasSuffix(t, "/") || strings.HasSuffix(t, "|")) {
		return fmt.Errorf("it ends in %q, with no step after it", t[len(t)-1:])
	}
	if strings.HasPrefix(t, "|") {
		return fmt.Errorf("it starts with \"|\", with no path before it")
	}
	return nil
}
