package pagelog

import "github.com/chromedp/cdproto/network"

// MarkBlocked records that the flow's block list failed the request (its
// network id) before it left: it counts in the result's blocked_requests
// and, unless it was the page's own document, never as a failed request.
// The runner marks it when Chrome pauses it, before the failure it asks
// for arrives.
func (l *Log) MarkBlocked(id string) {
	if l.blocked == nil {
		l.blocked = map[network.RequestID]bool{}
	}
	l.blocked[network.RequestID(id)] = true
	l.blockedCount++
}

// blockedByFlow reports whether a failed request is one the flow blocked,
// and forgets it. A blocked document is still a failed navigation: the
// user sees Chrome's error page instead of the site.
func (l *Log) blockedByFlow(id network.RequestID, d *Document) bool {
	if !l.blocked[id] {
		return false
	}
	delete(l.blocked, id)
	return d == nil || string(id) != d.LoaderID
}
