package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// State is what a browser context holds of a logged-in user: its cookies
// and the local storage of the origins it visited. A login flow's run
// exports it; another flow's run starts with it (see agent/sessions). It
// lives in the agent's memory only: it has no JSON form, and nothing of it
// goes into a result.
type State struct {
	Cookies []*network.CookieParam
	// LocalStorage holds {origin: {key: value}}.
	LocalStorage map[string]map[string]string
}

// RunOptions are what one run adds to the flow: RunWith takes them.
type RunOptions struct {
	// State is set in the run's browser context before the first step,
	// before the flow's own cookies and local_storage, which win.
	State *State
	// Export, if set, hears the browser context's state after a
	// successful run, while its tab is still open.
	Export func(*State)
}

// maxStateOrigins bounds the origins whose local storage a run exports
// or fills: each costs a page load in a helper tab.
const maxStateOrigins = 20

// blankPage is what the helper tab's document requests are answered
// with: an empty page of the origin, so that its local storage can be
// read and written without asking the site.
const blankPage = "<!doctype html><title></title>"

// applyState sets the run's starting cookies and local storage: the
// session's, then the flow's. A session cookie Chrome refuses is left out
// (the site set it, so it may not survive the trip); a flow's cookie
// Chrome refuses fails the run before its first step.
func (s *session) applyState() *scenarios.StepError {
	st, f := s.opts.State, s.f
	if st == nil && len(f.Cookies) == 0 && len(f.LocalStorage) == 0 {
		return nil
	}
	c := chromedp.FromContext(s.tab.Ctx)
	ctx := s.tabRunCtx
	if st != nil && len(st.Cookies) > 0 {
		if err := setCookies(ctx, c, st.Cookies); err != nil {
			for _, ck := range st.Cookies { // one by one, to keep the good ones
				_ = setCookies(ctx, c, []*network.CookieParam{ck})
			}
		}
	}
	if len(f.Cookies) > 0 {
		if err := setCookies(ctx, c, flowCookies(f.Cookies)); err != nil {
			if ctx.Err() != nil {
				return s.r.classify(s.parent, s.runCtx, s.tab, s.ev, "setting the flow's cookies", err)
			}
			return scenarios.Fail(scenarios.KindNavigation, "Chrome refused the flow's cookies: %v", err)
		}
	}
	items := map[string]map[string]string{}
	if st != nil {
		for o, kv := range st.LocalStorage {
			items[o] = mergeItems(items[o], kv)
		}
	}
	for o, kv := range f.LocalStorage {
		items[o] = mergeItems(items[o], kv)
	}
	if len(items) == 0 {
		return nil
	}
	if _, err := withOrigins(ctx, s.tab.Ctx, sortedOrigins(items), fillStorage(items)); err != nil {
		return s.r.classify(s.parent, s.runCtx, s.tab, s.ev, "filling local storage", err)
	}
	return nil
}

func mergeItems(dst, src map[string]string) map[string]string {
	if dst == nil {
		dst = map[string]string{}
	}
	for k, v := range src {
		dst[k] = v
	}
	return dst
}

func sortedOrigins[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for o := range m {
		out = append(out, o)
	}
	sort.Strings(out)
	return out
}

func setCookies(ctx context.Context, c *chromedp.Context, cookies []*network.CookieParam) error {
	_, err := cdp.Call(ctx, c.Browser, storage.SetCookies, storage.SetCookiesParams{Cookies: cookies, BrowserContextID: c.BrowserContextID})
	return err
}

func flowCookies(cs []scenarios.Cookie) []*network.CookieParam {
	out := make([]*network.CookieParam, 0, len(cs))
	for _, c := range cs {
		out = append(out, &network.CookieParam{Name: c.Name, Value: c.Value, URL: c.URL, Domain: c.Domain, Path: c.Path,
			Secure: c.Secure, HTTPOnly: c.HTTPOnly, SameSite: network.CookieSameSite(c.SameSite)})
	}
	return out
}

// exportState reads the browser context's cookies and the local storage
// of the origins the run's pages had, for Export.
func (s *session) exportState(res *result.Result) (*State, error) {
	c := chromedp.FromContext(s.tab.Ctx)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.parent), 15*time.Second)
	defer cancel()
	got, err := cdp.Call(ctx, c.Browser, storage.GetCookies, storage.GetCookiesParams{BrowserContextID: c.BrowserContextID})
	if err != nil {
		return nil, err
	}
	st := &State{LocalStorage: map[string]map[string]string{}}
	for _, ck := range got.Cookies {
		st.Cookies = append(st.Cookies, cookieParam(ck))
	}
	var origins []string
	for _, p := range res.Pages {
		if o, ok := scenarios.Origin(p.URL); ok && !slices.Contains(origins, o) {
			origins = append(origins, o)
		}
	}
	for o := range s.f.LocalStorage {
		if !slices.Contains(origins, o) {
			origins = append(origins, o)
		}
	}
	if s.opts.State != nil {
		for o := range s.opts.State.LocalStorage {
			if !slices.Contains(origins, o) {
				origins = append(origins, o)
			}
		}
	}
	if len(origins) == 0 {
		return st, nil
	}
	read, err := withOrigins(ctx, s.tab.Ctx, origins, readStorage)
	if err != nil {
		return nil, err
	}
	for o, kv := range read {
		if len(kv) > 0 {
			st.LocalStorage[o] = kv
		}
	}
	return st, nil
}

