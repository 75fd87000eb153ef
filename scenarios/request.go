package scenarios

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Request is an HTTP request a flow sends besides what its pages load, to
// set up or clean up through a site's API, with the cookies of the run's
// browser context.
type Request struct {
	Method  string
	URL     string
	Headers map[string]string
	Body    string
	// Status lists the statuses the answer may have (a cleanup takes
	// [204, 404]: deleted, or already gone); empty means any 2xx.
	Status []int
}

// Requester is what the request action needs besides Page. The runner's
// page implements it.
type Requester interface {
	// Send sends the request and returns the answer's status; an error is a
	// request that got no answer.
	Send(ctx context.Context, r Request) (status int, err error)
}

// Kind implements Action.
func (a Request) Kind() string { return kindOf(a) }

// Do sends the request and checks the answer's status.
func (a Request) Do(ctx context.Context, p Page) error {
	rq, ok := p.(Requester)
	if !ok {
		return Fail(KindScript, "request needs a page that sends requests")
	}
	status, err := rq.Send(ctx, a)
	if err != nil {
		return err
	}
	switch {
	case len(a.Status) > 0 && !slices.Contains(a.Status, status):
		return Fail(KindAssertion, "%s %s returned HTTP %d, expected %s", a.Method, a.URL, status, statusList(a.Status))
	case len(a.Status) == 0 && (status < 200 || status > 299):
		return Fail(KindAssertion, "%s %s returned HTTP %d, expected a 2xx status", a.Method, a.URL, status)
	}
	return nil
}

var methodRe = regexp.MustCompile(`^[A-Z]+$`)

var requestSpec = actionSpec{
	name: "request", doc: "Send an HTTP request with the cookies of the run's browser context, such as an API call that sets up or cleans up; status asserts the answer (default any 2xx).",
	scalar: "url",
	params: []param{
		{name: "method", typ: typeMethod, doc: "the HTTP method, default GET"},
		{name: "url", typ: typeString, required: true, doc: "the URL"},
		{name: "headers", typ: typeHeaders, doc: "request headers"},
		{name: "body", typ: typeString, doc: "the request body"},
		{name: "status", typ: typeStatus, doc: "the status the answer must have, or a list of the statuses it may have ([204, 404]); default any 2xx"},
	},
	zero: Request{},
	build: func(a args) Action {
		r := Request{Method: a.str("method"), URL: a.str("url"), Body: a.str("body")}
		if r.Method == "" {
			r.Method = "GET"
		}
		if h, ok := a["headers"].(map[string]string); ok {
			r.Headers = h
		}
		if s, ok := a["status"].([]int); ok {
			r.Status = s
		}
		return r
	},
}

func (p *parser) method(n *yaml.Node, what string) (any, bool) {
	s, ok := p.scalar(n, what)
	if !ok {
		return nil, false
	}
	if !methodRe.MatchString(s) {
		p.errorf(n, "%s %q must be an HTTP method in capitals, such as GET, POST, PUT or DELETE", what, clip(s))
		return nil, false
	}
	return s, true
}

// status reads one status or a list of them.
func (p *parser) status(n *yaml.Node, what string) (any, bool) {
	items := []*yaml.Node{n}
	if r := p.resolve(n); r.Kind == yaml.SequenceNode {
		if len(r.Content) == 0 {
			p.errorf(r, "%s is an empty list; list the statuses the answer may have, such as [204, 404]", what)
			return nil, false
		}
		items = r.Content
	}
	codes := make([]int, 0, len(items))
	good := true
	for _, c := range items {
		s, ok := p.scalar(c, what)
		if !ok {
			good = false
			continue
		}
		code, err := strconv.Atoi(s)
		if err != nil || code < 100 || code > 599 {
			p.errorf(c, "%s %q must be an HTTP status from 100 to 599", what, clip(s))
			good = false
			continue
		}
		codes = append(codes, code)
	}
	return codes, good
}

// statusList says "204", "204 or 404", "200, 204 or 404".
func statusList(codes []int) string {
	s := make([]string, len(codes))
	for i, c := range codes {
		s[i] = strconv.Itoa(c)
	}
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// Credentials are the user and password of a site's HTTP basic auth.
type Credentials struct {
	Username string
	Password string
}

func decodeCredentials(p *parser, v *yaml.Node, f *Flow) {
	pairs, ok := p.mapping(v, "http_credentials", []string{"username", "password"})
	if !ok {
		return
	}
	c := &Credentials{}
	seen := map[string]bool{}
	for _, kv := range pairs {
		s, ok := p.str(kv.value, "http_credentials "+kv.key.Value)
		if !ok {
			return
		}
		seen[kv.key.Value] = true
		if kv.key.Value == "username" {
			c.Username = s
		} else {
			c.Password = s
		}
	}
	if !seen["username"] || !seen["password"] {
		p.errorf(v, "http_credentials needs username and password")
		return
	}
	f.HTTPCredentials = c
	// The password is a secret wherever it would show: in messages,
	// results, logs and file names.
	f.addStaticSecret(c.Password)
}

func (f *Flow) addStaticSecret(v string) {
	if v == "" {
		return
	}
	f.secrets = append(f.secrets, v)
	sortLongestFirst(f.secrets)
}

func sortLongestFirst(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && len(s[j]) > len(s[j-1]); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func (r Request) String() string { return fmt.Sprintf("%s %s", r.Method, strings.TrimSpace(r.URL)) }
