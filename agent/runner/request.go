package runner

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
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
	client := &http.Client{Transport: tr}
	send := func(auth bool) (int, error) {
		req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, strings.NewReader(r.Body))
		if err != nil {
			return 0, scenarios.Fail(scenarios.KindNavigation, "%s %s is not a valid request: %s", r.Method, url, p.flow.Mask(err.Error()))
		}
		for k, v := range p.flow.Headers {
			req.Header.Set(k, v)
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

// siteAccess prepares a tab for the flow's TLS, HTTP auth and header
// settings: certificate errors ignored, and one Fetch interception (Chrome
// keeps one set of patterns per target, so two users of Fetch.enable would
// undo each other) that answers basic auth challenges with the flow's
// credentials and adds the flow's headers to its own origins (headers.go).
// ctx bounds the commands; tab is the tab's life, for the listener.
func siteAccess(ctx, tab context.Context, t *chromedp.Target, f *scenarios.Flow) error {
	if f.IgnoreHTTPSErrors {
		if _, err := cdp.Call(ctx, t, security.SetIgnoreCertificateErrors, security.SetIgnoreCertificateErrorsParams{Ignore: true}); err != nil {
			return err
		}
	}
	return interceptRequests(ctx, tab, t, f)
}