// cookieParam is the cookie as Chrome gave it, to set again: a host-only
// cookie (no leading dot) by URL, so that it stays host-only.
func cookieParam(ck *network.Cookie) *network.CookieParam {
	p := &network.CookieParam{Name: ck.Name, Value: ck.Value, Path: ck.Path, Secure: ck.Secure, HTTPOnly: ck.HTTPOnly,
		SameSite: ck.SameSite, Priority: ck.Priority, PartitionKey: ck.PartitionKey}
	if !ck.Session && ck.Expires > 0 {
		p.Expires = cdp.TimeSinceEpoch(ck.Expires)
	}
	if len(ck.Domain) > 0 && ck.Domain[0] == '.' {
		p.Domain = ck.Domain
	} else {
		scheme := "http"
		if ck.Secure {
			scheme = "https"
		}
		p.URL = scheme + "://" + ck.Domain + ck.Path
		p.Path = ""
	}
	return p
}

// originFunc works on the local storage of the origin open in a helper
// tab, through its target.
type originFunc func(ctx context.Context, t *chromedp.Target, origin string) (map[string]string, error)

// withOrigins opens a helper tab in the run's browser context, loads an
// empty page of each origin there (answered by us: the site never sees
// these loads) and runs fn on it. The helper tab has no opener, so the
// run does not take it for a tab its page opened, and its events are not
// the run's tab's.
func withOrigins(ctx, tabCtx context.Context, origins []string, fn originFunc) (map[string]map[string]string, error) {
	if len(origins) > maxStateOrigins {
		origins = origins[:maxStateOrigins]
	}
	hctx, cancel := chromedp.NewContext(tabCtx)
	defer cancel()
	if err := chromedp.Do(hctx); err != nil {
		return nil, fmt.Errorf("opening a tab for local storage: %w", err)
	}
	t := chromedp.FromContext(hctx).Target
	err := chromedp.Listen(hctx, func(ev any) {
		if ev, ok := ev.(*fetch.EventRequestPaused); ok {
			go func() {
				cctx, cancel := context.WithTimeout(hctx, 5*time.Second)
				defer cancel()
				if ev.ResourceType == network.ResourceTypeDocument {
					_, _ = cdp.Call(cctx, t, fetch.FulfillRequest, fetch.FulfillRequestParams{RequestID: ev.RequestID, ResponseCode: 200,
						ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "text/html"}}, Body: []byte(blankPage)})
					return
				}
				_, _ = cdp.Call(cctx, t, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonBlockedByClient})
			}()
		}
	})
	if err != nil {
		return nil, err
	}
	if _, err := cdp.Call(ctx, t, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*"}}}); err != nil {
		return nil, err
	}
	out := map[string]map[string]string{}
	for _, o := range origins {
		nav, err := cdp.Call(ctx, t, page.Navigate, page.NavigateParams{URL: o + "/"})
		if err != nil {
			return nil, err
		}
		if nav.ErrorText != "" {
			return nil, fmt.Errorf("opening %s for its local storage: %s", o, nav.ErrorText)
		}
		kv, err := fn(ctx, t, o)
		if err != nil {
			return nil, err
		}
		out[o] = kv
	}
	return out, nil
}

// evalAt evaluates expr in the helper tab once its document is the
// origin's: Page.navigate answers at the commit, and the new document's
// context may come a moment later.
func evalAt(ctx context.Context, t *chromedp.Target, origin, expr string) (string, error) {
	byValue := true
	js := fmt.Sprintf(`(() => { if (location.origin !== %q) return null; return JSON.stringify(%s); })()`, origin, expr)
	for i := 0; ; i++ {
		res, err := cdp.Call(ctx, t, runtime.Evaluate, runtime.EvaluateParams{Expression: js, ReturnByValue: &byValue})
		if err != nil {
			return "", err
		}
		if res.ExceptionDetails != nil {
			return "", fmt.Errorf("local storage of %s: %s", origin, res.ExceptionDetails.Text)
		}
		var s *string
		if res.Result != nil && json.Unmarshal(res.Result.Value, &s) == nil && s != nil {
			return *s, nil
		}
		if i >= 100 {
			return "", fmt.Errorf("the page of %s did not open for its local storage", origin)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func fillStorage(items map[string]map[string]string) originFunc {
	return func(ctx context.Context, t *chromedp.Target, origin string) (map[string]string, error) {
		data, _ := json.Marshal(items[origin])
		_, err := evalAt(ctx, t, origin, fmt.Sprintf(`((items) => { for (const [k, v] of Object.entries(items)) localStorage.setItem(k, v); return localStorage.length; })(%s)`, data))
		return nil, err
	}
}

func readStorage(ctx context.Context, t *chromedp.Target, origin string) (map[string]string, error) {
	s, err := evalAt(ctx, t, origin, `(() => { const o = {}; for (let i = 0; i < localStorage.length; i++) { const k = localStorage.key(i); o[k] = localStorage.getItem(k); } return o; })()`)
	if err != nil {
		return nil, err
	}
	var kv map[string]string
	if err := json.Unmarshal([]byte(s), &kv); err != nil {
		return nil, err
	}
	return kv, nil
}
