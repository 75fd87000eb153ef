package runner

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/uxprobe/uxprobe/scenarios"
)

// interceptRequests pauses the requests that need the flow's help and
// answers them, in one Fetch.requestPaused handler so that the flow's
// block, mock, headers and credentials never fight over a request: a
// blocked URL fails (routes.go; blocked reports its network id first, so
// that the failure is counted as blocked, not failed), a mocked one is
// answered from the flow, a request to the flow's own origins goes on with
// its headers, and any other goes on as it is. Basic auth challenges get
// the flow's http_credentials. Chrome's Network.setExtraHTTPHeaders would
// add the headers to every request, third-party subresources included, so
// a token meant for the site would reach every host its pages load from.
// Without credentials only the requests whose URL matches an origin's,
// block's or mock's pattern are paused, since each pause is a round trip;
// with credentials every request is, because Chrome raises auth challenges
// only for paused ones. Chrome does not carry added headers over a
// redirect, so a redirect to another host does not get them; each hop of
// a redirect is paused again, so a redirect to a blocked URL is blocked.
func interceptRequests(ctx, tab context.Context, t *chromedp.Target, f *scenarios.Flow, blocked func(networkID string)) error {
	creds := f.HTTPCredentials
	rt := newRoutes(f)
	var origins []string
	if len(f.Headers) > 0 {
		origins = f.HeaderOrigins()
		for _, o := range origins {
			if o == scenarios.AnyOrigin {
				h := network.Headers{}
				for k, v := range f.Headers {
					h[k] = v
				}
				if _, err := cdp.Call(ctx, t, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: h}); err != nil {
					return err
				}
				origins = nil // every request has them already
				break
			}
		}
	}
	if creds == nil && len(origins) == 0 && rt.empty() {
		return nil
	}
	ownOrigin := func(url string) bool {
		for _, o := range origins {
			// An origin has no path; the "/" after it keeps
			// https://shop.example.com from matching shop.example.com.evil.
			if strings.HasPrefix(url, o+"/") || url == o {
				return true
			}
		}
		return false
	}
	// A listener must not send commands (chromedp's read loop would wait
	// on itself): the answers go out from goroutines, bounded, and a tab
	// that closed meanwhile took its request with it.
	answer := func(fn func(ctx context.Context) error) {
		go func() {
			ctx, cancel := context.WithTimeout(tab, 5*time.Second)
			defer cancel()
			_ = fn(ctx)
		}()
	}
	if err := chromedp.Listen(tab, func(ev any) {
		switch ev := ev.(type) {
		case *fetch.EventRequestPaused:
			url := ""
			if ev.Request != nil {
				url = ev.Request.URL
			}
			switch m := rt.mock(url); {
			case rt.blocked(url):
				// Before the failure is asked for, in the read loop that
				// delivers it too: the tracker knows it when it arrives.
				if blocked != nil && ev.NetworkID != "" {
					blocked(string(ev.NetworkID))
				}
				answer(func(ctx context.Context) error { return failBlocked(ctx, t, ev) })
			case m != nil:
				answer(func(ctx context.Context) error { return fulfillMock(ctx, t, ev, m) })
			case ownOrigin(url):
				answer(func(ctx context.Context) error { return continueWithHeaders(ctx, t, ev, f.Headers) })
			default:
				answer(func(ctx context.Context) error {
					_, err := cdp.Call(ctx, t, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
					return err
				})
			}
		case *fetch.EventAuthRequired:
			if creds == nil {
				return
			}
			answer(func(ctx context.Context) error {
				_, err := cdp.Call(ctx, t, fetch.ContinueWithAuth, fetch.ContinueWithAuthParams{RequestID: ev.RequestID,
					AuthChallengeResponse: &fetch.AuthChallengeResponse{Response: fetch.AuthChallengeResponseResponseProvideCredentials, Username: creds.Username, Password: creds.Password}})
				return err
			})
		}
	}); err != nil {
		return err
	}
	params := fetch.EnableParams{}
	patterns := rt.patterns()
	for _, o := range origins {
		patterns = append(patterns, o+"/*")
	}
	if creds != nil || slices.Contains(patterns, "*") {
		patterns = []string{"*"}
	}
	if creds != nil {
		params.HandleAuthRequests = ptr(true)
	}
	for _, p := range patterns {
		params.Patterns = append(params.Patterns, &fetch.RequestPattern{URLPattern: p, RequestStage: fetch.RequestStageRequest})
	}
	_, err := cdp.Call(ctx, t, fetch.Enable, params)
	return err
}

// continueWithHeaders lets a paused request go on with the flow's headers
// in place of any of the same name.
func continueWithHeaders(ctx context.Context, t *chromedp.Target, ev *fetch.EventRequestPaused, extra map[string]string) error {
	var hs []*fetch.HeaderEntry
	if ev.Request != nil {
		for k, v := range ev.Request.Headers {
			if !hasHeader(extra, k) {
				if s, ok := v.(string); ok {
					hs = append(hs, &fetch.HeaderEntry{Name: k, Value: s})
				}
			}
		}
	}
	for k, v := range extra {
		hs = append(hs, &fetch.HeaderEntry{Name: k, Value: v})
	}
	_, err := cdp.Call(ctx, t, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID, Headers: hs})
	return err
}

func hasHeader(h map[string]string, name string) bool {
	for k := range h {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}
