package scenarios

import (
	"mime"
	"path/filepath"
	"strconv"

	"gopkg.in/yaml.v3"
)

// Mock answers the requests its URL matches from the flow, before they
// leave the browser: a payment provider's sandbox answer, or the outage of
// a third-party script.
type Mock struct {
	URL         URLPattern
	Status      int
	ContentType string // "" sends no Content-Type
	Body        []byte
	// File is the file the body came from, as the flow named it; "" for
	// a body written in the flow.
	File string
}

var mockKeys = []string{"url", "status", "content_type", "body", "file"}

func decodeMock(p *parser, v *yaml.Node, f *Flow) {
	items, ok := p.list(v, "mock", "a list of {url, status, content_type, body | file}", "list mocks such as {url: https://pay.example.com/*, body: '{\"ok\":true}'}, or leave mock out")
	if !ok {
		return
	}
	for i, it := range items {
		if p.exhausted(it) {
			return
		}
		if m, ok := p.mock(it, "mock "+strconv.Itoa(i+1)); ok {
			f.Mocks = append(f.Mocks, m)
		}
	}
}

func (p *parser) mock(n *yaml.Node, what string) (Mock, bool) {
	n = p.resolve(n)
	before := len(p.errs)
	pairs, ok := p.mapping(n, what, mockKeys)
	if !ok {
		return Mock{}, false
	}
	m := Mock{Status: 200}
	var haveURL, haveBody, haveType bool
	for _, kv := range pairs {
		switch kv.key.Value {
		case "url":
			if u, ok := p.urlGlob(kv.value, what+" url", false); ok {
				m.URL, haveURL = u, true
			} else {
				haveURL = true // reported
			}
		case "status":
			if s, ok := p.scalar(kv.value, what+" status"); ok {
				code, err := strconv.Atoi(s)
				if err != nil || code < 100 || code > 599 {
					p.errorf(kv.value, "%s status %q must be an HTTP status from 100 to 599", what, clip(s))
				} else {
					m.Status = code
				}
			}
		case "content_type":
			if s, ok := p.str(kv.value, what+" content_type"); ok {
				m.ContentType, haveType = s, true
			}
		case "body":
			if s, ok := p.str(kv.value, what+" body"); ok {
				m.Body = []byte(s)
			}
			if haveBody {
				p.errorf(kv.key, "%s has both body and file; give one of them", what)
			}
			haveBody = true
		case "file":
			if haveBody {
				p.errorf(kv.key, "%s has both body and file; give one of them", what)
			}
			haveBody = true
			if s, ok := p.str(kv.value, what+" file"); ok {
				if data, ok := p.readFlowFile(kv.value, what+" file", s, MaxMockFileBytes); ok {
					m.Body, m.File = data, s
				}
			}
		}
	}
	if !haveURL && len(p.errs) == before {
		p.errorf(n, "%s is missing url; it takes {url, status, content_type, body | file}", what)
	}
	if !haveType && m.File != "" {
		m.ContentType = mime.TypeByExtension(filepath.Ext(m.File))
	}
	if !haveType && m.File == "" && len(m.Body) > 0 {
		m.ContentType = "text/plain; charset=utf-8"
	}
	return m, len(p.errs) == before
}
