package runner

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/security"
	"github.com/chromedp/chromedp"

	"github.com/uxprobe/uxprobe/scenarios"
)

var _ scenarios.Requester = (*tabPage)(nil)

// maxRequestBody bounds what is read of a request step's answer, which is
// only drained so the connection can be reused.
const maxRequestBody = 1 << 20

// Send implements scenarios.Requester. It sends the request from Go with
// the cookies the run's browser context has for the URL, the flow's headers
// and, when the server asks, its HTTP credentials: from the page, fetch()
// would be bound by CORS, which an API call to set up or clean up is not
// about.
func (p *tabPage) Send(ctx context.Context, r scenarios.Request) (int, error) {
	url := p.flow.Mask(r.URL)
	cookies, err := cdp.Call(ctx, p.t, network.GetCookies, network.GetCookiesParams{URLs: []string{r.URL}})
	if err != nil {
		return 0, p.wrap(ctx, err)
	}
	var jar []string
	for _, c := range cookies.Cookies {
		jar = append(jar, c.Name+"="+c.Value)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if p.flow.IgnoreHTTPSErrors {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the flow asked for it: a self-signed test site
	}
	defer tr.CloseIdleConnections()
	origins := p.flow.HeaderOrigins()
	client := &http.Client{Transport: tr, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRequestRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRequestRedirects)
		}
		return redirected(ctx, p, req, via[0], origins, r.Headers)
	}}
	send := func(auth bool) (int, error) {
		req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, strings.NewReader(r.Body))
		if err != nil {
			return 0, scenarios.Fail(scenarios.KindNavigation, "%s %s is not a valid request: %s", r.Method, url, p.flow.Mask(err.Error()))
		}
		if ownOrigin(r.URL, origins) {
			for k, v := range p.flow.Headers {
				req.Header.Set(k, v)
			}
		}
		for k, v := range r.Headers {
			req.Header.Set(k, v)
		}
		if len(jar) > 0 {
			req.Header.Set("Cookie", strings.Join(jar, "; "))
		}
		if auth {
			req.SetBasicAuth(p.flow.HTTPCredentials.Username, p.flow.HTTPCredentials.Password)
		}
		resp, err := client.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return 0, scenarios.Fail(scenarios.KindTimeout, "%s %s got no answer within %s", r.Method, url, p.timeout)
			}
			var ue interface{ Unwrap() error }
			if errors.As(err, &ue) {
				err = ue.Unwrap()
			}
			return 0, scenarios.Fail(scenarios.KindNavigation, "%s %s failed: %s", r.Method, url, p.flow.Mask(err.Error()))
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxRequestBody))
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	status, err := send(false)
	if err == nil && status == http.StatusUnauthorized && p.flow.HTTPCredentials != nil {
		status, err = send(true)
	}
	return status, err
}

// maxRequestRedirects is how many redirects a request step follows, as
// Go's client does by default.
const maxRequestRedirects = 10

// ownOrigin reports whether the URL is of one of the flow's own origins,
// which get its headers (see scenarios.Flow.HeaderOrigins).
func ownOrigin(url string, origins []string) bool {
	o, ok := scenarios.Origin(url)
	return slices.ContainsFunc(origins, func(own string) bool {
		return own == scenarios.AnyOrigin || ok && own == o
	})
}

// redirected prepares the next hop of a request step's redirect. Go's
// client copies every header of the first request to it, and the cookies
// and credentials too when the host is the same whatever the port. The
// flow's headers go on only to the flow's own origins; the first
// request's cookies are replaced by those the browser has for the new URL,
// and its credentials (the answer to the first origin's challenge) do not
// leave that origin. Headers the step itself set are its own to send.
func redirected(ctx context.Context, p *tabPage, req, first *http.Request, origins []string, stepHeaders map[string]string) error {
	set := func(k string) bool {
		for sk := range stepHeaders {
			if strings.EqualFold(sk, k) {
				return true
			}
		}
		return false
	}
	if !ownOrigin(req.URL.String(), origins) {
		for k := range p.flow.Headers {
			if !set(k) {
				req.Header.Del(k)
			}
		}
	}
	o1, _ := scenarios.Origin(first.URL.String())
	if o2, _ := scenarios.Origin(req.URL.String()); o1 != o2 && !set("Authorization") {
		req.Header.Del("Authorization")
	}
	if !set("Cookie") {
		req.Header.Del("Cookie")
		cookies, err := cdp.Call(ctx, p.t, network.GetCookies, network.GetCookiesParams{URLs: []string{req.URL.String()}})
		if err != nil {
			return err
		}
		var jar []string
		for _, c := range cookies.Cookies {
			jar = append(jar, c.Name+"="+c.Value)
		}
		if len(jar) > 0 {
			req.Header.Set("Cookie", strings.Join(jar, "; "))
		}
	}
	return nil
}

// siteAccess prepares a tab for the flow's TLS, HTTP auth and header
// settings: certificate errors ignored, and one Fetch interception (Chrome
// keeps one set of patterns per target, so two users of Fetch.enable would
// undo each other) that answers basic auth challenges with the flow's
// credentials, adds the flow's headers to its own origins (headers.go), and
// blocks and mocks what the flow's block and mock lists match (routes.go).
// ctx bounds the commands; tab is the tab's life, for the listener;
// blocked hears the network id of each request the flow's block list fails.
func siteAccess(ctx, tab context.Context, t *chromedp.Target, f *scenarios.Flow, blocked func(networkID string)) error {
	if f.IgnoreHTTPSErrors {
		if _, err := cdp.Call(ctx, t, security.SetIgnoreCertificateErrors, security.SetIgnoreCertificateErrorsParams{Ignore: true}); err != nil {
			return err
		}
	}
	return interceptRequests(ctx, tab, t, f, blocked)
}
