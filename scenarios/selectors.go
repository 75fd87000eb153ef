package scenarios

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// The selector kinds people use on sites they did not write, where ids are
// missing and classes are generated: by ARIA role and accessible name, by the
// label of a form control, by placeholder, by data-testid, and chains of
// segments joined by ">>".
const (
	SelectorRole        SelectorKind = "role"
	SelectorLabel       SelectorKind = "label"
	SelectorPlaceholder SelectorKind = "placeholder"
	SelectorTestID      SelectorKind = "testid"
	// SelectorChain is several segments, each applied inside the matches of
	// the one before (an <iframe> match continues in its document); nth=N
	// picks one match. Its Value is the JSON of the segments, which the
	// page's selector engine reads without parsing text again.
	SelectorChain SelectorKind = "chain"
)

// Segment is one part of a selector chain.
type Segment struct {
	Kind  SelectorKind `json:"kind"`
	Value string       `json:"value,omitempty"`
	// Name is a role segment's accessible name, "" for any name.
	Name string `json:"name,omitempty"`
	// HasName tells role=button[name=""] from role=button.
	HasName bool `json:"has_name,omitempty"`
	// Nth is the index of an nth segment: 0 is the first match, -1 the last.
	Nth int `json:"nth,omitempty"`
}

// segmentNth picks one of the matches so far; it has no value of its own.
const segmentNth SelectorKind = "nth"

// prefixKinds are the kinds a selector segment names with a prefix.
var prefixKinds = []SelectorKind{SelectorText, SelectorXPath, SelectorCSS, SelectorRole, SelectorLabel, SelectorPlaceholder, SelectorTestID, segmentNth}

// ariaRoles are the WAI-ARIA 1.2 roles a role= selector may name; a typo
// such as "buton" is a load error with a suggestion, not a selector that
// never matches.
var ariaRoles = []string{
	"alert", "alertdialog", "application", "article", "banner", "blockquote", "button", "caption", "cell",
	"checkbox", "code", "columnheader", "combobox", "complementary", "contentinfo", "definition", "deletion",
	"dialog", "directory", "document", "emphasis", "feed", "figure", "form", "generic", "grid", "gridcell",
	"group", "heading", "img", "insertion", "link", "list", "listbox", "listitem", "log", "main", "marquee",
	"math", "menu", "menubar", "menuitem", "menuitemcheckbox", "menuitemradio", "meter", "navigation", "none",
	"note", "option", "paragraph", "presentation", "progressbar", "radio", "radiogroup", "region", "row",
	"rowgroup", "rowheader", "scrollbar", "search", "searchbox", "separator", "slider", "spinbutton", "status",
	"strong", "subscript", "superscript", "switch", "tab", "table", "tablist", "tabpanel", "term", "textbox",
	"time", "timer", "toolbar", "tooltip", "tree", "treegrid", "treeitem",
}

// SelectorForms says in one line what a selector may be, for messages.
const SelectorForms = `a CSS selector, text=Visible text, xpath=//path, role=button[name="Place order"], label=Email, placeholder=Search, testid=checkout, joined with >> (and nth=N to pick one match)`

var roleRe = regexp.MustCompile(`^([a-z]+)\s*(?:\[\s*name\s*=\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([^\]"'\s][^\]"']*?))\s*\])?$`)

// parseSelectorText parses every selector form. A selector of one CSS,
// text or XPath segment keeps its simple form, so existing selectors reach
// the page exactly as before. checkAs, if set, gives the text whose syntax
// a CSS or XPath segment is judged by (run-time variables replaced).
func parseSelectorText(s string, checkAs func(string) string) (Selector, error) {
	parts, err := splitChain(s)
	if err != nil {
		return Selector{}, err
	}
	segs := make([]Segment, 0, len(parts))
	for i, part := range parts {
		if len(parts) > 1 {
			part = strings.TrimSpace(part)
		}
		seg, err := parseSegment(part, checkAs)
		if err != nil {
			if len(parts) > 1 {
				return Selector{}, fmt.Errorf("segment %d (%q): %w", i+1, clip(strings.TrimSpace(part)), err)
			}
			return Selector{}, err
		}
		if seg.Kind == segmentNth && i == 0 {
			return Selector{}, errors.New("nth=N picks one of the matches of the selector before it, so it cannot come first (write \"li >> nth=0\")")
		}
		segs = append(segs, seg)
	}
	if len(segs) == 1 && segs[0].Kind != SelectorRole {
		return Selector{Kind: segs[0].Kind, Value: segs[0].Value}, nil
	}
	b, _ := json.Marshal(segs)
	return Selector{Kind: SelectorChain, Value: string(b)}, nil
}

// splitChain splits at ">>" outside quotes and brackets: a role's name or an
// attribute value may contain ">>".
func splitChain(s string) ([]string, error) {
	var parts []string
	var quote rune
	depth, start := 0, 0
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		switch r := rs[i]; {
		case quote != 0:
			if r == '\\' {
				i++
			} else if r == quote {
				quote = 0
			}
		case r == '"' || r == '\'':
			quote = r
		case r == '[' || r == '(':
			depth++
		case r == ']' || r == ')':
			depth--
		case r == '>' && depth <= 0 && i+1 < len(rs) && rs[i+1] == '>':
			parts = append(parts, string(rs[start:i]))
			start = i + 2
			i++
		}
	}
	parts = append(parts, string(rs[start:]))
	for _, p := range parts {
		if strings.TrimSpace(p) == "" {
			if len(parts) > 1 {
				return nil, errors.New("empty segment between >>")
			}
			return nil, errors.New("empty selector")
		}
	}
	return parts, nil
}

