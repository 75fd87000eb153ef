package runner

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/har"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/uxprobe/uxprobe/agent/redact"
	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// HARMode says when a run's network log is written (--artifacts.har).
type HARMode string

// The HAR modes. The zero value writes none.
const (
	HAROnFailure HARMode = "on-failure"
	HARAlways    HARMode = "always"
	HARNever     HARMode = "never"
)

// ParseHARMode checks a --artifacts.har value.
func ParseHARMode(s string) (HARMode, error) {
	switch m := HARMode(s); m {
	case HAROnFailure, HARAlways, HARNever:
		return m, nil
	}
	return "", fmt.Errorf("%q: want on-failure, always or never", s)
}

// harFile is the name of a run's HAR beside its screenshots.
const harFile = "network.har"

// maxHAREntries bounds the log of a page that never stops requesting.
const maxHAREntries = 2000

// sanitizedHeaders carry credentials whatever the flow declares as secret;
// their values are replaced, as Chrome DevTools' sanitized HAR export does.
var sanitizedHeaders = []string{"authorization", "cookie", "set-cookie", "proxy-authorization"}

// harRecorder builds a HAR 1.2 log of a tab's requests from the network
// events the tracker also hears. Response bodies are not kept: they may
// hold anything, and a HAR is for timings and statuses. The log keeps
// what Chrome reported; encode passes every string of it through the
// redaction boundary, with the secrets the run knows by then.
type harRecorder struct {
	step func() string

	mu      sync.Mutex
	entries []*harEntry
	byID    map[network.RequestID]*harEntry
	// sentHeaders are the headers Chrome reports it really sent
	// (requestWillBeSentExtraInfo), when they arrive before their request.
	sentHeaders map[network.RequestID]network.Headers
	dropped     int
	blocked     map[network.RequestID]bool // requests the flow blocked, until their failure
}

// markBlocked records a request the flow's block list fails.
func (h *harRecorder) markBlocked(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.blocked == nil {
		h.blocked = map[network.RequestID]bool{}
	}
	h.blocked[network.RequestID(id)] = true
}

// harEntry is a HAR entry with the step that was running when the request
// started, as a custom field (HAR's custom fields start with "_").
type harEntry struct {
	*har.Entry
	Step string `json:"_step,omitempty"`
	// BlockedByFlow marks a request the flow's block list failed on
	// purpose: status 0 and net::ERR_BLOCKED_BY_CLIENT, as DevTools shows
	// an ad blocker's, but no failure of the site.
	BlockedByFlow bool `json:"_blocked_by_flow,omitempty"`

	wallStart   time.Time
	monoStart   float64 // seconds, the event's monotonic timestamp
	timing      *network.ResourceTiming
	headersDone float64 // ms after the request started, when the headers arrived
}

func newHARRecorder(step func() string) *harRecorder {
	return &harRecorder{step: step, byID: map[network.RequestID]*harEntry{}, sentHeaders: map[network.RequestID]network.Headers{}}
}

func (h *harRecorder) listen(ev any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		if ev.Request == nil {
			return
		}
		if prev := h.byID[ev.RequestID]; prev != nil && ev.RedirectResponse != nil {
			// A redirect reuses the request id: the hop ends here, as its
			// own entry, and the next one starts.
			h.respond(prev, ev.RedirectResponse)
			prev.Response.RedirectURL = ev.Request.URL
			h.finish(prev, float64(ev.Timestamp), 0)
		}
		sent, haveSent := h.sentHeaders[ev.RequestID]
		delete(h.sentHeaders, ev.RequestID)
		if len(h.entries) >= maxHAREntries {
			h.dropped++
			return
		}
		e := &harEntry{Entry: &har.Entry{
			Request: h.request(ev.Request),
			Response: &har.Response{
				Cookies: []*har.Cookie{}, Headers: []*har.NameValuePair{},
				Content: &har.Content{MimeType: "x-unknown"}, HeadersSize: -1, BodySize: -1,
			},
			Cache:   &har.Cache{},
			Timings: &har.Timings{Send: 0, Wait: 0, Receive: 0},
		}, Step: h.step()}
		e.wallStart = time.UnixMicro(int64(float64(ev.WallTime) * 1e6)).UTC()
		e.monoStart = float64(ev.Timestamp)
		e.StartedDateTime = e.wallStart.Format("2006-01-02T15:04:05.000Z07:00")
		if haveSent {
			e.Request.Headers = h.headers(sent)
		}
		h.entries = append(h.entries, e)
		h.byID[ev.RequestID] = e
	case *network.EventRequestWillBeSentExtraInfo:
		// What went over the wire: the headers Chrome adds and those the
		// flow's headers add through request interception, which
		// requestWillBeSent does not show.
		if e := h.byID[ev.RequestID]; e != nil {
			e.Request.Headers = h.headers(ev.Headers)
		} else if len(h.sentHeaders) < maxHAREntries {
			h.sentHeaders[ev.RequestID] = ev.Headers
		}
	case *network.EventResponseReceived:
		if e := h.byID[ev.RequestID]; e != nil && ev.Response != nil {
			h.respond(e, ev.Response)
		}
	case *network.EventLoadingFinished:
		if e := h.byID[ev.RequestID]; e != nil {
			h.finish(e, float64(ev.Timestamp), int64(ev.EncodedDataLength))
			delete(h.byID, ev.RequestID)
		}
	case *network.EventLoadingFailed:
		defer delete(h.blocked, ev.RequestID)
		if e := h.byID[ev.RequestID]; e != nil {
			// HAR has no field for a network error: status 0 and the
			// error as the status text, as DevTools writes it.
			e.Response.StatusText = ev.ErrorText
			if ev.Canceled {
				e.Response.StatusText = "canceled"
			}
			if h.blocked[ev.RequestID] {
				e.BlockedByFlow = true
			}
			h.finish(e, float64(ev.Timestamp), 0)
			delete(h.byID, ev.RequestID)
		}
	}
}

