package scenarios

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/andybalholm/cascadia"
)

// checkCSSGrammar judges a CSS selector list with cascadia's parser, a real
// CSS selector grammar, so that "h1:foo", "p:nth-child(x)" or "div::bar"
// are load errors rather than selectors that never match.
//
// cascadia and Chrome's querySelector disagree in places, each handled
// here explicitly (TestSelectorCheckAgreesWithChrome asks Chrome itself,
// for a table of selectors and every name listed below):
//   - Chrome closes what is open at the end ("a[href", "a:not(b", a string,
//     a trailing backslash); cascadia wants it closed: the closers are added.
//   - Chrome knows pseudo-classes cascadia does not (:is, :where, :focus-
//     visible, :host(), :nth-child(An+B of S), ...) and pseudo-elements
//     (::part(), ::slotted(), ::-webkit-*, ...): they are checked here and
//     handed to cascadia as one it knows with the same grammar.
//   - :has() takes relative selectors ("a:has(> img)"), cascadia does not:
//     the leading combinator is dropped for cascadia.
//   - cascadia accepts what Chrome refuses: its extensions (:contains(),
//     :matches(), :haschild(), :input, [a!=b], [a#=(re)]), :has() inside
//     :has(), a pseudo-element inside :not() or :has(), a pseudo-element
//     with more after it ("::before span"), legacy one-colon forms of new
//     pseudo-elements (":marker"): refused here.
//   - "&" (nesting, the scope in querySelector) and the namespace forms "*|a"
//     and "|a" are accepted by Chrome: handed to cascadia as :root and "a".
//
// One disagreement is left (knownDisagreements in the test): Chrome takes a
// pseudo-element in :nth-child(An+B of S), where it can never match.
func checkCSSGrammar(s string) error {
	form, err := cascadiaForm(s, cssContext{})
	if err != nil {
		return err
	}
	_, err = cascadia.ParseGroupWithPseudoElements(form)
	return err
}

// cssContext is where a selector list stands: at the top, or as the
// argument of a functional pseudo-class.
type cssContext struct {
	depth    int
	base     int    // the position of the text in the whole selector
	relative bool   // :has(): an item may start with a combinator
	inHas    bool   // :has() cannot hold :has()
	inside   string // the pseudo-class whose argument this is, for messages
}

// maxCSSDepth bounds the nesting of functional pseudo-classes, so no input
// can recurse without end; no real selector comes near it.
const maxCSSDepth = 32

// cascadiaForm rewrites a selector list into one cascadia parses exactly
// when Chrome does (see checkCSSGrammar), or reports what Chrome refuses.
func cascadiaForm(s string, ctx cssContext) (string, error) {
	if ctx.depth > maxCSSDepth {
		return "", fmt.Errorf("pseudo-classes are nested more than %d deep", maxCSSDepth)
	}
	w := &cssWriter{rs: []rune(s), ctx: ctx}
	if err := w.list(); err != nil {
		return "", err
	}
	return w.out.String(), nil
}

type cssWriter struct {
	rs  []rune
	i   int
	ctx cssContext
	out strings.Builder
	// itemStart is true until an item of the list has a token.
	itemStart bool
	// pseudoEl is the pseudo-element of the current item, if any.
	pseudoEl string
}

func (w *cssWriter) peek(k int) rune {
	if w.i+k < len(w.rs) {
		return w.rs[w.i+k]
	}
	return 0
}

