package runner

import (
	"context"
	"fmt"
	"time"

	"github.com/uxprobe/uxprobe/agent/result"
)

// pageVitals is what the helper reports of the current document, from the
// browser's own performance entries; times are milliseconds from the start
// of the navigation.
type pageVitals struct {
	Origin float64  `json:"origin"`
	URL    string   `json:"url"`
	Status int      `json:"status"`
	TTFB   *float64 `json:"ttfb"`
	DCL    *float64 `json:"dcl"`
	Load   *float64 `json:"load"`
	FCP    *float64 `json:"fcp"`
	LCP    *float64 `json:"lcp"`
	CLS    *float64 `json:"cls"`
}

// snapshot reads the current document's vitals after a step. The last
// snapshot of a document before the flow leaves it is its record: LCP and
// CLS only grow while the user stays on the page.
func (r *Runner) snapshot(ctx context.Context, pg *tabPage, ev *tracker, byLoader map[string]pageVitals, settle bool) {
	ev.mu.Lock()
	doc := ev.current()
	var loader string
	if doc != nil {
		loader = doc.loaderID
	}
	ev.mu.Unlock()
	if loader == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var v pageVitals
	expr := "__uxprobe.vitals(false)"
	if settle {
		expr = "__uxprobe.vitals(true)"
	}
	if err := pg.call(ctx, expr, &v); err != nil {
		return
	}
	byLoader[loader] = v
}

// collect builds the result's pages from the documents the tracker saw and
// the vitals snapshots, plus the page errors.
func (r *Runner) collect(res *result.Result, ev *tracker, byLoader map[string]pageVitals) {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	for _, d := range ev.docs {
		if d.download {
			continue // no page: the result lists it as a download
		}
		if len(res.Pages) >= maxPages {
			res.PagesOmitted++
			continue
		}
		p := result.Page{
			URL:            ev.mask(d.url),
			Step:           d.step,
			Status:         d.status,
			Requests:       d.requests,
			FailedRequests: d.failed,
			TransferBytes:  d.transferBytes,
		}
		if v, ok := byLoader[d.loaderID]; ok {
			p.TTFBSeconds = seconds(v.TTFB)
			p.DOMContentLoadedSeconds = seconds(v.DCL)
			p.LoadSeconds = seconds(v.Load)
			p.FCPSeconds = seconds(v.FCP)
			p.LCPSeconds = seconds(v.LCP)
			p.CLS = v.CLS
			if p.Status == 0 {
				p.Status = v.Status
			}
		}
		res.Pages = append(res.Pages, p)
	}
	res.ConsoleErrors = append(res.ConsoleErrors, ev.console...)
	if ev.extraErrs > 0 {
		res.ConsoleErrors = append(res.ConsoleErrors, fmt.Sprintf("(%d more not kept)", ev.extraErrs))
	}
	res.FailedRequests = append(res.FailedRequests, ev.failed...)
	ev.collectDownloads(res)
}

func seconds(ms *float64) *float64 {
	if ms == nil {
		return nil
	}
	s := *ms / 1000
	return &s
}
