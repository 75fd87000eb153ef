package runner

import (
	"context"
	"strings"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/uxprobe/uxprobe/scenarios"
)

// enableHeaders sends the flow's headers to its own origins only. Chrome's
// Network.setExtraHTTPHeaders would add them to every request, third-party
// subresources included, so a token meant for the site would reach every
// host its pages load from. Fetch interception pauses only the requests
// whose URL matches an origin's pattern; each gets the headers added and
// goes on. Chrome does not carry the added headers over a redirect, so a
// redirect to another host does not get them either.
func enableHeaders(ctx, tab context.Context, t *chromedp.Target, f *scenarios.Flow) error {
	if len(f.Headers) == 0 {
		return nil
	}
	origins := f.HeaderOrigins()
	for _, o := range origins {
		if o == scenarios.AnyOrigin {
			h := network.Headers{}
			for k, v := range f.Headers {
				h[k] = v
			}
			_, err := cdp.Call(ctx, t, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: h})
			return err
		}
	}
	if len(origins) == 0 {
		return nil // no goto: the flow never opens a page of its own
	}
	if err := chromedp.Listen(tab, func(ev any) {
		if ev, ok := ev.(*fetch.EventRequestPaused); ok {
			// A listener must not send commands (chromedp's read loop
			// would wait on itself); the request waits until this answers.
			go continueWithHeaders(tab, t, ev, f.Headers)
		}
	}); err != nil {
		return err
	}
	patterns := make([]*fetch.RequestPattern, len(origins))
	for i, o := range origins {
		// An origin has no wildcard characters; the "/" after it keeps
		// https://shop.example.com from matching shop.example.com.evil.
		patterns[i] = &fetch.RequestPattern{URLPattern: o + "/*", RequestStage: fetch.RequestStageRequest}
	}
	_, err := cdp.Call(ctx, t, fetch.Enable, fetch.EnableParams{Patterns: patterns})
	return err
}

// continueWithHeaders lets a paused request go on with the flow's headers
// in place of any of the same name.
func continueWithHeaders(ctx context.Context, t *chromedp.Target, ev *fetch.EventRequestPaused, extra map[string]string) {
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
	// Best effort: a tab that closed meanwhile took the request with it.
	_, _ = cdp.Call(ctx, t, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID, Headers: hs})
}

func hasHeader(h map[string]string, name string) bool {
	for k := range h {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}