// list copies the whole text; a ")" that closes nothing is left to
// cascadia to refuse.
func (w *cssWriter) list() error {
	w.itemStart = true
	for w.i < len(w.rs) {
		r := w.rs[w.i]
		if w.pseudoEl != "" && !isCSSSpace(r) && r != ',' && r != ':' && r != '/' {
			return fmt.Errorf("::%s must end its selector; %q cannot follow it", w.pseudoEl, r)
		}
		switch {
		case isCSSSpace(r):
			w.out.WriteRune(r)
			w.i++
			continue
		case r == '/' && w.peek(1) == '*':
			end := strings.Index(string(w.rs[w.i+2:]), "*/")
			if end < 0 {
				w.i = len(w.rs) // a comment open at the end is closed there
				continue
			}
			w.out.WriteString(" ")
			w.i += 2 + len([]rune(string(w.rs[w.i+2:])[:end])) + 2
			continue
		case r == ',':
			w.out.WriteRune(r)
			w.i++
			w.itemStart, w.pseudoEl = true, ""
			continue
		case r == '>' || r == '+' || r == '~':
			if w.ctx.relative && w.itemStart {
				w.out.WriteRune(' ') // cascadia takes no relative selector
			} else {
				w.out.WriteRune(r)
			}
			w.i++
			w.itemStart = false
			continue
		}
		w.itemStart = false
		switch {
		case r == '\\':
			w.escape()
		case r == '"' || r == '\'':
			w.str(r)
		case r == '[':
			if err := w.attribute(); err != nil {
				return err
			}
		case r == ':':
			if err := w.pseudo(); err != nil {
				return err
			}
		case r == '&':
			w.out.WriteString(":root")
			w.i++
		case r == '*' && w.peek(1) == '|' && w.peek(2) != '=':
			w.i += 2 // *|a: any namespace
		case r == '|' && w.atCompoundStart() && w.peek(1) != '=' && (w.peek(1) == '*' || nameStartRune(w.peek(1))):
			w.i++ // |a: no namespace
		case r == '-' && w.dashesOnly():
			// "--" is an identifier to Chrome; cascadia wants more after it.
			for w.i < len(w.rs) && w.rs[w.i] == '-' {
				w.out.WriteRune('-')
				w.i++
			}
			w.out.WriteString("x")
		default:
			w.out.WriteRune(r)
			w.i++
		}
	}
	return nil
}

// atCompoundStart reports whether a compound selector starts here.
func (w *cssWriter) atCompoundStart() bool {
	if w.i == 0 {
		return true
	}
	switch w.rs[w.i-1] {
	case ' ', '\t', '\n', '\r', '\f', '>', '+', '~', ',':
		return true
	}
	return false
}

// dashesOnly reports whether an identifier of two or more dashes and
// nothing else starts here.
func (w *cssWriter) dashesOnly() bool {
	j := w.i
	for j < len(w.rs) && w.rs[j] == '-' {
		j++
	}
	if j-w.i < 2 || (j > 0 && w.i > 0 && isNameRune(w.rs[w.i-1])) {
		return false
	}
	return j == len(w.rs) || !(isNameRune(w.rs[j]) || w.rs[j] == '\\')
}

func (w *cssWriter) escape() {
	if w.i+1 >= len(w.rs) {
		w.out.WriteString(`\fffd `) // a backslash at the end is U+FFFD
		w.i++
		return
	}
	w.out.WriteRune('\\')
	w.out.WriteRune(w.rs[w.i+1])
	w.i += 2
}

// str copies a string, closing it at the end of the text.
func (w *cssWriter) str(q rune) {
	w.out.WriteRune(q)
	w.i++
	for w.i < len(w.rs) {
		r := w.rs[w.i]
		if r == '\\' {
			w.escape()
			continue
		}
		w.out.WriteRune(r)
		w.i++
		if r == q {
			return
		}
	}
	w.out.WriteRune(q)
}

// attribute copies [...], closing it at the end of the text.
func (w *cssWriter) attribute() error {
	start := w.i
	w.out.WriteRune('[')
	w.i++
	for isCSSSpace(w.peek(0)) {
		w.i++
	}
	// [*|a] and [|a]: any or no namespace; cascadia knows neither.
	if w.peek(0) == '*' && w.peek(1) == '|' && w.peek(2) != '=' {
		w.i += 2
	} else if w.peek(0) == '|' && w.peek(1) != '=' {
		w.i++
	}
	for w.i < len(w.rs) {
		r := w.rs[w.i]
		switch {
		case r == '\\':
			w.escape()
			continue
		case r == '"' || r == '\'':
			w.str(r)
			continue
		case (r == '!' || r == '#') && w.peek(1) == '=':
			return fmt.Errorf("the attribute selector at character %d uses %c=, which is not CSS", start+1, r)
		}
		w.out.WriteRune(r)
		w.i++
		if r == ']' {
			return nil
		}
	}
	w.out.WriteRune(']')
	return nil
}

// name reads an identifier after ":" or "::", lowercased; "" if it holds an
// escape (cascadia judges that one as written).
func (w *cssWriter) name() (raw, lower string) {
	j := w.i
	for j < len(w.rs) && (isNameRune(w.rs[j]) || w.rs[j] == '\\') {
		if w.rs[j] == '\\' {
			return "", ""
		}
		j++
	}
	raw = string(w.rs[w.i:j])
	return raw, strings.ToLower(raw)
}

