package runner

import (
	"context"
	"time"

	"github.com/uxprobe/uxprobe/scenarios"
)

var _ scenarios.NetworkEmulator = (*tabPage)(nil)

// SetOffline implements scenarios.NetworkEmulator with Chrome's network
// emulation, which DevTools' Offline uses too: navigator.onLine follows,
// the page gets offline and online events, and every request fails while
// offline. Back online, the flow's throttling profile applies again.
func (p *tabPage) SetOffline(ctx context.Context, offline bool) error {
	if err := emulateNetwork(ctx, p, offline); err != nil {
		return p.wrap(ctx, err)
	}
	p.offline = offline
	return nil
}

// emulateNetwork sets the tab's network conditions: offline, or the
// flow's profile (no throttling for none).
func emulateNetwork(ctx context.Context, p *tabPage, offline bool) error {
	// cdproto no longer generates Network.emulateNetworkConditions (see
	// setup in runner.go); -1 is Chrome's "no limit".
	n := p.flow.Network
	params := map[string]any{"offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
	if n.Throttled() {
		params["latency"], params["downloadThroughput"], params["uploadThroughput"] = n.LatencyMillis, n.DownloadBytesPerSec, n.UploadBytesPerSec
	}
	return p.t.Call(ctx, "Network.emulateNetworkConditions", params, nil)
}

// backOnline gives the network back to a run that its steps left offline,
// before the finally steps, which clean up through it.
func (p *tabPage) backOnline(tab context.Context) {
	if !p.offline {
		return
	}
	ctx, cancel := context.WithTimeout(tab, 5*time.Second)
	defer cancel()
	if emulateNetwork(ctx, p, false) == nil {
		p.offline = false
	}
}
