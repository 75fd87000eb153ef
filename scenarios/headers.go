package scenarios

import (
	"net/url"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// AnyOrigin in headers_origins sends the flow's headers to every origin, as
// uxprobe did before headers_origins existed.
const AnyOrigin = "*"

// HeaderOrigins returns the origins that get the flow's headers: those of
// its goto URLs, plus headers_origins. A token meant for the site must not
// reach every third-party host its pages load from. The list holds
// AnyOrigin when headers_origins asked for every origin.
func (f *Flow) HeaderOrigins() []string {
	var out []string
	for _, st := range f.Steps {
		if g, ok := st.Action.(Goto); ok {
			if o, ok := Origin(g.URL); ok && !slices.Contains(out, o) {
				out = append(out, o)
			}
		}
	}
	for _, o := range f.HeadersOrigins {
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out
}

// Origin returns the origin of a URL as browsers write it: lower-case
// scheme and host, the port only when it is not the scheme's default.
func Origin(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", false
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // IPv6
	}
	if port != "" {
		host += ":" + port
	}
	return u.Scheme + "://" + host, true
}

// parseHeadersOrigins reads headers_origins: origins (scheme://host[:port])
// or "*", one or a list.
func (p *parser) parseHeadersOrigins(n *yaml.Node) []string {
	items, ok := p.stringList(n, "headers_origins")
	if !ok {
		return nil
	}
	var out []string
	for _, it := range items {
		s, ok := p.str(it, "headers_origins")
		if !ok {
			continue
		}
		if s == AnyOrigin {
			out = append(out, AnyOrigin)
			continue
		}
		o, ok := Origin(s)
		if u, err := url.Parse(s); !ok || err != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			p.errorf(it, "headers_origins entry %q is not an origin; write scheme://host[:port], such as https://api.example.com, or \"*\" for every origin", clip(s))
			continue
		}
		out = append(out, o)
	}
	return out
}