// argument reads a balanced (...) at w.i and returns what is inside; an
// argument open at the end of the text is closed there.
func (w *cssWriter) argument() string {
	w.i++ // "("
	start, depth := w.i, 0
	for w.i < len(w.rs) {
		switch r := w.rs[w.i]; r {
		case '\\':
			w.i += 2
			continue
		case '"', '\'':
			w.i++
			for w.i < len(w.rs) && w.rs[w.i] != r {
				if w.rs[w.i] == '\\' {
					w.i++
				}
				w.i++
			}
		case '(', '[':
			depth++
		case ')', ']':
			if depth == 0 && r == ')' {
				arg := string(w.rs[start:w.i])
				w.i++
				return arg
			}
			depth--
		}
		w.i++
	}
	return string(w.rs[start:min(w.i, len(w.rs))])
}

// pseudo handles ":name", ":name(...)", "::name" and "::name(...)".
func (w *cssWriter) pseudo() error {
	start := w.ctx.base + w.i + 1
	double := w.peek(1) == ':'
	w.i++
	if double {
		w.i++
	}
	raw, name := w.name()
	if raw == "" {
		// No name, or an escaped one: cascadia judges it as written.
		w.out.WriteString(string(w.rs[start-1-w.ctx.base : w.i]))
		if w.pseudoEl != "" {
			return fmt.Errorf("::%s must end its selector", w.pseudoEl)
		}
		return nil
	}
	w.i += len([]rune(raw))
	fn := w.peek(0) == '('
	if double || (!fn && legacyPseudoElements[name]) {
		return w.pseudoElement(name, fn, start)
	}
	if w.pseudoEl != "" {
		if after := w.pseudoEl; after == "part" || strings.HasPrefix(after, "-webkit-") {
			// ::part(x):hover, ::-webkit-scrollbar:horizontal
			if !fn && (chromePseudoClasses[name] || cascadiaPseudoClasses[name]) {
				return nil
			}
		}
		return fmt.Errorf("::%s must end its selector; :%s cannot follow it", w.pseudoEl, raw)
	}
	if hint, ok := notCSS[name]; ok {
		return fmt.Errorf(":%s at character %d is not CSS (%s)", raw, start, hint)
	}
	if !fn {
		switch {
		case cascadiaPseudoClasses[name]:
			w.out.WriteString(":" + raw)
		case chromePseudoClasses[name]:
			w.out.WriteString(":hover") // one cascadia knows, of the same grammar
		case chromeFunctions[name] != "" || name == "not" || name == "has" || strings.HasPrefix(name, "nth-") || name == "lang":
			return fmt.Errorf(":%s at character %d needs an argument in parentheses", raw, start)
		case chromePseudoElements[name]:
			return fmt.Errorf(":%s at character %d is a pseudo-element: write ::%s", raw, start, raw)
		default:
			return fmt.Errorf("unknown pseudo-class :%s at character %d", raw, start)
		}
		return nil
	}
	argAt := w.ctx.base + w.i + 1
	arg := w.argument()
	all := arg // arg may become its tail: the selector after "of"
	sub := func(relative bool) (string, error) {
		c := cssContext{depth: w.ctx.depth + 1, base: argAt + utf8.RuneCountInString(all[:len(all)-len(arg)]), relative: relative, inHas: w.ctx.inHas || name == "has", inside: name}
		return cascadiaForm(arg, c)
	}
	switch name {
	case "not", "has":
		if name == "has" && w.ctx.inHas {
			return fmt.Errorf(":has() at character %d cannot be inside :has()", start)
		}
		if strings.TrimSpace(arg) == "" {
			return fmt.Errorf(":%s() at character %d is empty; it takes a selector", raw, start)
		}
		form, err := sub(name == "has")
		if err != nil {
			return err
		}
		w.out.WriteString(":" + name + "(" + form + ")")
	case "nth-child", "nth-last-child":
		// An+B, optionally "of S": S is a selector list, checked as :not(S).
		anb, of, hasOf := cutOf(arg)
		if err := checkNth(raw, anb, start); err != nil {
			return err
		}
		w.out.WriteString(":" + name + "(" + anb + ")")
		if hasOf {
			arg = of
			form, err := sub(false)
			if err != nil {
				return err
			}
			if strings.TrimSpace(form) == "" {
				return fmt.Errorf(":%s(... of) at character %d has no selector after of", raw, start)
			}
			w.out.WriteString(":not(" + form + ")")
		}
	case "nth-of-type", "nth-last-of-type":
		if err := checkNth(raw, arg, start); err != nil {
			return err
		}
		w.out.WriteString(":" + name + "(" + arg + ")")
	case "lang":
		w.out.WriteString(":" + name + "(" + arg + ")")
	default:
		switch chromeFunctions[name] {
		case "forgiving":
			// :is() and :where() drop what they cannot parse: any
			// balanced argument is valid, even an empty one.
			w.out.WriteString(":hover")
		case "selector":
			form, err := sub(false)
			if err != nil {
				return err
			}
			w.out.WriteString(":not(" + form + ")")
		case "ident":
			if !isCSSIdent(strings.TrimSpace(arg)) {
				return fmt.Errorf(":%s() at character %d takes one name, not %q", raw, start, clip(arg))
			}
			w.out.WriteString(":hover")
		default:
			if cascadiaPseudoClasses[name] || chromePseudoClasses[name] {
				return fmt.Errorf(":%s at character %d takes no argument", raw, start)
			}
			return fmt.Errorf("unknown pseudo-class :%s() at character %d", raw, start)
		}
	}
	return nil
}