func (h *harRecorder) request(r *network.Request) *har.Request {
	req := &har.Request{
		Method: r.Method, URL: r.URL, HTTPVersion: "",
		Cookies: []*har.Cookie{}, Headers: h.headers(r.Headers), QueryString: []*har.NameValuePair{},
		HeadersSize: -1, BodySize: 0,
	}
	if r.HasPostData {
		var body []byte
		for _, p := range r.PostDataEntries {
			body = append(body, p.Bytes...)
		}
		req.BodySize = int64(len(body))
		mime, _ := r.Headers["Content-Type"].(string)
		req.PostData = &har.PostData{MimeType: mime, Params: []*har.Param{}, Text: string(body)}
	}
	return req
}

func (h *harRecorder) headers(hs network.Headers) []*har.NameValuePair {
	out := make([]*har.NameValuePair, 0, len(hs))
	for k, v := range hs {
		val := fmt.Sprint(v)
		if slices.Contains(sanitizedHeaders, strings.ToLower(k)) {
			val = "***"
		}
		out = append(out, &har.NameValuePair{Name: k, Value: val})
	}
	slices.SortFunc(out, func(a, b *har.NameValuePair) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func (h *harRecorder) respond(e *harEntry, r *network.Response) {
	e.Response.Status = r.Status
	e.Response.StatusText = r.StatusText
	e.Response.HTTPVersion = r.Protocol
	e.Request.HTTPVersion = r.Protocol
	e.Response.Headers = h.headers(r.Headers)
	e.Response.Content.MimeType = r.MimeType
	e.ServerIPAddress = r.RemoteIPAddress
	if len(r.RequestHeaders) > 0 {
		// What went over the wire, with the headers Chrome adds.
		e.Request.Headers = h.headers(r.RequestHeaders)
	}
	if r.Timing != nil {
		e.timing = r.Timing
		e.headersDone = r.Timing.ReceiveHeadersEnd
	}
}

// finish fills the timings: Chrome's ResourceTiming gives the phases in
// milliseconds after its requestTime; the rest, to the end of loading, is
// receive.
func (h *harRecorder) finish(e *harEntry, endMono float64, bytes int64) {
	if bytes > 0 {
		e.Response.BodySize = bytes
		e.Response.Content.Size = bytes
	}
	total := math.Max(0, (endMono-e.monoStart)*1000)
	t := e.timing
	if t == nil {
		e.Timings.Wait = total
		e.Time = total
		return
	}
	phase := func(start, end float64) *float64 {
		if start < 0 || end < start {
			v := -1.0
			return &v
		}
		v := end - start
		return &v
	}
	// requestTime may be later than the event's timestamp (queueing);
	// blocked is that gap plus what precedes DNS.
	offset := math.Max(0, (t.RequestTime-e.monoStart)*1000)
	first := t.SendStart
	for _, s := range []float64{t.DNSStart, t.ConnectStart} {
		if s >= 0 && s < first {
			first = s
		}
	}
	blocked := offset + math.Max(0, first)
	e.Timings.Blocked = &blocked
	e.Timings.DNS = phase(t.DNSStart, t.DNSEnd)
	e.Timings.Connect = phase(t.ConnectStart, t.ConnectEnd)
	e.Timings.Ssl = phase(t.SslStart, t.SslEnd)
	e.Timings.Send = math.Max(0, t.SendEnd-t.SendStart)
	e.Timings.Wait = math.Max(0, t.ReceiveHeadersEnd-t.SendEnd)
	e.Timings.Receive = math.Max(0, total-offset-t.ReceiveHeadersEnd)
	e.Time = blocked + e.Timings.Send + e.Timings.Wait + e.Timings.Receive
	for _, p := range []*float64{e.Timings.DNS, e.Timings.Connect} {
		if *p > 0 {
			e.Time += *p
		}
	}
}

// harLog is har.Log with our entries: a field at a shallower depth wins
// over the embedded one in encoding/json.
type harLog struct {
	*har.Log
	Entries []*harEntry `json:"entries"`
}

// queryString is the query of a URL already masked, as HAR lists it.
// Parsing the masked URL, not Chrome's, matters: the parser splits at "&"
// and decodes "+" and "%XX", which would cut a secret into parts that no
// longer look like it (a base64 token, a value with "&").
func queryString(masked string) []*har.NameValuePair {
	out := []*har.NameValuePair{}
	u, err := url.Parse(masked)
	if err != nil {
		return out
	}
	for k, vs := range u.Query() {
		for _, v := range vs {
			out = append(out, &har.NameValuePair{Name: k, Value: v})
		}
	}
	slices.SortFunc(out, func(a, b *har.NameValuePair) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Value, b.Value))
	})
	return out
}

