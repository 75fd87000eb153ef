package runner

import (
	"context"
	"net/http"
	"strconv"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/uxprobe/uxprobe/scenarios"
)

// routes is what the flow's block and mock keys make of a paused request:
// fail it, answer it, or let it go on (with the flow's headers when it is
// for one of the flow's own origins, headers.go). Block comes first: a
// request both lists match never leaves, answered or not.
type routes struct {
	block []scenarios.URLPattern
	mocks []scenarios.Mock
	own   string // the flow's own origin, which third-party leaves out
}

func newRoutes(f *scenarios.Flow) routes {
	return routes{block: f.Block, mocks: f.Mocks, own: f.OwnOrigin()}
}

func (r routes) empty() bool { return len(r.block) == 0 && len(r.mocks) == 0 }

// blocked reports whether the flow blocks the URL.
func (r routes) blocked(url string) bool {
	for _, b := range r.block {
		if b.Match(url, r.own) {
			return true
		}
	}
	return false
}

// mock returns the first mock whose URL matches, or nil.
func (r routes) mock(url string) *scenarios.Mock {
	for i := range r.mocks {
		if r.mocks[i].URL.Match(url, r.own) {
			return &r.mocks[i]
		}
	}
	return nil
}

// patterns are the Fetch patterns that pause at least the requests the
// routes decide on.
func (r routes) patterns() []string {
	var out []string
	for _, b := range r.block {
		out = append(out, b.FetchPattern())
	}
	for _, m := range r.mocks {
		out = append(out, m.URL.FetchPattern())
	}
	return out
}

// failBlocked fails a paused request as an ad blocker does: the page sees
// net::ERR_BLOCKED_BY_CLIENT, and no byte leaves the machine.
func failBlocked(ctx context.Context, t *chromedp.Target, ev *fetch.EventRequestPaused) error {
	_, err := cdp.Call(ctx, t, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonBlockedByClient})
	return err
}

// fulfillMock answers a paused request with the mock. A mocked third-party
// API is often called with fetch() across origins, which the browser
// allows only with CORS headers: the answer carries those that allow the
// asking origin, and a preflight is answered as a server that allows it
// would.
func fulfillMock(ctx context.Context, t *chromedp.Target, ev *fetch.EventRequestPaused, m *scenarios.Mock) error {
	var hs []*fetch.HeaderEntry
	origin := requestHeader(ev, "Origin")
	if origin != "" {
		hs = append(hs, &fetch.HeaderEntry{Name: "Access-Control-Allow-Origin", Value: origin},
			&fetch.HeaderEntry{Name: "Access-Control-Allow-Credentials", Value: "true"},
			&fetch.HeaderEntry{Name: "Vary", Value: "Origin"})
	}
	if ev.Request != nil && ev.Request.Method == http.MethodOptions && requestHeader(ev, "Access-Control-Request-Method") != "" {
		hs = append(hs, &fetch.HeaderEntry{Name: "Access-Control-Allow-Methods", Value: requestHeader(ev, "Access-Control-Request-Method")})
		if h := requestHeader(ev, "Access-Control-Request-Headers"); h != "" {
			hs = append(hs, &fetch.HeaderEntry{Name: "Access-Control-Allow-Headers", Value: h})
		}
		_, err := cdp.Call(ctx, t, fetch.FulfillRequest, fetch.FulfillRequestParams{RequestID: ev.RequestID, ResponseCode: http.StatusNoContent, ResponseHeaders: hs})
		return err
	}
	if m.ContentType != "" {
		hs = append(hs, &fetch.HeaderEntry{Name: "Content-Type", Value: m.ContentType})
	}
	hs = append(hs, &fetch.HeaderEntry{Name: "Content-Length", Value: strconv.Itoa(len(m.Body))},
		&fetch.HeaderEntry{Name: "Cache-Control", Value: "no-store"})
	_, err := cdp.Call(ctx, t, fetch.FulfillRequest, fetch.FulfillRequestParams{RequestID: ev.RequestID, ResponseCode: int64(m.Status), ResponseHeaders: hs, Body: m.Body})
	return err
}

// requestHeader is a header of the paused request, in any case.
func requestHeader(ev *fetch.EventRequestPaused, name string) string {
	if ev.Request == nil {
		return ""
	}
	for k, v := range ev.Request.Headers {
		if http.CanonicalHeaderKey(k) == http.CanonicalHeaderKey(name) {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}