func (w *cssWriter) pseudoElement(name string, fn bool, start int) error {
	if w.ctx.depth > 0 {
		return fmt.Errorf("a pseudo-element (::%s at character %d) cannot be inside :%s()", name, start, w.ctx.inside)
	}
	if w.pseudoEl != "" {
		prev := w.pseudoEl
		ok := (prev == "before" || prev == "after") && name == "marker" && !fn ||
			(prev == "part" || prev == "slotted") && !fn && chromePseudoElements[name]
		if !ok {
			return fmt.Errorf("::%s must end its selector; ::%s cannot follow it", prev, name)
		}
		w.pseudoEl = name
		return nil
	}
	switch {
	case fn:
		kind := chromeElementFunctions[name]
		if kind == "" {
			return fmt.Errorf("unknown pseudo-element ::%s() at character %d", name, start)
		}
		arg := strings.TrimSpace(w.argument())
		switch kind {
		case "ident":
			if !isCSSIdent(arg) && arg != "*" {
				return fmt.Errorf("::%s() at character %d takes one name, not %q", name, start, clip(arg))
			}
		case "select":
			if !strings.EqualFold(arg, "select") {
				return fmt.Errorf("::%s() at character %d takes select, not %q", name, start, clip(arg))
			}
		case "idents":
			for _, f := range strings.Fields(arg) {
				if !isCSSIdent(f) {
					return fmt.Errorf("::%s() at character %d takes names, not %q", name, start, clip(arg))
				}
			}
			if arg == "" {
				return fmt.Errorf("::%s() at character %d needs a name", name, start)
			}
		case "compound", "selector":
			// One compound selector (::slotted) or a list (::cue), checked
			// as the argument of :not(), which is the same grammar.
			form, err := cascadiaForm(arg, cssContext{depth: w.ctx.depth + 1, inside: ":" + name})
			if err != nil {
				return err
			}
			if _, err := cascadia.ParseGroup(form); err != nil || strings.TrimSpace(arg) == "" {
				return fmt.Errorf("::%s() at character %d needs a selector, not %q", name, start, clip(arg))
			}
			if kind == "compound" && strings.ContainsAny(strings.TrimSpace(form), " >+~,") {
				return fmt.Errorf("::%s() at character %d takes one compound selector, not %q", name, start, clip(arg))
			}
		}
	case chromePseudoElements[name] || strings.HasPrefix(name, "-webkit-"):
	default:
		return fmt.Errorf("unknown pseudo-element ::%s at character %d", name, start)
	}
	w.pseudoEl = name
	w.out.WriteString("::before") // one cascadia knows
	return nil
}

