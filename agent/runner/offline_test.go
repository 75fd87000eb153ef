package runner

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// offlineSite's page shows navigator.onLine and the offline and online
// events it got; /ping counts the requests that reached the server.
func offlineSite(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var pings atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><title>App</title>
<p id="state"></p><p id="events"></p>
<script>
const show = () => { document.getElementById('state').textContent = navigator.onLine ? 'online' : 'offline'; };
show();
for (const e of ['offline', 'online'])
  addEventListener(e, () => { document.getElementById('events').textContent += e + ' '; show(); });
</script>`)
	})
	mux.HandleFunc("/ping", func(w http.ResponseWriter, r *http.Request) {
		pings.Add(1)
		fmt.Fprint(w, "pong")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &pings
}

// TestNetworkOffline: a network step takes the page offline (its
// navigator.onLine, its offline event, its requests) and back online
// with the flow's throttling profile; a run that ends offline is online
// again for its finally steps.
func TestNetworkOffline(t *testing.T) {
	t.Parallel()
	const ping = "fetch('/ping?' + Math.random()).then(r => r.ok, () => false)"
	tests := []struct {
		name      string
		keys      string
		steps     string
		finally   string
		wantPings int32
	}{
		{name: "offline, then online",
			steps: "- goto: ${u}/page\n- assert_text: {selector: '#state', equals: online}\n- network: offline\n" +
				"- assert_text: {selector: '#state', equals: offline}\n- assert_text: {selector: '#events', equals: offline}\n" +
				"- eval: \"" + ping + ".then(ok => !ok)\"\n" +
				"- network: online\n- assert_text: {selector: '#state', equals: online}\n- assert_text: {selector: '#events', equals: offline online}\n" +
				"- eval: \"" + ping + "\"",
			wantPings: 1},
		{name: "online again keeps the flow's throttling", keys: "network: slow-3g\n",
			steps: "- goto: ${u}/page\n- eval: navigator.connection.rtt >= 1000\n- network: offline\n- assert_text: {selector: '#state', equals: offline}\n" +
				"- network: online\n- assert_text: {selector: '#state', equals: online}\n- eval: navigator.connection.rtt >= 1000",
		},
		{name: "online again without a profile is unthrottled",
			steps: "- goto: ${u}/page\n- network: offline\n- network: online\n- assert_text: {selector: '#state', equals: online}\n- eval: navigator.connection.rtt < 1000",
		},
		{name: "a run that ends offline cleans up online",
			steps:     "- goto: ${u}/page\n- network: offline\n- assert_text: {selector: '#state', equals: offline}",
			finally:   "- goto: ${u}/page\n- assert_text: {selector: '#state', equals: online}\n- eval: \"" + ping + "\"",
			wantPings: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, pings := offlineSite(t)
			flow := "name: offline\ntimeout: 30s\nstep_timeout: 5s\n" + tc.keys + "steps:\n" + indent(tc.steps)
			if tc.finally != "" {
				flow += "finally:\n" + indent(tc.finally)
			}
			res := (&Runner{Browser: testBrowser}).Run(context.Background(), mustFlow(t, strings.ReplaceAll(flow, "${u}", srv.URL)), desktop(t))
			checkOutcome(t, res, "", "")
			for _, st := range res.Steps {
				if !st.Success {
					t.Errorf("step %s failed: %s", st.Name, st.Error)
				}
			}
			if got := pings.Load(); got != tc.wantPings {
				t.Errorf("the server got %d pings, want %d (none while offline)", got, tc.wantPings)
			}
		})
	}
}
