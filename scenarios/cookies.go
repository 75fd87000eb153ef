package scenarios

import (
	"net/url"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Cookie is one cookie of the flow's `cookies`, set in the run's browser
// context before the first step: a consent banner already answered, a
// feature flag, an A/B bucket. It is scoped by URL, or by Domain and Path.
type Cookie struct {
	Name     string
	Value    string
	URL      string
	Domain   string
	Path     string
	Secure   bool
	HTTPOnly bool
	// SameSite is Strict, Lax or None; empty leaves Chrome's default.
	SameSite string
}

// SameSites are the values of a cookie's same_site.
var SameSites = []string{"Strict", "Lax", "None"}

var cookieKeys = []string{"name", "value", "url", "domain", "path", "secure", "http_only", "same_site"}

// cookieNameRe is an RFC 6265 cookie name: a token.
var cookieNameRe = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

// cookieSchema is the JSON Schema of one cookie.
func cookieSchema() obj {
	return obj{
		"type":                 "object",
		"required":             []string{"name", "value"},
		"oneOf":                []obj{{"required": []string{"url"}}, {"required": []string{"domain"}}},
		"additionalProperties": false,
		"properties": obj{
			"name":      obj{"type": "string", "pattern": jsPattern(cookieNameRe)},
			"value":     ref("scalar"),
			"url":       obj{"type": "string", "description": "The URL the cookie is for (http or https); or give domain and path."},
			"domain":    obj{"type": "string", "description": "The cookie's domain, such as shop.example.com or .example.com."},
			"path":      obj{"type": "string", "description": "The cookie's path with domain. Default /."},
			"secure":    obj{"type": "boolean", "default": false},
			"http_only": obj{"type": "boolean", "default": false},
			"same_site": obj{"enum": SameSites},
		},
	}
}

// parseCookies reads `cookies`: a list of {name, value, url | domain+path,
// secure, http_only, same_site}.
func (p *parser) parseCookies(n *yaml.Node, f *Flow) []Cookie {
	items, ok := p.list(n, "cookies", "a list of {name, value, url}", "leave it out to set no cookies")
	if !ok {
		return nil
	}
	var out []Cookie
	for _, it := range items {
		if p.exhausted(n) {
			return nil
		}
		if c, ok := p.cookie(it, f); ok {
			out = append(out, c)
		}
	}
	return out
}

func (p *parser) cookie(n *yaml.Node, f *Flow) (Cookie, bool) {
	n = p.resolve(n)
	pairs, ok := p.mapping(n, "a cookie", cookieKeys)
	if !ok {
		return Cookie{}, false
	}
	var c Cookie
	good := true
	have := map[string]*yaml.Node{}
	for _, kv := range pairs {
		have[kv.key.Value] = kv.value
		switch kv.key.Value {
		case "name":
			s, ok := p.scalar(kv.value, "cookie name")
			if ok && !cookieNameRe.MatchString(s) {
				p.errorf(kv.value, "cookie name %q must be a token: letters, digits and !#$%%&'*+.^_`|~-, without spaces, = or ;", clip(s))
				ok = false
			}
			c.Name, good = s, good && ok
		case "value":
			s, ok := p.secretAware(kv.value, "cookie value", f)
			if ok && strings.ContainsAny(s, ";\r\n\x00") {
				p.errorf(kv.value, "cookie value must not contain ; or line breaks")
				ok = false
			}
			c.Value, good = s, good && ok
		case "url":
			s, ok := p.str(kv.value, "cookie url")
			if u, err := url.Parse(s); ok && (err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https")) {
				p.errorf(kv.value, "cookie url %q must be an absolute http or https URL, such as https://shop.example.com/", clip(s))
				ok = false
			}
			c.URL, good = s, good && ok
		case "domain":
			s, ok := p.str(kv.value, "cookie domain")
			if ok && (s == "" || strings.ContainsAny(s, "/:; ")) {
				p.errorf(kv.value, "cookie domain %q must be a host name such as shop.example.com or .example.com, without scheme, port or path", clip(s))
				ok = false
			}
			c.Domain, good = s, good && ok
		case "path":
			s, ok := p.str(kv.value, "cookie path")
			if ok && !strings.HasPrefix(s, "/") {
				p.errorf(kv.value, "cookie path %q must start with /", clip(s))
				ok = false
			}
			c.Path, good = s, good && ok
		case "secure":
			v, ok := p.boolean(kv.value, "secure")
			c.Secure, good = v, good && ok
		case "http_only":
			v, ok := p.boolean(kv.value, "http_only")
			c.HTTPOnly, good = v, good && ok
		case "same_site":
			s, ok := p.scalar(kv.value, "same_site")
			if ok && !contains(SameSites, s) {
				p.errorf(kv.value, "same_site %q must be one of %s%s", clip(s), strings.Join(SameSites, ", "), didYouMean(s, SameSites))
				ok = false
			}
			c.SameSite, good = s, good && ok
		}
	}
	switch {
	case have["name"] == nil || have["value"] == nil:
		p.errorf(n, "a cookie needs name and value, and url or domain")
		return Cookie{}, false
	case have["url"] != nil && (have["domain"] != nil || have["path"] != nil):
		p.errorf(n, "cookie %q has url and domain/path; give url, or domain with an optional path", c.Name)
		return Cookie{}, false
	case have["url"] == nil && have["domain"] == nil:
		p.errorf(n, "cookie %q needs url (such as https://shop.example.com/) or domain, to say which site gets it", c.Name)
		return Cookie{}, false
	case c.SameSite == "None" && !c.Secure && good:
		p.errorf(have["same_site"], "cookie %q has same_site: None, which browsers accept only with secure: true", c.Name)
		return Cookie{}, false
	}
	if c.Domain != "" && c.Path == "" {
		c.Path = "/"
	}
	return c, good
}

// parseLocalStorage reads `local_storage`: {ORIGIN: {key: value}}.
func (p *parser) parseLocalStorage(n *yaml.Node, f *Flow) map[string]map[string]string {
	pairs, ok := p.mapping(n, "local_storage", nil)
	if !ok {
		return nil
	}
	out := map[string]map[string]string{}
	for _, kv := range pairs {
		raw, _ := p.expand(kv.key, kv.key.Value)
		o, ok := Origin(raw)
		if u, err := url.Parse(raw); !ok || err != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			p.errorf(kv.key, "local_storage key %q is not an origin; write scheme://host[:port], such as https://shop.example.com", clip(raw))
			continue
		}
		if out[o] != nil {
			p.errorf(kv.key, "local_storage names origin %s twice", o)
			continue
		}
		if m := p.resolve(kv.value); m.Kind != yaml.MappingNode {
			p.errorf(m, "local_storage of %s must be a mapping of key: value, not %s", o, describeNode(m))
			continue
		}
		items, ok := p.mapping(kv.value, "local_storage of "+o, nil)
		if !ok {
			continue
		}
		m := map[string]string{}
		for _, it := range items {
			if v, ok := p.secretAware(it.value, "local_storage value "+it.key.Value, f); ok {
				m[it.key.Value] = v
			}
		}
		out[o] = m
	}
	return out
}

// secretAware reads a value that may come from a secret: one read from
// the environment or from a var the flow's secrets list is masked as a
// whole, like http_credentials' password, wherever it would show.
func (p *parser) secretAware(n *yaml.Node, what string, f *Flow) (string, bool) {
	raw, ok := p.scalar(n, what)
	if !ok {
		return "", false
	}
	v, ok := p.expand(n, raw)
	if !ok {
		return "", false
	}
	secret := false
	for _, m := range varRe.FindAllStringSubmatch(raw, -1) {
		if strings.HasPrefix(m[1], "env:") || p.secretNames[m[1]] {
			secret = true
		}
	}
	if secret {
		f.addStaticSecret(v)
	}
	return v, true
}
