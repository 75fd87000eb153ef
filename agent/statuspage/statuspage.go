// Package statuspage serves the run history to people and programs: the
// status page (/, /flows/{flow}, /runs/{id}) and the failure screenshot
// alerts link to (/flows/{flow}/failure.png), server-rendered from embedded
// templates with inline SVG, so it needs no JavaScript, no build step and
// no CDN; and the history API (/api/v1/runs, /api/v1/flows), including
// POST /api/v1/flows/{flow}/run to run a flow now and POST
// /api/v1/runs/{id}/baselines to accept a failed visual check's picture.
package statuspage

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"time"

	"github.com/uxprobe/uxprobe/agent/history"
	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// Store is what the pages read of the history; *history.Store implements
// it.
type Store interface {
	Runs(ctx context.Context, q history.Query) ([]history.Run, error)
	Run(ctx context.Context, id string) (history.Run, error)
	Latest(ctx context.Context) ([]history.Run, error)
	LastOf(ctx context.Context, flow, device string, o result.Outcome) (history.Run, error)
	Points(ctx context.Context, since time.Time) ([]history.Point, error)
	OpenArtifact(ctx context.Context, id, name string) (*os.File, history.Artifact, error)
}

// The errors of Options.RunNow that have their own HTTP status.
var (
	// ErrUnknownFlow answers 404.
	ErrUnknownFlow = errors.New("no such flow")
	// ErrRunning answers 409: the flow is running already.
	ErrRunning = errors.New("the flow is running")
)

// DefaultRefresh is how often the pages reload themselves.
const DefaultRefresh = 30 * time.Second

// window is what the overview's success rate and sparkline cover.
const window = 24 * time.Hour

// pageSize is the length of a page of run history.
const pageSize = 50

// Options configure the Handler.
type Options struct {
	// Store is the history; nil serves pages that say why there is none
	// (StoreError) and 503 from the API.
	Store Store
	// StoreError says why Store is nil, for those pages.
	StoreError func() error
	// Flows returns the loaded flows, so that a flow shows before its first
	// run and in the order of its devices.
	Flows func() []*scenarios.Flow
	// RunNow starts a run of the flow on the device (every device of the
	// flow when empty), out of schedule, and returns the ids its results
	// will have. Errors ErrUnknownFlow and ErrRunning have their own
	// status. Nil answers 404 for every flow.
	RunNow func(flow, device string) ([]string, error)
	// Refresh is how often the pages reload; 0 means DefaultRefresh, a
	// negative value never.
	Refresh time.Duration
	// Now is the clock of ages; nil means time.Now.
	Now func() time.Time
	// Logger receives errors of serving; nil discards them.
	Logger *slog.Logger
	// Prefix is the path the handler is served under, without a trailing
	// slash (the path of --web.external-url): the URLs in the API's answers
	// start with it. The pages' links are relative and need none.
	Prefix string
	// Notice returns a line that every page shows at its top, such as the
	// store's word that it recovered from a damaged database and started
	// anew; empty shows nothing. Nil means none.
	Notice func() string
	// Baselines is the agent's --baselines directory: POST
	// /api/v1/runs/{id}/baselines writes a failed visual step's picture
	// there, and the run page offers it. Empty answers 404 and shows no
	// button.
	Baselines string
}

//go:embed templates/*.html
var templateFS embed.FS

var templates = template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html"))

// Handler serves the pages and the API. Mount it at the root of the
// agent's server: links are relative, so a reverse proxy may add a prefix.
type Handler struct {
	opts Options
	log  *slog.Logger
	mux  *http.ServeMux
}

