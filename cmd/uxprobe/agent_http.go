package main

import (
	"encoding/json"
	"html/template"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/version"

	"github.com/uxprobe/uxprobe/agent"
	"github.com/uxprobe/uxprobe/agent/result"
)

// indexPage links the endpoints, so that a person who opens the agent's
// address in a browser finds their way.
var indexPage = template.Must(template.New("index").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>uxprobe</title></head>
<body>
<h1>uxprobe</h1>
<p>{{.Version}} &middot; {{.Flows}} flows loaded</p>
<ul>
<li><a href="metrics">/metrics</a> &ndash; Prometheus metrics</li>
<li><a href="api/v1/results">/api/v1/results</a> &ndash; the latest result of each flow and device, as JSON</li>
<li><a href="-/healthy">/-/healthy</a> &ndash; 200 while the process serves</li>
<li><a href="-/ready">/-/ready</a> &ndash; 200 once Chrome is up and the flows are loaded</li>
<li>POST /-/reload &ndash; reread the flow files (as SIGHUP does)</li>
</ul>
</body></html>
`))

// newAgentHandler serves the agent's endpoints.
func newAgentHandler(a *agent.Agent, reg *prometheus.Registry, ready func() bool, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(log.Handler(), slog.LevelError),
		ErrorHandling: promhttp.ContinueOnError,
	}))
	mux.HandleFunc("GET /-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("OK"))
	})
	mux.HandleFunc("GET /-/ready", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !ready() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("Not ready: Chrome is starting or the flows are not loaded yet"))
			return
		}
		_, _ = w.Write([]byte("OK"))
	})
	// A reload changes state, so it takes POST only, as in Prometheus;
	// the method pattern makes the mux answer other methods with 405.
	mux.HandleFunc("POST /-/reload", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := a.Reload(); err != nil {
			log.Error("reload via HTTP incomplete", "err", err)
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte("Reload failed; the flows of invalid files keep their previous version:\n" + err.Error() + "\n"))
			return
		}
		_, _ = w.Write([]byte("OK"))
	})
	mux.HandleFunc("GET /api/v1/results", func(w http.ResponseWriter, _ *http.Request) {
		results := a.Results()
		if results == nil {
			results = []*result.Result{} // [] rather than null for clients
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			log.Debug("writing /api/v1/results", "err", err)
		}
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = indexPage.Execute(w, struct {
			Version string
			Flows   int
		}{"uxprobe " + version.Version + " " + version.Info(), len(a.Flows())})
	})
	return mux
}