// checkNth checks the An+B of an :nth-* pseudo-class.
func checkNth(name, anb string, at int) error {
	if _, err := cascadia.Parse(":nth-child(" + anb + ")"); err != nil {
		return fmt.Errorf(":%s(%s) at character %d: the argument must be An+B, such as 2n+1, 3, -n+3, odd or even", name, clip(anb), at)
	}
	return nil
}

// cutOf splits the argument of :nth-child at " of ".
func cutOf(arg string) (anb, of string, ok bool) {
	m := nthOfRe.FindStringSubmatchIndex(arg)
	if m == nil {
		return arg, "", false
	}
	if m[4] < 0 {
		return arg[m[2]:m[3]], "", true
	}
	return arg[m[2]:m[3]], arg[m[4]:], true
}

var nthOfRe = regexp.MustCompile(`^(?s)(.*?\S)\s+[oO][fF](?:\s(.*))?$`)

func isCSSSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' }

func nameStartRune(r rune) bool {
	return r == '_' || r == '-' || r >= 0x80 || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
}

// isCSSIdent reports whether s is a plain identifier (no escapes).
func isCSSIdent(s string) bool {
	rs := []rune(s)
	if len(rs) == 0 || !nameStartAt(rs, 0) {
		return len(rs) >= 2 && rs[0] == '-' && rs[1] == '-'
	}
	for _, r := range rs {
		if !isNameRune(r) {
			return false
		}
	}
	return true
}

// cascadiaPseudoClasses are the pseudo-classes cascadia knows that Chrome
// knows too, without an argument.
var cascadiaPseudoClasses = setOf("first-child", "last-child", "first-of-type", "last-of-type", "only-child",
	"only-of-type", "empty", "root", "link", "enabled", "disabled", "checked", "visited", "hover", "active",
	"focus", "target")

// chromePseudoClasses are the pseudo-classes without an argument Chrome's
// querySelector accepts that cascadia does not know. The Chrome test asks
// Chrome about each of them.
var chromePseudoClasses = setOf("focus-visible", "focus-within", "required", "optional", "read-only",
	"read-write", "placeholder-shown", "scope", "defined", "any-link", "indeterminate", "default", "valid",
	"invalid", "user-valid", "user-invalid", "in-range", "out-of-range", "modal", "popover-open", "open",
	"fullscreen", "picture-in-picture", "active-view-transition", "current", "past", "future", "autofill",
	"host", "target-current", "-webkit-autofill", "-webkit-any-link", "-webkit-full-screen",
	"window-inactive", "horizontal", "vertical", "-webkit-drag", "xr-overlay")

// chromeFunctions are Chrome's functional pseudo-classes cascadia does not
// know, by the grammar of their argument.
var chromeFunctions = map[string]string{
	"is": "forgiving", "where": "forgiving",
	"host": "selector", "host-context": "selector", "-webkit-any": "selector",
	"dir": "ident", "state": "ident", "active-view-transition-type": "ident",
}

// legacyPseudoElements may be written with one colon.
var legacyPseudoElements = setOf("before", "after", "first-line", "first-letter")

// chromePseudoElements are the pseudo-elements without an argument Chrome's
// querySelector accepts (any ::-webkit-* too).
var chromePseudoElements = setOf("before", "after", "marker", "placeholder", "selection", "first-line",
	"first-letter", "backdrop", "file-selector-button", "target-text", "spelling-error", "grammar-error",
	"cue", "details-content", "view-transition", "scroll-marker", "scroll-marker-group", "column",
	"checkmark", "picker-icon", "search-text")

// chromeElementFunctions are Chrome's functional pseudo-elements, by the
// grammar of their argument.
var chromeElementFunctions = map[string]string{
	"part": "idents", "slotted": "compound", "cue": "selector", "highlight": "ident",
	"view-transition-group": "ident", "view-transition-image-pair": "ident", "view-transition-old": "ident",
	"view-transition-new": "ident", "picker": "select",
}

// notCSS are cascadia's (and jQuery's) extensions, which Chrome refuses.
var notCSS = map[string]string{
	"contains":    "a jQuery extension; match the text with text=Buy or role=button[name=\"Buy\"]",
	"containsown": "a jQuery extension; match the text with text=",
	"matches":     "an old name of :is()",
	"matchesown":  "not a pseudo-class of any browser; match the text with text=",
	"haschild":    "write :has(> child)",
	"input":       "a jQuery extension; write input, select, textarea, button",
}

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}
