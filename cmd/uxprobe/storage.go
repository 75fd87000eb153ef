package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/uxprobe/uxprobe/agent"
	"github.com/uxprobe/uxprobe/agent/history"
	"github.com/uxprobe/uxprobe/agent/runner"
	"github.com/uxprobe/uxprobe/agent/statuspage"
)

// Defaults of the storage flags.
const (
	defaultStoragePath = "uxprobe-data"
	defaultWebRefresh  = 30 * time.Second
)

// envStorageURL sets --storage.url's default, so that the password it may
// hold need not be on the command line (where ps shows it).
const envStorageURL = "UXPROBE_STORAGE_URL"

// storageFlags are the run history's flags, shared by run, demo and check.
type storageFlags struct {
	path string
	// url is --storage.url, the PostgreSQL history a fleet shares; it wins
	// over path. Others (the fleet's claims) use the same database: read it
	// with URL, never print it (redacted for that).
	url       string
	retention model.Duration
	size      byteSize
}

func (f *storageFlags) register(fs *flag.FlagSet, path, pathUsage string) {
	f.retention = model.Duration(history.DefaultRetention)
	f.size = history.DefaultRetentionSize
	fs.StringVar(&f.path, "storage.path", path, pathUsage)
	fs.StringVar(&f.url, "storage.url", os.Getenv(envStorageURL),
		"PostgreSQL database of a run history that several agents share (and the fleet's claims), as postgres://user@host:5432/db?sslmode=require; "+
			"the password from the URL, PGPASSWORD or PGPASSFILE, never printed; default $"+envStorageURL+"; set, it replaces --storage.path")
	fs.Var(&f.retention, "storage.retention",
		"drop runs older than this, as Prometheus' durations: 15d, 12h, 1w; 0 keeps them forever; the last failed and the last successful run of each flow and device are always kept")
	fs.Var(&f.size, "storage.retention.size",
		"bound of the history's results and artifacts, oldest runs dropped first: 512MB, 1GB (powers of 1024, as Prometheus); 0 sets no bound")
}

// enabled reports whether a history is kept.
func (f *storageFlags) enabled() bool { return f.path != "" || f.url != "" }

// URL is --storage.url (with its password: for connecting, not printing),
// empty when the history is SQLite or none.
func (f *storageFlags) URL() string { return f.url }

// where names the history for logs: the directory, or the URL without its
// password.
func (f *storageFlags) where() string {
	if f.url == "" {
		return f.path
	}
	red, _, err := history.RedactURL(f.url)
	if err != nil {
		return "(an invalid --storage.url)"
	}
	return red
}

// open opens the history, or returns nil when neither --storage.path nor
// --storage.url is set. Its errors are counted by health, which may be nil
// (check).
func (f *storageFlags) open(ctx context.Context, health *history.Health, log *slog.Logger) (*history.Store, error) {
	if !f.enabled() {
		return nil, nil
	}
	opts := history.Options{
		Retention:     time.Duration(f.retention),
		RetentionSize: int64(f.size),
		Logger:        log,
	}
	// The flags' 0 means no bound; the store's 0 means its default.
	if opts.Retention == 0 {
		opts.Retention = -1
	}
	if opts.RetentionSize == 0 {
		opts.RetentionSize = -1
	}
	if health != nil {
		health.Options(&opts)
	}
	var s *history.Store
	var err error
	if f.url != "" {
		s, err = history.OpenURL(ctx, f.url, opts)
	} else {
		s, err = history.Open(ctx, f.path, opts)
	}
	if err != nil {
		if health != nil {
			health.Failed("open", err)
		}
		return nil, err
	}
	return s, nil
}

// byteSize is a flag of bytes with Prometheus' units (B, KB, MB, GB, TB,
// powers of 1024).
type byteSize int64

var byteUnits = []struct {
	suffix string
	n      int64
}{{"TB", 1 << 40}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"B", 1}}

func (b *byteSize) Set(s string) error {
	t := strings.ToUpper(strings.TrimSpace(s))
	if t == "0" {
		*b = 0
		return nil
	}
	for _, u := range byteUnits {
		num, ok := strings.CutSuffix(t, u.suffix)
		if !ok {
			continue
		}
		n, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || n < 0 || n*float64(u.n) > 1<<62 {
			break
		}
		*b = byteSize(n * float64(u.n))
		return nil
	}
	return errors.New("want a size such as 512MB or 1GB, or 0")
}

