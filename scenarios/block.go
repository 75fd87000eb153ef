package scenarios

import (
	"regexp"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"
)

// ThirdParty in block stands for every origin other than the flow's own
// (OwnOrigin): scheme, host and port.
const ThirdParty = "third-party"

// URLPattern is a URL glob of block and mock: `*` matches any characters,
// `/` included, and everything else matches itself (a `?` is a query's,
// not a wildcard). The pattern matches the whole URL, so
// *://*.doubleclick.net/* blocks every request to doubleclick's
// subdomains. ThirdParty is a pattern too.
type URLPattern struct {
	// Glob is the pattern as the flow wrote it, or ThirdParty.
	Glob string
	re   *regexp.Regexp
}

// newURLPattern compiles a glob (not ThirdParty).
func newURLPattern(glob string) URLPattern {
	parts := strings.Split(glob, "*")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return URLPattern{Glob: glob, re: regexp.MustCompile(`^` + strings.Join(parts, `.*`) + `$`)}
}

// Match reports whether url matches the pattern; own is the flow's own
// origin (OwnOrigin), which ThirdParty leaves out.
func (u URLPattern) Match(url, own string) bool {
	if u.Glob == ThirdParty {
		o, ok := Origin(url)
		return ok && own != "" && o != own
	}
	return u.re != nil && u.re.MatchString(url)
}

// FetchPattern is the pattern for Chrome's Fetch.enable that pauses at
// least the requests the pattern matches: Chrome's `*` is ours, its `?`
// matches any one character and `\` escapes both, so a literal `?` or `\`
// is escaped. ThirdParty needs every request.
func (u URLPattern) FetchPattern() string {
	if u.Glob == ThirdParty {
		return "*"
	}
	return strings.NewReplacer(`\`, `\\`, `?`, `\?`).Replace(u.Glob)
}

func (u URLPattern) String() string { return u.Glob }

// OwnOrigin is the flow's own origin, which third-party leaves out: that
// of its first goto URL, or "" when it has none.
func (f *Flow) OwnOrigin() string {
	for _, st := range f.Steps {
		if g, ok := st.Action.(Goto); ok {
			o, _ := Origin(g.URL)
			return o
		}
	}
	return ""
}

// urlGlob reads one URL glob and checks it: a glob matches whole URLs, so
// one that starts with neither a scheme nor * matches nothing.
func (p *parser) urlGlob(n *yaml.Node, what string, thirdParty bool) (URLPattern, bool) {
	s, ok := p.str(n, what)
	if !ok {
		return URLPattern{}, false
	}
	if s == ThirdParty {
		if thirdParty {
			return URLPattern{Glob: ThirdParty}, true
		}
		p.errorf(n, "%s cannot be %s, which only block takes: a mock answers the URLs of one glob, such as https://pay.example.com/*", what, ThirdParty)
		return URLPattern{}, false
	}
	lit, _, _ := strings.Cut(s, "*")
	schemeOK := strings.HasPrefix(lit, "http://") || strings.HasPrefix(lit, "https://") ||
		(strings.Contains(s, "*") && (strings.HasPrefix("https://", lit) || strings.HasPrefix("http://", lit)))
	switch {
	case s == "":
		p.errorf(n, "%s is empty; write a URL glob such as *://*.doubleclick.net/*", what)
	case strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		p.errorf(n, "%s %q has a space or control character, which no URL has", what, clip(s))
	case !schemeOK:
		hint := "such as *://*.doubleclick.net/* or https://cdn.example.com/*"
		if thirdParty {
			hint += ", or " + ThirdParty + " for every origin other than the flow's own"
		}
		p.errorf(n, "%s %q matches no URL: a glob matches whole URLs, so it starts with http://, https:// or *; write it %s", what, clip(s), hint)
	default:
		return newURLPattern(s), true
	}
	return URLPattern{}, false
}

func decodeBlock(p *parser, v *yaml.Node, f *Flow) {
	items, ok := p.stringList(v, "block")
	if !ok {
		return
	}
	if len(items) == 0 {
		p.errorf(v, "block is empty; list URL globs such as *://*.doubleclick.net/*, or leave block out")
		return
	}
	for _, it := range items {
		if p.exhausted(it) {
			return
		}
		if u, ok := p.urlGlob(it, "block pattern", true); ok {
			f.Block = append(f.Block, u)
		}
	}
}