// encode renders the log as a HAR 1.2 document, through the redaction
// boundary: every string masked with the flow's secrets (those the run
// extracted included), the query lists parsed from the masked URLs and
// masked once more as decoded, nothing clipped.
func (h *harRecorder) encode(res *result.Result, f *scenarios.Flow) ([]byte, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range h.entries {
		e.Request.URL = redact.String(e.Request.URL, f, redact.NoClip)
		e.Request.QueryString = queryString(e.Request.URL)
	}
	comment := ""
	if h.dropped > 0 {
		comment = fmt.Sprintf("%d further requests left out", h.dropped)
	}
	doc := struct {
		Log harLog `json:"log"`
	}{harLog{
		Log: &har.Log{Version: "1.2", Creator: &har.Creator{Name: "uxprobe", Version: "1"},
			Comment: fmt.Sprintf("flow %s on %s, started %s. %s", res.Flow, res.Device, res.StartedAt.Format(time.RFC3339), comment)},
		Entries: h.entries,
	}}
	if doc.Log.Entries == nil {
		doc.Log.Entries = []*harEntry{}
	}
	redact.Value(reflect.ValueOf(&doc).Elem(), f, func(string) int { return redact.NoClip })
	return json.MarshalIndent(doc, "", " ")
}

// wantHAR reports whether the run's log is to be written.
func (r *Runner) wantHAR(res *result.Result) bool {
	switch r.HAR {
	case HARAlways:
		return true
	case HAROnFailure:
		return !res.Success
	}
	return false
}

// saveHAR writes the run's HAR beside its screenshots and names it in the
// result; a failure to write is logged, not the run's failure.
func (r *Runner) saveHAR(h *harRecorder, res *result.Result, f *scenarios.Flow, d scenarios.Device) {
	if h == nil || r.ArtifactsDir == "" || !r.wantHAR(res) {
		return
	}
	shot, err := r.screenshotPath(f, d)("x")
	if err != nil {
		return
	}
	path := filepath.Join(filepath.Dir(shot), harFile)
	data, err := h.encode(res, f)
	if err != nil {
		r.logger().Warn("encoding the run's HAR", "flow", f.Name, "device", d.Name, "err", err)
		return
	}
	// Written like a screenshot: an unwritable HAR is logged and counted
	// as an artifact error, never the run's failure.
	if r.saveArtifact(f, d, path, data) {
		res.HAR = path
	}
}

// recordHAR starts a HAR recorder on the tab when the run may need one.
func (r *Runner) recordHAR(ctx context.Context, ev *tracker, f *scenarios.Flow) *harRecorder {
	if r.HAR != HAROnFailure && r.HAR != HARAlways || r.ArtifactsDir == "" {
		return nil
	}
	h := newHARRecorder(ev.currentStep)
	if err := chromedp.Listen(ctx, h.listen); err != nil {
		r.logger().Warn("recording the run's HAR", "flow", f.Name, "err", err)
		return nil
	}
	return h
}
