package scenarios

import (
	"context"

	"gopkg.in/yaml.v3"
)

// SetNetwork takes the page offline or back online, to test what an app
// does without a network (an offline banner, a queued form) for a range
// of steps. Online again keeps the flow's throttling profile (network),
// and a run that ends offline is back online before its finally steps.
type SetNetwork struct{ Offline bool }

// The states of a network step.
const (
	NetworkOffline = "offline"
	NetworkOnline  = "online"
)

// NetworkEmulator is what the network step needs besides Page. The
// runner's page implements it.
type NetworkEmulator interface {
	// SetOffline takes the page's network away (offline) or gives it back
	// with the flow's throttling profile: navigator.onLine follows, and
	// the page gets its offline and online events.
	SetOffline(ctx context.Context, offline bool) error
}

// Kind implements Action.
func (a SetNetwork) Kind() string { return kindOf(a) }

// Do switches the network.
func (a SetNetwork) Do(ctx context.Context, p Page) error {
	ne, ok := p.(NetworkEmulator)
	if !ok {
		return Fail(KindScript, "network needs a page that emulates the network")
	}
	return ne.SetOffline(ctx, a.Offline)
}

var networkStepSpec = actionSpec{
	name: "network", doc: "Take the page offline or back online (with the flow's throttling profile) for the steps that follow; the run is back online at its end.",
	scalar: "state",
	params: []param{{name: "state", typ: typeNetworkState, required: true, doc: "offline or online"}},
	zero:   SetNetwork{},
	build:  func(a args) Action { return SetNetwork{Offline: a.str("state") == NetworkOffline} },
}

func (p *parser) networkState(n *yaml.Node, what string) (any, bool) {
	s, ok := p.scalar(n, what)
	if !ok {
		return nil, false
	}
	if s != NetworkOffline && s != NetworkOnline {
		p.errorf(n, "%s %q must be %s or %s%s", what, clip(s), NetworkOffline, NetworkOnline, didYouMean(s, []string{NetworkOffline, NetworkOnline}))
		return nil, false
	}
	return s, true
}