// New returns the handler.
func New(opts Options) *Handler {
	if opts.Refresh == 0 {
		opts.Refresh = DefaultRefresh
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Flows == nil {
		opts.Flows = func() []*scenarios.Flow { return nil }
	}
	h := &Handler{opts: opts, log: opts.Logger, mux: http.NewServeMux()}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.mux.HandleFunc("GET /{$}", h.overview)
	h.mux.HandleFunc("GET /flows/{flow}", h.flowPage)
	h.mux.HandleFunc("GET /flows/{flow}/failure.png", h.failureShot)
	h.mux.HandleFunc("GET /runs/{id}", h.runPage)
	h.mux.HandleFunc("GET /api/v1/runs", h.apiRuns)
	h.mux.HandleFunc("GET /api/v1/runs/{id}", h.apiRun)
	h.mux.HandleFunc("GET /api/v1/runs/{id}/har", h.apiHAR)
	h.mux.HandleFunc("GET /api/v1/runs/{id}/artifacts/{name}", h.apiArtifact)
	h.mux.HandleFunc("GET /api/v1/flows", h.apiFlows)
	h.mux.HandleFunc("POST /api/v1/flows/{flow}/run", h.apiRunNow)
	// A form of another site must not rewrite baselines with the browser
	// of someone logged in here (the web config's basic auth).
	h.mux.Handle("POST /api/v1/runs/{id}/baselines", http.NewCrossOriginProtection().Handler(http.HandlerFunc(h.apiAcceptBaseline)))
	return h
}

// Patterns are the routes the handler serves, for mounting it on another
// mux.
func Patterns() []string {
	return []string{
		"GET /{$}", "GET /flows/{flow}", "GET /flows/{flow}/failure.png", "GET /runs/{id}",
		"GET /api/v1/runs", "GET /api/v1/runs/{id}", "GET /api/v1/runs/{id}/har",
		"GET /api/v1/runs/{id}/artifacts/{name}", "GET /api/v1/flows", "POST /api/v1/flows/{flow}/run",
		"POST /api/v1/runs/{id}/baselines",
	}
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func (h *Handler) storeMissing(w http.ResponseWriter, html bool) bool {
	if h.opts.Store != nil {
		return false
	}
	msg := "run history is not kept"
	if h.opts.StoreError != nil {
		if err := h.opts.StoreError(); err != nil {
			msg += ": " + err.Error()
		}
	}
	if html {
		h.render(w, http.StatusServiceUnavailable, "error.html", page{Title: "No run history", Root: "./", Refresh: h.refresh(), Message: msg})
	} else {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": msg})
	}
	return true
}

func (h *Handler) refresh() int {
	if h.opts.Refresh < 0 {
		return 0
	}
	return max(1, int(h.opts.Refresh.Seconds()))
}

// page is what every template gets.
type page struct {
	Notice  string // see Options.Notice
	Title   string
	Root    string // relative path to the site's root, ending in "/"
	Refresh int    // seconds; 0 never
	Message string
	Data    any
}

func (h *Handler) render(w http.ResponseWriter, status int, name string, p page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; form-action 'self'")
	w.WriteHeader(status)
	if h.opts.Notice != nil {
		p.Notice = h.opts.Notice()
	}
	if err := templates.ExecuteTemplate(w, name, p); err != nil {
		h.log.Error("rendering a status page", "page", name, "err", err)
	}
}

func (h *Handler) serverError(w http.ResponseWriter, err error) {
	h.log.Error("reading the run history for a page", "err", err)
	h.render(w, http.StatusInternalServerError, "error.html", page{Title: "Error", Root: "./", Message: "The run history could not be read: " + err.Error()})
}

func (h *Handler) overview(w http.ResponseWriter, r *http.Request) {
	if h.storeMissing(w, true) {
		return
	}
	ov, err := h.buildOverview(r.Context(), r.URL.Query().Get("location"), false)
	if err != nil {
		h.serverError(w, err)
		return
	}
	h.render(w, http.StatusOK, "overview.html", page{Title: "uxprobe", Root: "./", Refresh: h.refresh(), Data: ov})
}

func (h *Handler) flowPage(w http.ResponseWriter, r *http.Request) {
	if h.storeMissing(w, true) {
		return
	}
	name := r.PathValue("flow")
	pg, _ := strconv.Atoi(r.URL.Query().Get("page"))
	fp, err := h.buildFlow(r.Context(), name, max(pg, 0))
	if errors.Is(err, history.ErrNotFound) {
		h.render(w, http.StatusNotFound, "error.html", page{Title: "Unknown flow", Root: "../", Message: fmt.Sprintf("No flow %q is loaded or has runs.", name)})
		return
	}
	if err != nil {
		h.serverError(w, err)
		return
	}
	h.render(w, http.StatusOK, "flow.html", page{Title: name + " · uxprobe", Root: "../", Refresh: h.refresh(), Data: fp})
}

func (h *Handler) runPage(w http.ResponseWriter, r *http.Request) {
	if h.storeMissing(w, true) {
		return
	}
	run, err := h.opts.Store.Run(r.Context(), r.PathValue("id"))
	if errors.Is(err, history.ErrNotFound) {
		h.render(w, http.StatusNotFound, "error.html", page{Title: "Unknown run", Root: "../", Message: "No such run: it may have been pruned by retention."})
		return
	}
	if err != nil {
		h.serverError(w, err)
		return
	}
	v := h.runView(run, "../")
	v.Frames = frameViews(run, "../")
	v.acceptForms(h.opts.Baselines != "", r.URL.Query().Get("accepted"))
	// A finished run does not change: no refresh.
	h.render(w, http.StatusOK, "run.html", page{Title: run.Result.Flow + " on " + run.Result.Device + " · uxprobe", Root: "../", Data: v})
}

// apiRun is a run as the API answers it: the result, plus where its
// artifacts are.
type apiRun struct {
	ID        string         `json:"id"`
	Result    *result.Result `json:"result"`
	Artifacts []apiArtifact  `json:"artifacts"`
	HARURL    string         `json:"har_url,omitempty"`
}

type apiArtifact struct {
	history.Artifact
	URL string `json:"url"`
}

func (h *Handler) toAPI(run history.Run) apiRun {
	out := apiRun{ID: run.ID, Result: run.Result, Artifacts: []apiArtifact{}}
	for _, a := range run.Artifacts {
		out.Artifacts = append(out.Artifacts, apiArtifact{a, artifactURL(h.opts.Prefix+"/", run.ID, a.Name)})
	}
	if _, ok := run.HAR(); ok {
		out.HARURL = h.opts.Prefix + "/api/v1/runs/" + run.ID + "/har"
	}
	return out
}

func (h *Handler) apiRuns(w http.ResponseWriter, r *http.Request) {
	if h.storeMissing(w, false) {
		return
	}
	q, err := parseQuery(r, h.opts.Now())
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	var runs []history.Run
	if loc, ok := r.URL.Query()["location"]; ok {
		if !locationPattern.MatchString(loc[0]) {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("location %q: want letters a-z, digits and -", loc[0])})
			return
		}
		if loc[0] != "" {
			// The store selects a location itself, indexed.
			q.Location = loc[0]
			runs, err = h.opts.Store.Runs(r.Context(), q)
		} else {
			runs, err = h.runsAt(r.Context(), q, "")
		}
	} else {
		runs, err = h.opts.Store.Runs(r.Context(), q)
	}
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	out := make([]apiRun, 0, len(runs))
	for _, run := range runs {
		out = append(out, h.toAPI(run))
	}
	writeJSON(w, http.StatusOK, out)
}