func (b *byteSize) String() string {
	if b == nil || *b == 0 {
		return "0"
	}
	for _, u := range byteUnits {
		if int64(*b)%u.n == 0 {
			return fmt.Sprintf("%d%s", int64(*b)/u.n, u.suffix)
		}
	}
	return fmt.Sprintf("%dB", int64(*b))
}

// historyPages is the status page and the history API over the store, with
// run-now through the agent; nil without --storage.path, which keeps the
// index page. A store that failed to open still gets the pages: they say
// why there is no history.
func historyPages(a *agent.Agent, hist *history.Store, health *history.Health, f *storageFlags, refresh time.Duration, prefix, baselines string, log *slog.Logger) http.Handler {
	if !f.enabled() {
		return nil
	}
	opts := statuspage.Options{
		Flows:   a.Flows,
		RunNow:  runNow(a),
		Refresh: refresh,
		Prefix:  prefix,
		Logger:  log,
		// The run page's "accept as baseline" writes there.
		Baselines: baselines,
		StoreError: func() error {
			err, _ := health.Last()
			return err
		},
	}
	if refresh == 0 {
		opts.Refresh = -1 // the flag's 0 is never; the page's 0 its default
	}
	if hist != nil {
		opts.Store = hist
		// A damaged SQLite file moved aside is said on every page, not
		// only in /-/ready: the runs before it are gone from the view.
		opts.Notice = hist.Note
	}
	return statuspage.New(opts)
}

// runNow maps the agent's errors onto the status codes of the API.
func runNow(a *agent.Agent) func(flow, device string) ([]string, error) {
	return func(flow, device string) ([]string, error) {
		ids, err := a.RunNow(flow, device)
		switch {
		case errors.Is(err, agent.ErrUnknownFlow):
			return nil, fmt.Errorf("%w: %v", statuspage.ErrUnknownFlow, err)
		case errors.Is(err, agent.ErrFlowRunning):
			return nil, fmt.Errorf("%w: %v", statuspage.ErrRunning, err)
		}
		return ids, err
	}
}

// storageNote is /-/ready's line about the history: why it fails, how
// many runs wait for it, and a damaged file moved aside (hist may be nil).
// The agent stays ready when the store fails: readiness takes a pod out of
// its Service, and with it the metrics of runs that still work.
func storageNote(f *storageFlags, health *history.Health, hist *history.Store) func() string {
	return func() string {
		if !f.enabled() {
			return ""
		}
		var notes []string
		if err, at := health.Last(); err != nil {
			notes = append(notes, fmt.Sprintf("Run history failing since %s (runs and metrics go on; see uxprobe_storage_errors_total): %v", at.UTC().Format(time.RFC3339), err))
		}
		if n := health.Waiting(); n > 0 {
			notes = append(notes, fmt.Sprintf("%d runs wait in memory for the run history %s and are written when it answers (see uxprobe_storage_queued_runs, uxprobe_storage_dropped_total).", n, f.where()))
		}
		if hist != nil {
			if n := hist.Note(); n != "" {
				notes = append(notes, n)
			}
		}
		return strings.Join(notes, "\n")
	}
}

// harFlag is --artifacts.har.
type harFlag struct{ mode runner.HARMode }

const harUsage = "when to save a run's requests as a HAR 1.2 file (network.har beside its screenshots, and in the run history): on-failure, always or never; timings, statuses and sizes, no response bodies, secrets masked; it opens in Chrome DevTools' network panel"

func (h *harFlag) Set(s string) error {
	m, err := runner.ParseHARMode(s)
	if err != nil {
		return err
	}
	h.mode = m
	return nil
}

func (h *harFlag) String() string {
	if h == nil || h.mode == "" {
		return string(runner.HAROnFailure)
	}
	return string(h.mode)
}

// Mode is the flag's value, on-failure unless set.
func (h *harFlag) Mode() runner.HARMode {
	if h.mode == "" {
		return runner.HAROnFailure
	}
	return h.mode
}