func parseSegment(s string, checkAs func(string) string) (Segment, error) {
	kind, value := SelectorCSS, s
	for _, k := range prefixKinds {
		if v, ok := strings.CutPrefix(s, string(k)+"="); ok {
			kind, value = k, v
			break
		}
	}
	if strings.TrimSpace(value) == "" {
		if kind == SelectorCSS {
			return Segment{}, errors.New("empty selector")
		}
		return Segment{}, fmt.Errorf("empty %s= selector", kind)
	}
	switch kind {
	case segmentNth:
		n, err := strconv.Atoi(strings.TrimSpace(value))
		if err != nil || n < -1 {
			return Segment{}, fmt.Errorf("nth=%s must be a whole number: 0 for the first match, 1 for the second, -1 for the last", clip(value))
		}
		return Segment{Kind: kind, Nth: n}, nil
	case SelectorRole:
		m := roleRe.FindStringSubmatch(strings.TrimSpace(value))
		if m == nil {
			return Segment{}, fmt.Errorf("role=%s is not of the form role=button or role=button[name=\"Place order\"]", clip(value))
		}
		if !contains(ariaRoles, m[1]) {
			return Segment{}, fmt.Errorf("unknown ARIA role %q%s", clip(m[1]), didYouMean(m[1], ariaRoles))
		}
		seg := Segment{Kind: kind, Value: m[1]}
		if strings.Contains(value, "[") {
			seg.HasName = true
			seg.Name = unescapeQuoted(m[2]+m[3]) + m[4] // m[4]: a name without quotes, as in role=button[name=Pay]
		}
		return seg, nil
	case SelectorText, SelectorLabel, SelectorPlaceholder, SelectorTestID:
		// Visible text and names keep their spaces as written; the page
		// normalises them.
		return Segment{Kind: kind, Value: value}, nil
	}
	// CSS and XPath: a syntax error is a load error with its position, not
	// a selector that never matches (selector_syntax.go).
	judged := value
	if checkAs != nil {
		judged = checkAs(value)
	}
	if err := checkSelector(Selector{Kind: kind, Value: judged}); err != nil {
		what := map[SelectorKind]string{SelectorCSS: "CSS selector", SelectorXPath: "XPath"}[kind]
		return Segment{}, fmt.Errorf("%s %q is not valid: %v", what, clip(value), err)
	}
	return Segment{Kind: kind, Value: value}, nil
}

func unescapeQuoted(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Segments returns the selector as chain segments.
func (s Selector) Segments() []Segment {
	if s.Kind != SelectorChain {
		return []Segment{{Kind: s.Kind, Value: s.Value}}
	}
	var segs []Segment
	_ = json.Unmarshal([]byte(s.Value), &segs)
	return segs
}

func (g Segment) String() string {
	switch g.Kind {
	case SelectorCSS:
		return g.Value
	case segmentNth:
		return "nth=" + strconv.Itoa(g.Nth)
	case SelectorRole:
		if g.HasName {
			return fmt.Sprintf("role=%s[name=%s]", g.Value, strconv.Quote(g.Name))
		}
		return "role=" + g.Value
	}
	return string(g.Kind) + "=" + g.Value
}

// chainString renders a chain the way a user writes it.
func chainString(segs []Segment) string {
	out := make([]string, len(segs))
	for i, g := range segs {
		out[i] = g.String()
	}
	return strings.Join(out, " >> ")
}

// runtimePlaceholder stands for a run-time variable while a selector is
// judged at load: an identifier as long as "${name}", so that
// "g#uxedi${run_id} .node" is judged as "g#uxedivvvvvvvvv .node" and a
// position in a message is still the user's. The value is judged when it
// is bound (checkBound).
func runtimePlaceholder(s string) string {
	return varRe.ReplaceAllStringFunc(s, func(m string) string { return strings.Repeat("v", len([]rune(m))) })
}

// checkBound judges the CSS and XPath segments of a selector once its
// run-time variables have values: a value can make it invalid ("#${id}"
// with an id that starts with a digit).
func checkBound(s Selector) error {
	for _, g := range s.Segments() {
		if g.Kind != SelectorCSS && g.Kind != SelectorXPath {
			continue
		}
		if err := checkSelector(Selector{Kind: g.Kind, Value: g.Value}); err != nil {
			return Fail(KindScript, "selector %s is not valid once its variables are substituted: %v", clip(s.String()), err)
		}
	}
	return nil
}

// expandSelector substitutes run-time variables in the selector's values.
func expandSelector(s Selector, expand func(string) (string, error)) (Selector, error) {
	if s.Kind != SelectorChain {
		v, err := expand(s.Value)
		if err != nil || v == s.Value {
			return Selector{Kind: s.Kind, Value: v}, err
		}
		out := Selector{Kind: s.Kind, Value: v}
		return out, checkBound(out)
	}
	segs := s.Segments()
	for i := range segs {
		var err error
		if segs[i].Value, err = expand(segs[i].Value); err != nil {
			return s, err
		}
		if segs[i].Name, err = expand(segs[i].Name); err != nil {
			return s, err
		}
	}
	b, _ := json.Marshal(segs)
	out := Selector{Kind: SelectorChain, Value: string(b)}
	return out, checkBound(out)
}