// maxLimit bounds one answer of /api/v1/runs.
const maxLimit = 1000

// locationPattern is what --location takes; empty selects the runs of
// agents without one.
var locationPattern = regexp.MustCompile(`^[a-z0-9-]*$`)

// locationScan bounds the runs that /api/v1/runs?location= reads to answer.
const locationScan = 10 * maxLimit

// runsAt is Runs of one location filtered here, newest first, reading at
// most locationScan of them: an old page of a rare location may come back
// short. It serves `location=` alone (the runs of agents without
// --location in a fleet), which the store's Query, where an empty Location
// selects every location, cannot say.
func (h *Handler) runsAt(ctx context.Context, q history.Query, location string) ([]history.Run, error) {
	page := q
	page.Limit, page.Offset = maxLimit, 0
	skip := q.Offset
	out := []history.Run{}
	for read := 0; read < locationScan; {
		runs, err := h.opts.Store.Runs(ctx, page)
		if err != nil {
			return nil, err
		}
		for _, r := range runs {
			if r.Result.Location != location {
				continue
			}
			if skip > 0 {
				skip--
				continue
			}
			out = append(out, r)
			if len(out) == q.Limit {
				return out, nil
			}
		}
		if len(runs) < page.Limit {
			break
		}
		read += len(runs)
		page.Offset += len(runs)
	}
	return out, nil
}

func parseQuery(r *http.Request, now time.Time) (history.Query, error) {
	v := r.URL.Query()
	q := history.Query{Flow: v.Get("flow"), Device: v.Get("device"), Limit: history.DefaultLimit}
	switch o := result.Outcome(v.Get("outcome")); o {
	case "", result.OutcomeSuccess, result.OutcomeFailure, result.OutcomeError:
		q.Outcome = o
	default:
		return q, fmt.Errorf("outcome %q: want success, failure or error", o)
	}
	if s := v.Get("since"); s != "" {
		if d, err := time.ParseDuration(s); err == nil && d > 0 {
			q.Since = now.Add(-d)
		} else if t, err := time.Parse(time.RFC3339, s); err == nil {
			q.Since = t
		} else {
			return q, fmt.Errorf("since %q: want an RFC 3339 time (2026-12-01T14:00:00Z) or a duration back from now (24h)", s)
		}
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLimit {
			return q, fmt.Errorf("limit %q: want 1 to %d", s, maxLimit)
		}
		q.Limit = n
	}
	if s := v.Get("offset"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return q, fmt.Errorf("offset %q: want a number >= 0", s)
		}
		q.Offset = n
	}
	return q, nil
}

func (h *Handler) apiRun(w http.ResponseWriter, r *http.Request) {
	if h.storeMissing(w, false) {
		return
	}
	run, err := h.opts.Store.Run(r.Context(), r.PathValue("id"))
	if errors.Is(err, history.ErrNotFound) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such run"})
		return
	}
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, h.toAPI(run))
}

func (h *Handler) apiHAR(w http.ResponseWriter, r *http.Request) {
	if h.storeMissing(w, false) {
		return
	}
	id := r.PathValue("id")
	run, err := h.opts.Store.Run(r.Context(), id)
	if err != nil && !errors.Is(err, history.ErrNotFound) {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	a, ok := run.HAR()
	if err != nil || !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "this run has no HAR (see --artifacts.har)"})
		return
	}
	w.Header().Set("Content-Disposition", `attachment; filename="`+id+`.har"`)
	h.serveArtifact(w, r, id, a.Name, "application/json")
}

func (h *Handler) apiArtifact(w http.ResponseWriter, r *http.Request) {
	if h.storeMissing(w, false) {
		return
	}
	h.serveArtifact(w, r, r.PathValue("id"), r.PathValue("name"), "")
}

func (h *Handler) serveArtifact(w http.ResponseWriter, r *http.Request, id, name, contentType string) {
	f, a, err := h.opts.Store.OpenArtifact(r.Context(), id, name)
	if errors.Is(err, history.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer f.Close()
	if contentType == "" {
		contentType = "application/octet-stream"
		switch a.Kind {
		case history.KindScreenshot, history.KindVisual:
			contentType = "image/png"
		case history.KindFrame:
			contentType = "image/jpeg"
		}
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// A run's files never change; a caller that serves a changing
	// picture under one URL (failureShot) has set its own.
	if w.Header().Get("Cache-Control") == "" {
		w.Header().Set("Cache-Control", "private, max-age=86400, immutable")
	}
	w.Header().Set("Content-Length", strconv.FormatInt(a.Bytes, 10))
	_, _ = io.Copy(w, f)
}

// apiFlow is one flow of /api/v1/flows.
type apiFlow struct {
	Flow    string      `json:"flow"`
	Devices []apiDevice `json:"devices"`
}

type apiDevice struct {
	Device string `json:"device"`
	// Location is where the runs were made; absent without locations. In
	// a fleet a flow's device comes once per location.
	Location string  `json:"location,omitempty"`
	Last     *apiRun `json:"last"`
	// SuccessRate is over the last 24 h, of the runs that tested the site
	// (agent errors left out); null without such runs.
	SuccessRate *float64 `json:"success_rate_24h"`
	Runs        int      `json:"runs_24h"`
}

func (h *Handler) apiFlows(w http.ResponseWriter, r *http.Request) {
	if h.storeMissing(w, false) {
		return
	}
	ov, err := h.buildOverview(r.Context(), "", true)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	out := make([]apiFlow, 0, len(ov.Flows))
	for _, f := range ov.Flows {
		af := apiFlow{Flow: f.Name, Devices: []apiDevice{}}
		for _, c := range f.Cells {
			if !c.Runs {
				continue
			}
			d := apiDevice{Device: c.Device, Location: c.Location, SuccessRate: c.rate, Runs: c.count}
			if c.last != nil {
				last := h.toAPI(*c.last)
				d.Last = &last
			}
			af.Devices = append(af.Devices, d)
		}
		out = append(out, af)
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) apiRunNow(w http.ResponseWriter, r *http.Request) {
	flow, device := r.PathValue("flow"), r.URL.Query().Get("device")
	if h.opts.RunNow == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "this agent does not run flows on request"})
		return
	}
	ids, err := h.opts.RunNow(flow, device)
	switch {
	case errors.Is(err, ErrUnknownFlow):
		writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
	case errors.Is(err, ErrRunning):
		writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
	case err != nil:
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
	default:
		runs := make([]string, len(ids))
		for i, id := range ids {
			runs[i] = h.opts.Prefix + "/api/v1/runs/" + id
		}
		writeJSON(w, http.StatusAccepted, map[string][]string{"ids": ids, "urls": runs})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func artifactURL(root, id, name string) string {
	return root + "api/v1/runs/" + id + "/artifacts/" + name
}
